"""Background jobs (tree rebuilds): a local process on one host, Celery workers across hosts.

One host (``GSX_CACHE_URL`` unset or a folder): Dash's ``DiskcacheManager``
runs each rebuild in a process beside the server. Several hosts
(``redis://…``): Dash's ``CeleryManager`` queues it on the same Redis, and any
Celery worker (``celery -A app:celery_app worker``) builds the tree into the
shared cache, where every host finds it.

A Celery worker can die mid-build (killed, out of memory, its host gone); the
task then stays "started" for ever and Dash would poll it for ever. So each
running task keeps a heartbeat key fresh in Redis (`_beat`), and
`WatchedCeleryManager` answers a poll whose task has lost its heartbeat, or
has waited too long for a worker, or cannot reach Redis, with an error the
page shows (the callback's ``on_error``), and the user presses Rebuild again.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from dash import CeleryManager, DiskcacheManager

from .cache import is_redis, redacted

log = logging.getLogger("explorer.jobs")

__all__ = ["WatchedCeleryManager", "background_manager", "make_celery"]

#: A running task refreshes its heartbeat this often (s); a heartbeat older than `HEARTBEAT_TTL_S` means it is gone
HEARTBEAT_EVERY_S, HEARTBEAT_TTL_S = 2.0, 10
#: A queued task no worker has started within this long (s) is reported, so the page does not wait for ever
PENDING_LIMIT_S = 120
#: The job's bookkeeping keys (queued, started) outlive any poll of it, then go
_KEY_TTL_S = PENDING_LIMIT_S * 10
WORKER_COMMAND = "celery -A app:celery_app worker"


def _alive_key(task_id: str) -> str:
    return f"gsx:job-alive:{task_id}"


def _queued_key(task_id: str) -> str:
    return f"gsx:job-queued:{task_id}"


def _started_key(task_id: str) -> str:
    return f"gsx:job-started:{task_id}"


def make_celery(url: str) -> Any:
    """A Celery app on Redis ``url`` (broker and results), with the heartbeat every task keeps while it runs."""
    from celery import Celery, signals

    app = Celery("gravityspy_explorer", broker=url, backend=url)
    app.conf.update(
        task_track_started=True,  # shown as the job's state; the heartbeat's own keys decide whether it is lost
        worker_prefetch_multiplier=1,  # a worker takes one rebuild at a time; the rest wait for a free worker
        result_expires=3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"socket_connect_timeout": 2},
        redis_socket_connect_timeout=2,
    )
    beats: dict[str, threading.Event] = {}

    @signals.task_prerun.connect(weak=False)
    def start_beating(task_id: str, task: Any, **_: Any) -> None:
        # "started" and the first beat in one transaction: a started job without a live beat has lost its worker
        # (Celery's own STARTED state is stored after this signal, so a kill in between would leave it PENDING)
        client = task.backend.client
        client.pipeline().set(_alive_key(task_id), "1", ex=HEARTBEAT_TTL_S).set(
            _started_key(task_id), "1", ex=_KEY_TTL_S
        ).execute()
        stop = beats[task_id] = threading.Event()
        threading.Thread(target=_beat, args=(client, task_id, stop), daemon=True).start()

    @signals.task_postrun.connect(weak=False)
    def stop_beating(task_id: str, **_: Any) -> None:
        beats.pop(task_id, threading.Event()).set()

    return app


def _beat(client: Any, task_id: str, stop: threading.Event) -> None:
    """Keep ``task_id``'s heartbeat key alive until ``stop`` (a failed write is retried at the next beat)."""
    while True:
        try:
            client.set(_alive_key(task_id), "1", ex=HEARTBEAT_TTL_S)
        except Exception as exc:  # Redis briefly away: the next beat tries again
            log.warning("job %s: heartbeat not written (%s)", task_id, exc)
        if stop.wait(HEARTBEAT_EVERY_S):
            client.delete(_alive_key(task_id))
            return


def background_manager(url: str, folder: Path) -> Any:
    """Dash's background-callback manager for the cache setting ``url`` (`explorer.cache.cache_url`)."""
    if not is_redis(url):
        import diskcache

        return DiskcacheManager(diskcache.Cache(str(folder)))
    return WatchedCeleryManager(make_celery(url), where=redacted(url))


class WatchedCeleryManager(CeleryManager):
    """Dash's CeleryManager, which also reports a job that will never finish instead of polling it for ever."""

    def __init__(self, celery_app: Any, *, where: str):
        super().__init__(celery_app)
        self.where = where

    def call_job_fn(self, key: str, job_fn: Any, args: Any, context: Any) -> str:
        try:
            task_id = super().call_job_fn(key, job_fn, args, context)
            self.handle.backend.client.set(_queued_key(task_id), str(time.time()), ex=_KEY_TTL_S)
        except Exception as exc:  # kombu and redis errors alike: the queue is unreachable
            log.warning("could not queue a background job on %s: %s", self.where, exc)
            return "unqueued"  # its polls find the queue unreachable and say so
        return task_id

    def get_result(self, key: str, job: str | None) -> Any:
        try:
            result = super().get_result(key, job)
            problem = self.problem(job) if result is self.UNDEFINED and job else None
        except Exception as exc:
            problem = f"the job queue (Redis at {self.where}) is unreachable ({type(exc).__name__}: {exc})"
        if problem is None:
            return result
        log.warning("background job %s: %s", job, problem)
        message = f"{problem}. Press Rebuild again once it is back."
        return {"background_callback_error": {"msg": message, "tb": ""}}

    def job_running(self, job: str | None) -> bool:
        try:
            return bool(super().job_running(job)) and self.problem(job) is None
        except Exception:  # unreachable: nothing is running that the page can wait for
            return False

    def terminate_job(self, job: str | None) -> None:
        if job and job != "unqueued":
            try:
                super().terminate_job(job)
            except Exception as exc:
                log.warning("could not revoke background job %s: %s", job, exc)

    def problem(self, job: str | None) -> str | None:
        """Why ``job`` will never finish, or None while it may."""
        if not job or job == "unqueued":
            return "the job was never queued"
        client = self.handle.backend.client
        if client.exists(_started_key(job)) and not client.exists(_alive_key(job)):
            return f"the Celery worker building it stopped (no heartbeat for {HEARTBEAT_TTL_S} s)"
        task = self.handle.AsyncResult(job)
        state = task.state  # one read of the result backend (each .state reads it again)
        if state == "FAILURE":  # the callback's own errors are results; this is the worker's (WorkerLostError)
            return f"the Celery worker building it failed ({type(task.result).__name__}: {task.result})"
        queued = client.get(_queued_key(job))
        if state == "PENDING" and queued is not None and time.time() - float(queued) > PENDING_LIMIT_S:
            self.handle.control.revoke(job)
            return f"no Celery worker took it within {PENDING_LIMIT_S} s (is `{WORKER_COMMAND}` running?)"
        return None
