"""Where a queued index job runs: a Celery worker, a thread of the server, or the caller's thread.

``dispatch(job_id)`` is the one place that decides, once the job's row has committed:

=====================  ===========================================================================
broker configured      ``tasks.run_index_job.delay``: a Celery worker runs it (``REDIS_URL`` set).
in-process worker      the embedded default (no broker) inside a server process: this module's
                       daemon thread runs queued jobs one at a time, oldest first, so a request
                       that started a job (the console's Re-index, an index tool) returns at once.
neither                the caller's thread runs it to the end before ``dispatch`` returns (a
                       ``manage.py`` command or a test without a server: nothing else would).
=====================  ===========================================================================

The server starts the thread (``start()``, from ``mcprag_site.asgi``) when no broker is
configured; it first takes the jobs already queued (e.g. the embeddings job that ``manage.py
index_repo`` leaves behind), then waits to be woken by ``dispatch``, and looks again every
``POLL_S`` seconds for jobs queued by other processes. When the process exits (Ctrl-C,
SIGTERM) the running job stops at its next batch and is queued again for the next start
(``stop``). Claiming is a conditional update in ``jobs.IndexJobRunner.start``, so two processes
never run one job.

Where no broker is configured there is no Celery beat either, so the same thread also runs the
periodic tasks of ``CELERY_BEAT_SCHEDULE`` (scheduled git syncs, the audit rollups and retention,
expired-token cleanup, abandoned jobs): each once soon after the thread starts, then whenever its
schedule is due again (Celery's own ``schedule.is_due``), between two jobs. A task that fails is
logged and tried again at its next turn. ``MCPRAG_PERIODIC_TASKS=false`` turns this off (for a
deployment that runs ``celery beat`` against the same database anyway).
"""

from __future__ import annotations

import atexit
import logging
import threading

from django.db import close_old_connections, connections

__all__ = ["dispatch", "start", "stop", "stop_at_signals", "running", "broker_configured", "stopping_here", "Stopping",
           "run_due_periodic", "POLL_S", "EXIT_WAIT_S"]

log = logging.getLogger(__name__)

#: Seconds between looks for jobs queued by another process (``manage.py index_repo``).
POLL_S = 5.0
#: At exit, how long the process waits for the running job to reach its next batch and stop.
EXIT_WAIT_S = 10.0

_wake = threading.Event()
_stopping = threading.Event()
_thread: threading.Thread | None = None
_lock = threading.Lock()
_exit_hook = False
#: When each ``CELERY_BEAT_SCHEDULE`` entry last ran in this process (its name → aware datetime).
_periodic_last_run: dict = {}
_tasks_imported = False


class Stopping(BaseException):
    """Raised inside a job the worker thread runs, between two batches, once ``stop`` is called:
    the job goes back to the queue (``jobs.IndexJobRunner``) and the next start resumes it, where
    unchanged files and chunks that have their vectors are not done again. A ``BaseException``,
    so no ``except Exception`` on the way swallows it."""


def stopping_here() -> bool:
    """Whether this is the worker thread and ``stop`` was called: a running job asks after each
    batch (``jobs.IndexJobRunner.progress``), records its progress, then raises ``Stopping``.
    Other threads are never stopped."""
    return _stopping.is_set() and threading.current_thread().name == _THREAD_NAME


_THREAD_NAME = "mcprag-index-worker"


def running() -> bool:
    """Whether this process runs the in-process worker thread."""
    return _thread is not None and _thread.is_alive() and not _stopping.is_set()


def broker_configured() -> bool:
    """Whether Celery sends tasks to a broker (``REDIS_URL`` set) rather than running them eagerly."""
    from celery import current_app

    return not current_app.conf.task_always_eager


def dispatch(job_id: int) -> None:
    """Hand the queued job ``job_id`` to whatever runs jobs here (see the module docstring)."""
    if broker_configured():
        from .tasks import run_index_job

        run_index_job.delay(job_id)
    elif running():
        _wake.set()
    else:
        from .jobs import run_job

        run_job(job_id)


def start() -> bool:
    """Start the worker thread (once per process); False when a broker runs jobs instead."""
    global _thread, _exit_hook
    if broker_configured():
        return False
    with _lock:
        if not running():
            _stopping.clear()
            _thread = threading.Thread(target=_loop, name=_THREAD_NAME, daemon=True)
            _thread.start()
        if not _exit_hook:  # a job inside torch while the interpreter shuts down aborts the process
            atexit.register(stop, EXIT_WAIT_S)
            _exit_hook = True
    return True


def stop_at_signals() -> bool:
    """Also ``stop`` when SIGTERM ends the process, then let it end the process as before. For
    servers that end by re-raising the signal they caught once they have shut down, where
    ``atexit`` never runs for SIGTERM: uvicorn restores the handler it found at start, this one,
    then raises the signal again. (Ctrl-C ends in ``KeyboardInterrupt``, after which ``atexit``
    runs; SIGINT's handler is left alone, since Twisted installs its own only over the default
    one.) Under daphne, Twisted's SIGTERM handler replaces this one and ``atexit`` stops the
    worker. Only in the main thread and while the worker runs; returns whether it was set."""
    import signal

    if not running() or threading.current_thread() is not threading.main_thread():
        return False
    before = signal.getsignal(signal.SIGTERM)

    def handler(number, frame):
        stop(EXIT_WAIT_S)
        signal.signal(number, before if before is not None else signal.SIG_DFL)
        if callable(before):
            before(number, frame)
        else:
            signal.raise_signal(number)

    signal.signal(signal.SIGTERM, handler)
    return True


def stop(timeout: float = 30.0) -> None:
    """Stop the worker thread: the job it runs stops at its next batch and goes back to the
    queue (``Stopping``); waits up to ``timeout`` seconds. Called at exit and by tests."""
    global _thread
    with _lock:
        thread, _thread = _thread, None
    if thread is not None:
        _stopping.set()
        _wake.set()
        thread.join(timeout)


def _loop() -> None:
    from .choices import JobStatus
    from .jobs import run_job
    from .models import IndexJob

    while not _stopping.is_set():
        _wake.clear()
        queued: list[int] = []
        try:
            close_old_connections()
            queued = list(IndexJob.objects.filter(status=JobStatus.QUEUED).order_by("created_at", "id").values_list("pk", flat=True)[:20])
            for job_id in queued:
                if _stopping.is_set():
                    break
                run_job(job_id)  # records its own failures on the job row
        except Stopping:
            break
        except Exception:  # a broken database must not end the thread: log and look again later
            log.exception("the in-process index worker could not run the queued jobs")
        finally:
            connections.close_all()
        if not _stopping.is_set():
            try:
                run_due_periodic()
            except Stopping:  # a job a periodic task ran in this thread (a sync, say) was stopped
                break
            finally:
                connections.close_all()
        if not queued:  # after a run, look again at once: more may have been queued meanwhile
            _wake.wait(POLL_S)


def run_due_periodic() -> list[str]:
    """Run, in this thread, each ``CELERY_BEAT_SCHEDULE`` entry that is due: never run here yet,
    or its schedule (seconds or a ``crontab``, Celery's ``schedule.is_due``) has come round since
    it last ran. Returns the names of the entries run. Nothing runs when ``MCPRAG_PERIODIC_TASKS``
    is off. Each is the registered task beat would send, called here (no trace lines: a minute's
    sync check logs nothing unless it starts a sync); one that raises is logged, counted as run,
    and tried again at its next turn."""
    from celery import current_app
    from celery.schedules import maybe_schedule
    from django.conf import settings

    from .app_settings import app_settings

    if not app_settings.PERIODIC_TASKS:
        return []
    global _tasks_imported
    if not _tasks_imported:  # each app's tasks module, as a Celery worker imports them when it starts
        current_app.autodiscover_tasks(force=True)
        _tasks_imported = True
    ran = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        schedule = maybe_schedule(entry["schedule"], app=current_app)
        last = _periodic_last_run.get(name)
        if last is not None and not schedule.is_due(last).is_due:
            continue
        _periodic_last_run[name] = schedule.now()
        ran.append(name)
        close_old_connections()
        try:
            current_app.tasks[entry["task"]](*entry.get("args", ()), **entry.get("kwargs", {}))
        except Stopping:
            raise
        except Exception:
            log.exception("periodic task %s (%s) failed; it runs again at its next turn", name, entry["task"])
    return ran
