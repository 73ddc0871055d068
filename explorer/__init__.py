"""The Gravity Spy Glitch Explorer dashboard: serves one precomputed run directory.

`create_app` builds the Dash app for a run; ``app.py`` at the top level is the
command line and the WSGI entry point. Nothing here imports torch or umap:
the dashboard needs only the run directory (``precompute.rundir``) and the
torch-free clustering and audit code it shares with the pipeline.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

# Background callbacks fork the server process. Numba's OpenMP threading layer kills a child forked from a
# process that has run a parallel kernel (any re-cut does), so the dashboard uses the fork-safe "workqueue"
# layer; it is not thread-safe, hence ExplorerData's lock around every numba call. Set before numba loads.
os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")

__all__ = ["create_app"]


def create_app(run_path: str | os.PathLike[str], *, cache_dir: Path | None = None, warm: bool = True):
    """Return the Dash app serving ``run_path``.

    Parameters
    ----------
    run_path : `str` or `os.PathLike`
        A run directory written by ``python -m precompute run``; it is only read.
    cache_dir : `pathlib.Path`, optional, default: ``$GSX_CACHE_DIR`` or ``~/.cache/gravityspy-explorer``
        A writable folder for trees, cuts and background jobs, shared by all
        server workers. With ``$GSX_CACHE_URL=redis://…`` the shared cache and
        the background jobs live in Redis instead (`explorer.cache`,
        `explorer.jobs`), and the app's Celery app is
        ``app.server.config["GSX_CELERY"]``.
    warm : `bool`, optional, default: True
        Compute the run's own clustering now, so that numba's compilation (up
        to a minute on a fresh install) happens at start-up, not in the first
        user's request.

    Raises
    ------
    precompute.rundir.RunError
        If the run directory is missing, unfinished or from another version.
    explorer.density.SettingError
        If ``$GSX_DENSITY_ABOVE`` is not a whole number.
    explorer.cache.CacheSettingError
        If ``$GSX_CACHE_URL`` is neither a folder nor a Redis URL.
    """
    import dash

    from .cache import cache_url
    from .data import ExplorerData
    from .density import density_above
    from .jobs import background_manager
    from .layout import create_layout
    from .panels import register_all
    from .server import add_routes

    density_above()  # a bad $GSX_DENSITY_ABOVE or $GSX_CACHE_URL stops here, naming itself, before the run is loaded
    url = cache_url()
    data = ExplorerData(run_path, cache_dir=cache_dir)
    for warning in data.manifest.get("warnings", []):  # whole, raw exceptions included; the page words them plainly
        logging.getLogger("explorer").warning("run %s: %s", data.root.name, warning)
    if warm:
        data.warm()
    manager = background_manager(url, data.cache_dir / "jobs")
    app = dash.Dash(
        __name__,
        title="Gravity Spy Glitch Explorer",
        assets_folder=str(Path(__file__).resolve().parent.parent / "assets"),
        background_callback_manager=manager,
        suppress_callback_exceptions=True,
        serve_locally=True,
        update_title=None,
        compress=True,  # gzip (flask-compress): the first page's 9 MB of scripts travel as about 3
    )
    app.layout = create_layout(data)
    register_all(app, data)
    add_routes(app.server, data, prefix=app.config.routes_pathname_prefix, callback_map=app.callback_map)
    app.server.config["GSX_DATA"] = data
    app.server.config["GSX_CELERY"] = manager.handle if isinstance(manager, dash.CeleryManager) else None
    return app
