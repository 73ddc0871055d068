"""The dashboard's callbacks posted over HTTP as the browser posts them, for tests that run real servers.

The callbacks' shapes come from the server's own ``/_dash-dependencies``, so a renamed input fails here the way
it would fail in a browser.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request

from explorer.client import callback_body


def status_text(answer: dict) -> str:
    """What the page says about a tree rebuild, from a background callback's answer (`Page.answer`)."""
    return json.dumps(answer.get("tree-status", {}))


def post(url: str, body: dict, *, timeout: float = 60) -> tuple[int, dict]:
    """POST one callback body to ``/_dash-update-component``: the status and the JSON reply."""
    request = urllib.request.Request(
        f"{url}/_dash-update-component", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as exc:
        return exc.code, {"body": exc.read().decode(errors="replace")}


class Page:
    """The two callbacks a curator uses here, posted as the browser posts them (from ``/_dash-dependencies``)."""

    def __init__(self, url: str, run_params: dict):
        self.url = url
        self.run_params = run_params  #: the run's own clustering (its manifest's cluster_params_used)
        with urllib.request.urlopen(f"{url}/_dash-dependencies", timeout=30) as response:
            deps = json.loads(response.read())
        self.rebuild_spec = next(d for d in deps if any(i["id"] == "rebuild" for i in d["inputs"]))
        self.table_spec = next(d for d in deps if "cluster-grid.rowData" in d["output"])

    def _body(self, spec: dict, values: dict) -> dict:
        inputs = [{**i, "value": values.get(i["id"])} for i in spec["inputs"]]
        state = [{**s, "value": values.get(s["id"])} for s in spec.get("state", [])]
        return callback_body(spec["output"], inputs, state)

    def press_rebuild(self, min_samples: int) -> tuple[dict, str]:
        """Press Rebuild: the request's body and the query (job handles) the renderer then polls with."""
        body = self._body(
            self.rebuild_spec, {"rebuild": 1, "min-samples": min_samples, "cluster-params": self.run_params}
        )
        status, reply = post(self.url, body)
        assert status == 200, reply
        return body, "?" + urllib.parse.urlencode({"cacheKey": reply["cacheKey"], "job": reply["job"]})

    def answer(self, body: dict, query: str, *, timeout: float = 120) -> dict:
        """Poll the background callback as the renderer does until it answers; its answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            request = urllib.request.Request(
                f"{self.url}/_dash-update-component{query}", data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            with urllib.request.urlopen(request, timeout=60) as response:
                text = response.read()
            if text and "response" in json.loads(text):
                return json.loads(text)["response"]
            time.sleep(0.3)
        raise AssertionError(f"the rebuild did not answer within {timeout} s")

    def rebuild(self, min_samples: int) -> dict:
        return self.answer(*self.press_rebuild(min_samples))

    def clusters(self, params: dict) -> tuple[int, list[dict]]:
        status, reply = post(self.url, self._body(self.table_spec, {"cluster-params": params, "label-source": "label"}))
        rows = reply.get("response", {}).get("cluster-grid", {}).get("rowData", []) if status == 200 else []
        return status, rows
