"""The explorer's view of one run directory, and the re-clustering it serves.

`ExplorerData` loads a run once per server process (tables, the audit, a
memory-mapped embedding matrix) and answers the questions the callbacks ask:
which images does a glitch have, who are its nearest neighbours, what does
the clustering look like for these parameters.

Re-clustering is the pipeline's own code (`precompute.cluster.ClusterTree`,
`precompute.audit.metrics.cluster_table`, `precompute.audit.findings`), not a
copy. It comes in two steps: the cut with its tables (`ExplorerData.view`:
what the map's colours and the cluster table need, under a second at 700,000
points) and the audit's findings on that cut (`ExplorerData.findings`: seconds
at that size, so the callbacks that need them run apart and the table's flags
follow). Trees (one per ``min_samples``), cuts and findings (one per parameter
set) are kept in the shared cache (`explorer.cache`: diskcache under the cache
directory on one host, Redis across hosts), so every gunicorn worker shares
them; the run directory itself is never written and may be
mounted read-only. Nothing here is per-user state: each user's parameters
live in their browser (``dcc.Store``) and are passed in with every request.

This module, like the whole dashboard, imports neither torch nor umap.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, fields
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from precompute.audit.findings import Findings, all_findings, registry_digest
from precompute.audit.groups import TwoGroups, label_groups
from precompute.audit.metrics import GlobalMetrics, cluster_table, global_metrics
from precompute.audit.params import FindingParams
from precompute.audit.sources import SIDE_COLUMNS, has_both_labels
from precompute.audit.suspicion import CLUSTER_PART, cluster_evidence, neighbour_evidence
from precompute.cluster import NOISE_LABEL, ClusterParams, ClusterTree, check_fits
from precompute.rundir import Run, load_run

from .cache import cache_url, open_cache
from .figures import colour_modes
from .review import ReviewOff, ReviewStore, open_review

log = logging.getLogger("explorer")

__all__ = ["ClusterView", "ExplorerData", "default_cache_dir"]

#: Upper bound on min_cluster_size / min_samples accepted from a request (before the data-size bound).
MAX_PARAM = 100_000
#: What a glitch without a volunteer consensus is counted as when the tables compare with the volunteers.
NO_CONSENSUS = "(no consensus)"


def default_cache_dir() -> Path:
    """``$GSX_CACHE_DIR``, else ``~/.cache/gravityspy-explorer`` (must be writable; the run need not be)."""
    return Path(os.environ.get("GSX_CACHE_DIR") or Path.home() / ".cache" / "gravityspy-explorer")


@dataclass(frozen=True)
class ClusterView:
    """One clustering of the run: labels per point and the tables derived from them."""

    params: ClusterParams
    labels: np.ndarray
    probabilities: np.ndarray
    table: pd.DataFrame  #: precompute.audit.metrics.cluster_table
    metrics: GlobalMetrics  #: clusters vs human labels
    source: str = "label"  #: the label column the tables compare with (`ExplorerData.label_sources`)

    @property
    def cut_id(self) -> str:
        """A short name of this cut (parameters and label source): rows of different cuts never share an id."""
        form = json.dumps([self.params.as_dict(), self.source], sort_keys=True)
        return hashlib.sha256(form.encode()).hexdigest()[:10]

    @property
    def n_clusters(self) -> int:
        return int(self.labels.max() + 1) if len(self.labels) and self.labels.max() >= 0 else 0

    @property
    def noise_fraction(self) -> float:
        return float(np.mean(self.labels == NOISE_LABEL))


@cache
def _view_format() -> str:
    """What a cached `ClusterView` or findings hold: the view's fields and every kind of finding's form.

    Part of every view's and findings' cache key, so a shared disk cache never serves
    what an older version computed: adding a kind of finding, or changing one, changes it.
    """
    form = json.dumps([[f.name for f in fields(ClusterView)], registry_digest()])
    return hashlib.sha256(form.encode()).hexdigest()[:12]


class ExplorerData:
    """A loaded run plus the shared caches the dashboard needs."""

    def __init__(self, run_path: str | os.PathLike[str], *, cache_dir: Path | None = None):
        # absolute, so that files it names (previews) do not depend on the server's working directory
        self.run: Run = load_run(Path(run_path).resolve())
        self.root = self.run.root
        self.manifest = self.run.manifest
        self.points = self._points_with_audit()
        self.images = self.run.images
        self.n_points = len(self.points)
        identity = f"{self.root}|{self.manifest['created_utc']}|{self.n_points}"
        self.run_id = hashlib.sha256(identity.encode()).hexdigest()[:16]
        cache_root = Path(cache_dir) if cache_dir else default_cache_dir()
        self.cache_dir = cache_root / "explorer"
        #: views, findings and trees shared by every worker (and every host with Redis): `explorer.cache`
        self.cache = open_cache(cache_url(), self.cache_dir / "shared")
        self.run_params = ClusterParams(**self.manifest["cluster_params_used"])
        self.finding_params = FindingParams()
        self.label_groups = self._label_groups()
        #: numba's workqueue layer (explorer/__init__.py) must not run two parallel kernels at once
        self._numba_lock = threading.Lock()
        #: one computation per clustering: callbacks fired together by one change wait for the first
        self._view_lock = threading.Lock()
        self._views: dict[str, ClusterView] = {}
        #: the findings' own lock, so the table and colours never wait behind a findings computation
        self._findings_lock = threading.Lock()
        self._findings: dict[str, Findings] = {}

    # -- loading ----------------------------------------------------------------

    def _points_with_audit(self) -> pd.DataFrame:
        points = self.run.points.copy()
        points["label"] = points["label"].astype(str)
        glitches = self.run.root / "audit" / "glitches.csv"
        if glitches.is_file():
            audit = pd.read_csv(glitches, dtype={"gravityspy_id": str})
            if len(audit) == len(points):
                for column in ("agreement", "suspicion", "proposed_label", "evidence", *SIDE_COLUMNS):
                    if column in audit:
                        points[column] = audit[column].to_numpy()
        for column, default in (("suspicion", np.nan), ("proposed_label", None), ("evidence", "")):
            if column not in points:
                points[column] = default if default is not None else points["label"]
        if "intensity" not in points:
            points["intensity"] = np.nan
        return points

    @cached_property
    def embeddings(self) -> np.ndarray:
        """(n_points, d) float32, memory-mapped; rows L2-normalised on first use for cosine neighbours."""
        vectors = np.asarray(self.run.embeddings(), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    @cached_property
    def _image_rows(self) -> tuple[np.ndarray, np.ndarray, pa.Array, pa.Array]:
        """Each point's images: (first, count) per point into the windows and keys sorted by glitch, then window.

        Arrays rather than a dict of lists: at 700,000 glitches (2.8 M images)
        the dict took 20 s and 780 MB in every worker; this takes about a second.
        """
        glitch, names = pd.factorize(self.images["gravityspy_id"].astype("str"))
        window, windows = pd.factorize(self.images["window"].astype("str"))
        window_rank = np.argsort(np.argsort(np.asarray(windows, dtype=str)))  # windows in their text's order
        order = np.lexsort((window_rank[window], glitch))
        counts = np.bincount(glitch, minlength=len(names))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        of_point = pd.Index(names).get_indexer(self.points["gravityspy_id"].astype("str"))
        found = of_point >= 0
        first, count = np.where(found, starts[of_point], 0), np.where(found, counts[of_point], 0)

        def sorted_column(name: str) -> pa.Array:
            column = pa.array(self.images[name].astype("str"))  # the column's own Arrow buffers, not a copy
            return (column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column).take(order)

        return first, count, sorted_column("window"), sorted_column("key")

    def image_keys(self, point: int) -> list[tuple[str, str]]:
        """(window, content key) of every image of ``point``'s glitch, in window order."""
        first, count, windows, keys = self._image_rows
        start, length = int(first[point]), int(count[point])
        return list(zip(windows.slice(start, length).to_pylist(), keys.slice(start, length).to_pylist(), strict=True))

    @cached_property
    def image_kinds(self) -> frozenset[str]:
        """The kinds of image the run's previews come from (`precompute.io.dataset.IMAGE_KINDS`)."""
        return frozenset(self.images["kind"].astype(str).unique()) if "kind" in self.images else frozenset({"plain"})

    @cached_property
    def point_of_id(self) -> dict[str, int]:
        """gravityspy_id -> its first point (a glitch's only point, or its first window's with one point per image)."""
        out: dict[str, int] = {}
        for point, gid in enumerate(self.points["gravityspy_id"].astype(str)):
            out.setdefault(gid, point)
        return out

    @cached_property
    def _sorted_keys(self) -> pa.Array:
        """This run's distinct image content keys, sorted, for `is_known_key`'s bisection.

        A frozenset of 2.8 M key strings took 4 s and about 600 MB in every worker; this keeps the keys' bytes once.
        """
        keys = pa.array(self.images["key"].astype("str")).unique().drop_null()
        return keys.take(pc.sort_indices(keys))

    def is_known_key(self, key: str) -> bool:
        """Whether ``key`` is the content key of one of this run's images: the only previews the server sends."""
        keys = self._sorted_keys
        at = bisect.bisect_left(keys, key, key=lambda scalar: scalar.as_py())
        return at < len(keys) and keys[at].as_py() == key

    def warm(self) -> None:
        """Compute now what the first requests would otherwise wait for: the run's own cut and findings, the indexes."""
        self.findings(self.view(self.run_params))
        for index in ("_image_rows", "_sorted_keys", "point_of_id"):
            getattr(self, index)

    @cached_property
    def audit_summary(self) -> dict[str, Any]:
        path = self.run.root / "audit" / "summary.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    @cached_property
    def corrections(self) -> pd.DataFrame:
        path = self.run.root / "audit" / "corrections.csv"
        return pd.read_csv(path, dtype={"gravityspy_id": str}) if path.is_file() else pd.DataFrame()

    @cached_property
    def review(self) -> ReviewStore | ReviewOff:
        """Where curators' decisions go (``GSX_REVIEW_DB``), or why deciding is off; opened on first use."""
        return open_review()

    @cached_property
    def labels(self) -> list[str]:
        return sorted(self.points["label"].unique())

    @cached_property
    def label_sources(self) -> dict[str, str]:
        """The label columns the cluster tables can compare with: column -> menu text.

        Only the run's ``label`` for a training set. A run of archive images
        (``precompute fetch --consensus``) has the machine's and the volunteers'
        labels too; its ``label`` is the machine's, so the menu names it so.
        """
        points = self.points
        if not has_both_labels(points.columns):
            return {"label": "Run's labels"}
        same = bool((points["label"].astype(str) == points["ml_label"].astype(str)).all())
        first = {"label": "Machine (ml_label)"} if same else {"label": "Run's labels", "ml_label": "Machine (ml_label)"}
        return {**first, "volunteer_label": "Volunteers' consensus"}

    def source_of(self, raw: Any) -> str:
        """A label source from a request: one of `label_sources`, else the run's labels (never an error)."""
        return raw if isinstance(raw, str) and raw in self.label_sources else "label"

    def labels_for(self, source: str) -> np.ndarray:
        """Every point's label in ``source`` (`label_sources`) as strings; `NO_CONSENSUS` where the volunteers gave none."""
        return self._labels_by_source[self.source_of(source)]

    @cached_property
    def _labels_by_source(self) -> dict[str, np.ndarray]:
        """`labels_for` of every source, computed once per process (the cluster panel asks on every request)."""
        out = {}
        for source in self.label_sources:
            column = self.points[source]
            out[source] = column.astype(object).where(column.notna(), NO_CONSENSUS).astype(str).to_numpy()
        return out

    def label_codes(self, source: str) -> pd.Categorical:
        """`labels_for` coded once (sorted categories): what each re-cut's tables count, without reading strings."""
        return self._codes_by_source[self.source_of(source)]

    @cached_property
    def _codes_by_source(self) -> dict[str, pd.Categorical]:
        return {source: pd.Categorical(labels) for source, labels in self._labels_by_source.items()}

    @cached_property
    def colour_modes(self) -> dict[str, str]:
        """The map's colour modes this run can show (`explorer.figures.colour_modes`): value -> menu text."""
        return colour_modes(self.points)

    def preview_path(self, key: str, size: str) -> Path | None:
        """The file of a preview, or None unless ``key`` is one of this run's images and ``size`` is known."""
        if size not in ("thumb", "detail") or not self.is_known_key(key):
            return None
        path = self.run.preview_path(key, size)
        return path if path.is_file() else None

    @cached_property
    def _neighbour_evidence(self) -> np.ndarray:
        """Each point's evidence about its neighbours (the audit's, true in every clustering)."""
        return np.array([neighbour_evidence(e) for e in self.points["evidence"].astype(str)], dtype=object)

    def evidence(self, points: Any, view: ClusterView) -> list[str]:
        """The evidence line of each of ``points`` in ``view``'s clustering: its neighbours as the audit counted
        them, and what its cluster holds in this cut (the run's own line names the run's cluster, which another
        cut may not have)."""
        table = (view if view.source == "label" else self.view(view.params)).table
        tops = dict(zip(table["cluster"], zip(table["top_label"], table["purity"], strict=True), strict=True))
        out = []
        for point in np.atleast_1d(np.asarray(points, dtype=int)):
            cluster = int(view.labels[point])
            clustered = cluster_evidence(cluster, *tops.get(cluster, ("", 0.0)))
            near = self._neighbour_evidence[point]
            out.append(f"{near}{CLUSTER_PART}{clustered}" if near else clustered)
        return out

    # -- neighbours -------------------------------------------------------------

    def neighbours(self, point: int, k: int = 8) -> list[tuple[int, float]]:
        """The ``k`` nearest points to ``point`` in embedding space (cosine similarity), nearest first.

        Read from the audit's own neighbour search (``audit/neighbours.npy``: exact or approximate by size,
        `precompute.audit.neighbours`), so the panel and the audit's evidence name the same neighbours and a
        click costs k dot products, not a pass over every vector. Runs without the file are searched here.
        """
        k = min(k, self.n_points - 1)
        table = self.neighbour_table
        if table is not None and k <= table.shape[1]:
            nearest = np.asarray(table[point, :k], dtype=np.intp)
            similarity = self.embeddings[nearest] @ self.embeddings[point]
            return [(int(i), float(s)) for i, s in zip(nearest, similarity, strict=True)]
        similarity = self.embeddings @ self.embeddings[point]
        similarity[point] = -np.inf
        nearest = np.argpartition(-similarity, k)[:k] if k < self.n_points - 1 else np.arange(self.n_points)
        nearest = nearest[np.argsort(-similarity[nearest], kind="stable")]
        return [(int(i), float(similarity[i])) for i in nearest if i != point][:k]

    @cached_property
    def neighbour_table(self) -> np.ndarray | None:
        """``audit/neighbours.npy`` memory-mapped, when the run has one of the right length."""
        path = self.run.root / "audit" / "neighbours.npy"
        if not path.exists():
            return None
        try:
            table = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            log.warning("ignoring %s (%s); neighbours are searched per click instead", path, exc)
            return None
        return table if table.ndim == 2 and len(table) == self.n_points else None

    # -- re-clustering ------------------------------------------------------------

    def params_from(self, raw: dict[str, Any] | None) -> ClusterParams:
        """Validated parameters from a request (a dict from the browser); the run's own when absent.

        Raises `precompute.cluster.ClusterParamError` (a ValueError) naming the bad field.
        """
        if not raw:
            return self.run_params
        if not isinstance(raw, dict):
            raise ValueError(f"cluster parameters must be an object, got {type(raw).__name__}")
        values = {**self.run_params.as_dict(), **{k: raw[k] for k in raw if k in self.run_params.as_dict()}}
        for name in ("min_cluster_size", "min_samples"):
            value = values[name]
            if isinstance(value, float) and value.is_integer():
                values[name] = int(value)
            if isinstance(values[name], int) and not isinstance(values[name], bool) and values[name] > MAX_PARAM:
                raise ValueError(f"{name} must be at most {MAX_PARAM}, got {values[name]}")
        if isinstance(values["epsilon"], int) and not isinstance(values["epsilon"], bool):
            values["epsilon"] = float(values["epsilon"])
        params = ClusterParams(**values)
        check_fits(self.n_points, min_samples=params.min_samples, min_cluster_size=params.min_cluster_size)
        return params

    def has_tree(self, min_samples: int) -> bool:
        """Whether the tree for ``min_samples`` is ready (in the run or the shared cache)."""
        from precompute.rundir import tree_path

        return tree_path(self.run.root, min_samples).exists() or self.cache.has(self._tree_key(min_samples))

    def _tree_key(self, min_samples: int) -> str:
        return f"tree/{self.run_id}/{int(min_samples)}"

    def tree(self, min_samples: int, *, build: bool = False) -> ClusterTree:
        """The tree for ``min_samples``, from the run or the shared cache; built now only when ``build``.

        Building takes seconds at 34k points and runs numba's parallel code, so
        the dashboard builds only in its background callback, never in a
        request (a request for a missing tree gets a `ValueError`).
        """
        tree = self.run.tree(min_samples)
        if tree is not None:
            return tree
        key = self._tree_key(min_samples)
        linkage = self.cache.get(key)
        if linkage is None and not build:
            raise ValueError(f"no tree for min_samples={min_samples} yet; rebuild it first")
        if linkage is None:
            coords = self.points[["x", "y"]].to_numpy(dtype=np.float64)
            with self._numba_lock:
                linkage = ClusterTree.build(coords, min_samples).linkage
            self.cache.set(key, linkage)
        return ClusterTree.from_linkage(linkage, min_samples)

    def _key(self, what: str, params: ClusterParams, source: str) -> str:
        return (
            f"{what}/{_view_format()}/{self.run_id}/{self.finding_params.digest()}/{source}/"
            f"{json.dumps(params.as_dict(), sort_keys=True)}"
        )

    def view(self, params: ClusterParams, source: str = "label") -> ClusterView:
        """The clustering for ``params`` with its tables (not its findings: `findings`), cut from its cached tree.

        Computed once per parameter set and kept twice: in this process (the
        few most recent, so the callbacks one change fires share it) and in the
        shared disk cache (so other workers and later requests skip the work).
        ``source`` is the label column its tables compare with (`label_sources`).
        Raises `ValueError` when the tree for ``params.min_samples`` has not been built.
        """
        source = self.source_of(source)
        key = self._key("view", params, source)
        return _cached(self._views, self.cache, key, self._view_lock, lambda: self._compute_view(params, source))

    def findings(self, view: ClusterView) -> Findings:
        """The audit's findings on ``view``'s clustering, by kind (`precompute.audit.findings.all_findings`).

        Seconds at 700,000 points (the pair rules' permutation nulls), so kept
        apart from `view` and cached the same two ways under their own lock.
        """
        key = self._key("findings", view.params, view.source)
        return _cached(self._findings, self.cache, key, self._findings_lock, lambda: self._compute_findings(view))

    def findings_ready(self, view: ClusterView) -> bool:
        """Whether `findings` would answer ``view`` without computing."""
        key = self._key("findings", view.params, view.source)
        return key in self._findings or self.cache.has(key)

    def flags(self, view: ClusterView) -> dict[int, str]:
        """Each cluster's kinds of finding, comma-separated (the cluster table's ``flags``); computes `findings`."""
        flags: dict[int, set[str]] = {}
        for kind, items in self.findings(view).items():
            for finding in items:
                for cluster in finding.clusters_involved():
                    flags.setdefault(int(cluster), set()).add(kind)
        return {cluster: ", ".join(sorted(kinds)) for cluster, kinds in flags.items()}

    def view_for(self, raw: dict[str, Any] | None, source: str | None = None) -> ClusterView:
        """The clustering a user's stored parameters ask for; the run's own if they are invalid or its tree unbuilt.

        What every callback reads: parameters arrive from the browser with each
        request, and a bad or stale value must never fail a panel. ``source``:
        the label source the tables compare with (`label_sources`; the run's labels when absent or unknown).
        """
        source = self.source_of(source)
        try:
            return self.view(self.params_from(raw), source)
        except ValueError:
            return self.view(self.run_params, source)

    def _compute_view(self, params: ClusterParams, source: str = "label") -> ClusterView:
        tree = self.tree(params.min_samples)
        with self._numba_lock:
            result = tree.cut(params, outliers=False)  # the dashboard shows no outlier scores
        labels = result.labels.astype(np.int32)
        probabilities = result.probabilities.astype(np.float32)
        human = self.label_codes(source)
        return ClusterView(
            params=params,
            labels=labels,
            probabilities=probabilities,
            table=cluster_table(labels, human, probabilities=probabilities, persistence=result.persistence),
            metrics=global_metrics(labels, human),
            source=source,
        )

    def _compute_findings(self, view: ClusterView) -> Findings:
        points = self.points.assign(
            cluster=view.labels, probability=view.probabilities, label=self.labels_for(view.source)
        )
        # the label groups rest on the audit's neighbour agreement, computed for the run's labels only
        groups = self.label_groups if view.source == "label" else None
        return all_findings(points, self.finding_params, self.embeddings, groups)  # the audit's own

    def _label_groups(self) -> dict[str, TwoGroups] | None:
        """Labels holding two shapes by Omicron parameters and neighbours (precompute.audit.groups).

        Independent of the clustering, so computed once, when the run is loaded, and shared by every re-cut.
        None (splits from clusters only) without Omicron parameters, or without the audit's per-glitch
        neighbour agreement: recomputing that is the audit's job (``python -m precompute audit``), not a
        page load's.
        """
        if "agreement" not in self.points:
            return None
        return label_groups(self.points, self.embeddings, self.finding_params, self.points["agreement"].to_numpy())


def _cached(memory: dict[str, Any], shared: Any, key: str, lock: threading.Lock, compute: Any) -> Any:
    """``memory[key]``, else the shared disk cache's, else ``compute()`` stored in both; one computation at a time.

    ``memory`` keeps the eight most recent, so the callbacks one change fires share one result.
    """
    value = memory.get(key)
    if value is not None:
        return value
    with lock:
        value = memory.get(key)
        if value is None:
            value = shared.get(key)
        if value is None:
            value = compute()
            shared.set(key, value)
        memory[key] = value
        while len(memory) > 8:
            memory.pop(next(iter(memory)))
    return value
