"""Exceptions that carry a message a user can act on.

Every error raised for bad input names the file or field, the offending value
and the fix. The CLI prints these without a traceback; anything else is a bug.
"""

from __future__ import annotations

__all__ = ["DataError", "PlanError", "PrecomputeError"]


class PrecomputeError(Exception):
    """Base class of the errors the CLI reports as plain messages."""


class DataError(PrecomputeError, ValueError):
    """A data set on disk cannot be read as asked (missing columns, no images, ...)."""


class PlanError(PrecomputeError, ValueError):
    """A synthetic-data plan is malformed or inconsistent."""
