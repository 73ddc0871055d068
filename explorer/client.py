"""What Dash's renderer posts for a callback, for the scripts and tests that talk to a running explorer over HTTP."""

from __future__ import annotations

from typing import Any

__all__ = ["callback_body"]


def callback_body(output: str, inputs: list[dict], state: list[dict] | None = None) -> dict[str, Any]:
    """The JSON body of ``POST /_dash-update-component`` for one callback.

    ``output`` is the callback's key in ``app.callback_map`` (``"..a.prop...b.prop.."`` for several
    outputs; duplicate outputs carry their ``@hash``); ``inputs`` and ``state`` are
    ``{"id", "property", "value"}`` dicts in the callback's order.
    """
    outputs = [
        dict(zip(("id", "property"), part.split(".", 1), strict=True)) for part in output.strip(".").split("...")
    ]
    return {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs],
    }
