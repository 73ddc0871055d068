"""``python -m precompute``: see `precompute.cli`."""

from .cli import main

raise SystemExit(main())
