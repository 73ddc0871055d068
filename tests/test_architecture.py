"""The code's shape, held by tests: who may import torch and umap, no import circles, short functions, and
findings whose kinds are plugged in by registration alone."""

from __future__ import annotations

import ast
import json
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from precompute.audit import findings as findings_package
from precompute.audit.findings import (
    Finding,
    FindingView,
    PlantedTruth,
    _base,
    all_findings,
    findings_as_dict,
    kinds,
    registry_digest,
)
from precompute.audit.params import FindingParams

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(ROOT / "precompute").rglob("*.py"), *(ROOT / "explorer").rglob("*.py"), ROOT / "app.py"])
#: Most lines of code a function may have (its docstring not counted).
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    """Absolute names of the modules ``path`` imports, relative imports resolved (TYPE_CHECKING ones included:
    a circle a type checker must untangle is still a circle to a reader)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    names: set[str] = set()

    def visit(node: ast.AST, depth: int) -> None:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
        inside = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        if top_level_only and inside:
            return
        for child in ast.iter_child_nodes(node):
            visit(child, depth + inside)

    visit(tree, 0)
    return names


@pytest.mark.parametrize(("library", "owner"), [("torch", "precompute/embed.py"), ("torchvision", "precompute/embed.py"),
                                                ("umap", "precompute/reduce.py")])  # fmt: skip
def test_heavy_libraries_are_imported_by_one_module_only(library, owner):
    importers = [
        str(path.relative_to(ROOT))
        for path in SOURCES
        if any(name == library or name.startswith(f"{library}.") for name in _imports(path))
    ]
    assert importers == [owner]


def test_the_dashboard_imports_only_the_torch_free_part_of_precompute():
    allowed = (
        "precompute.cluster", "precompute.audit", "precompute.rundir", "precompute.classes", "precompute.errors",
        "precompute.decisions", "precompute.plotarea",
    )  # fmt: skip
    used = {
        (str(path.relative_to(ROOT)), name)
        for path in [ROOT / "app.py", *(ROOT / "explorer").rglob("*.py")]
        for name in _imports(path)
        if name.startswith("precompute.")
    }
    assert used, "the check found no import of precompute: it would pass whatever the dashboard imports"
    assert not {(where, name) for where, name in used if not name.startswith(allowed)}


def test_no_module_of_precompute_or_explorer_imports_another_in_a_circle():
    modules = {_module_name(path): path for path in SOURCES if path.name != "app.py"}
    graph = {
        name: {m for m in _imports(path, top_level_only=True) if m in modules and m != name}
        for name, path in modules.items()
    }
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def cycle_from(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt]
            if nxt not in state and (found := cycle_from(nxt, [*stack, nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = cycle_from(start, [start])
            assert found is None, f"import circle: {' -> '.join(found)}"
    assert graph["precompute.audit.groups"], "the graph holds no edges: the check would find no circle"


def test_no_function_is_longer_than_the_limit():
    long = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                lines = node.end_lineno - (body[0].lineno if body else node.lineno) + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long


# -- findings: kinds plug in by registration --------------------------------------------------------------


def test_every_module_of_the_findings_package_registers_a_kind_and_every_kind_is_listed_once():
    public = [m.name for m in pkgutil.iter_modules(findings_package.__path__) if not m.name.startswith("_")]
    modules = {cls.__module__.rsplit(".", 1)[1] for cls in kinds()}
    assert set(public) == modules  # each kind in a module of its own, found without a list to edit
    assert [cls.kind for cls in kinds()] == ["merge", "continuum", "overlap", "split", "novel", "cannot_tell"]
    assert len({cls.order for cls in kinds()}) == len(kinds())
    assert all(cls.title for cls in kinds())


@dataclass(frozen=True, kw_only=True)
class _Loudest(Finding):
    """A kind defined outside the package, as a new module would: the loudest cluster."""

    kind: ClassVar[str] = "loudest"
    title: ClassVar[str] = "The loudest cluster"
    order: ClassVar[int] = 99
    planted_as: ClassVar[str | None] = "planted loud shapes"

    cluster: int

    @classmethod
    def detect(cls, context):
        snr = context.points.groupby("cluster")["snr"].mean().drop(index=-1, errors="ignore")
        return [cls(cluster=int(snr.idxmax()))] if len(snr) else []

    def clusters_involved(self):
        return [self.cluster]

    def view(self):
        return FindingView(f"cluster {self.cluster} is the loudest")

    @classmethod
    def planted(cls, plan):
        return [m["cluster"] for m in plan.get("mechanisms", []) if m["kind"] == "loud"]

    def hits(self, planted, truth):
        return self.cluster == planted


def test_a_registered_kind_reaches_the_audit_files_the_cli_the_cache_key_and_the_evaluation(monkeypatch):
    from precompute.audit.evaluate import _score_findings

    before = registry_digest()
    monkeypatch.setitem(_base._REGISTRY, "loudest", _Loudest)
    points = pd.DataFrame(
        {
            "gravityspy_id": [f"g{i}" for i in range(12)],
            "label": ["Blip"] * 6 + ["Whistle"] * 6,
            "cluster": [0] * 6 + [1] * 6,
            "x": np.arange(12.0),
            "y": np.zeros(12),
            "snr": [5.0] * 6 + [50.0] * 6,
        }
    )
    found = all_findings(points, FindingParams(), None, None)
    assert list(found) == [*(k.kind for k in kinds() if k is not _Loudest), "loudest"]
    assert found["loudest"] == [_Loudest(cluster=1)]
    assert json.loads(json.dumps(findings_as_dict(found)))["loudest"] == [{"kind": "loudest", "cluster": 1}]
    assert found["loudest"][0].cli_line() == "loudest: cluster 1 is the loudest"
    assert registry_digest() != before  # the dashboard's view cache key changes with it
    truth = PlantedTruth(morphology=np.array(["Blip"] * 12), clusters=points["cluster"].to_numpy())
    scores = _score_findings(found, {"mechanisms": [{"kind": "loud", "cluster": 1}]}, truth)
    assert scores["loudest"]["recall"] == 1.0
    assert scores["loudest"]["precision"] == 1.0
