"""Worker processes for ``close --jobs``: tasks handed out on demand, results streamed back, and a
failure or a signal anywhere stopping every worker with nothing of theirs left behind.

Workers are forked (POSIX), so they start in microseconds with everything already imported. Each
runs ``setup()`` once (for ``close``: its own read-only view of the session), then
``work(state, task)`` per task it asks for, sending back what that returns; the parent hands out
the next task to whichever worker asks first, so a large message does not hold up the others.

Stopping: a worker that fails sends its error and exits; the parent then sends SIGTERM to the
others, whose handler raises :class:`SystemExit` wherever they are, and waits for all of them.
A worker that ends other than by being told there is no more work runs ``cleanup(state)``
first: it removes what it wrote and has not sent yet (temporary files); what it sent is the
parent's, which reads what is still in the pipes once every worker has exited (``on_unread``).
SIGINT and SIGHUP go to the parent alone (a terminal sends them to the whole process group):
the parent decides, through its ``check`` callback, which it calls whenever it waits.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import FrameType
from typing import Any, Generic, TypeVar

from msgsess.errors import MsgsessError

S = TypeVar("S")

_READY, _RESULT, _ERROR = "ready", "result", "error"
#: Seconds between two calls of ``check`` while every worker is busy.
_POLL = 0.05


def available() -> bool:
    """Whether worker processes can be forked here."""
    return hasattr(os, "fork") and hasattr(signal, "pthread_sigmask")


class WorkerFailed(Exception):
    """A worker ended without a :class:`MsgsessError` to tell why: an internal error."""


@dataclass
class _Worker:
    pid: int
    conn: Any  # multiprocessing.connection.Connection
    #: Told there is no more work: it exits keeping what it wrote (the parent has every result).
    finished: bool = False
    #: Its exit code once reaped.
    status: int | None = None


@dataclass
class Pool(Generic[S]):
    """What workers run: ``setup`` once in each, ``work`` per task (its return value is sent
    to the parent), ``cleanup`` when a worker stops before the end (it gets what ``setup``
    returned, or None if ``setup`` failed)."""

    setup: Callable[[], S]
    work: Callable[[S, Any], Any]
    cleanup: Callable[[S | None], None]


def run(
    pool: Pool[S],
    jobs: int,
    tasks: Iterable[Any],
    on_result: Callable[[Any], None],
    check: Callable[[], None] = lambda: None,
    on_unread: Callable[[Any], None] | None = None,
) -> None:
    """Run every task of ``tasks`` (none of them None) in ``jobs`` forked workers; ``on_result``
    gets each result in the parent, in the order they arrive.

    Returns when every task is done and every worker has exited. Otherwise raises the first
    error — a worker's :class:`MsgsessError`, :class:`WorkerFailed`, or what ``on_result`` or
    ``check`` raise — once every worker has stopped and cleaned up; results the workers had sent
    that were not read yet then go to ``on_unread`` (to remove what they name), not ``on_result``.
    """
    from multiprocessing.connection import wait

    pending = iter(tasks)
    workers: list[_Worker] = []
    try:
        for _ in range(jobs):
            workers.append(_start(pool))
        live = {w.conn: w for w in workers}
        while live:
            check()
            ready: list[Any] = wait(list(live), timeout=_POLL)
            for conn in ready:
                worker = live[conn]
                try:
                    kind, payload = conn.recv()
                except (EOFError, OSError):
                    check()  # a signal that reached the worker too is what to report
                    raise WorkerFailed(f"worker process {worker.pid} ended unexpectedly") from None
                if kind == _RESULT:
                    on_result(payload)
                elif kind == _READY:
                    task = next(pending, None)
                    conn.send(task)
                    if task is None:
                        worker.finished = True
                        del live[conn]
                else:
                    check()
                    raise _error(payload)
        for worker in workers:
            _reap(worker)
            if worker.status != 0:
                raise WorkerFailed(f"worker process {worker.pid} exited with status {worker.status}")
    except BaseException:
        _stop(workers)
        if on_unread is not None:
            for worker in workers:
                _drain(worker, on_unread)
        raise
    finally:
        for worker in workers:
            worker.conn.close()


def _drain(worker: _Worker, on_unread: Callable[[Any], None]) -> None:
    """Read what an ended worker sent and nobody read; its results go to ``on_unread``."""
    with contextlib.suppress(Exception):
        while worker.conn.poll(0):
            kind, payload = worker.conn.recv()
            if kind == _RESULT:
                on_unread(payload)


def _error(payload: Any) -> BaseException:
    if isinstance(payload, MsgsessError):
        return payload
    return WorkerFailed(f"a worker process failed:\n{payload}")


def _start(pool: Pool[Any]) -> _Worker:
    from multiprocessing import Pipe

    parent, child = Pipe(duplex=True)
    # What the parent holds is frozen for the fork: the worker's garbage collector never walks
    # (nor finalizes) the parent's objects — no copy of their pages, and no finalizer of the
    # parent's (a lock another thread of a library caller held at the fork) run in the worker.
    own_freeze = gc.get_freeze_count() == 0  # a caller that froze its own objects keeps them so
    if own_freeze:
        gc.freeze()
    # SIGTERM is blocked across the fork: one that reaches a worker before it has set its own
    # handler (the parent stops a worker still starting when another failed at once) waits for
    # that handler, instead of running the parent's — close's only records it, and the worker
    # would then wait for a task for ever while the parent waits for it to exit.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        if own_freeze:
            gc.unfreeze()
        raise
    if pid == 0:  # the worker: leaves only through os._exit, running no handler of the parent's
        code = 1
        try:
            parent.close()
            code = _serve(pool, child)
        finally:
            os._exit(code)
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    if own_freeze:
        gc.unfreeze()
    child.close()
    return _Worker(pid, parent)


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


class _ParentGone(Exception):
    """The pipe to the parent broke: it is gone or stopped listening."""


def _serve(pool: Pool[Any], conn: Any) -> int:
    """A worker's life: ask for a task, do it, send its result, until told there is no more."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent's to handle: it stops us if it must
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # blocked since the fork (_start)

    def send(message: tuple[str, Any]) -> None:
        try:
            conn.send(message)
        except OSError as exc:
            raise _ParentGone from exc

    state = None
    finished = False
    try:
        state = pool.setup()
        while True:
            send((_READY, None))
            try:
                task = conn.recv()
            except (EOFError, OSError) as exc:
                raise _ParentGone from exc
            if task is None:
                finished = True
                return 0
            send((_RESULT, pool.work(state, task)))
    except BaseException as exc:  # SystemExit from SIGTERM too: stop, clean up below
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the cleanup runs to its end
        if not isinstance(exc, SystemExit | KeyboardInterrupt | _ParentGone):
            _send_error(conn, exc)
        return 1
    finally:
        if not finished:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            with contextlib.suppress(BaseException):  # best effort: the worker is ending anyway
                pool.cleanup(state)


def _send_error(conn: Any, exc: BaseException) -> None:
    payload: Any = exc if isinstance(exc, MsgsessError) else "".join(traceback.format_exception(exc))
    try:
        conn.send((_ERROR, payload))
    except Exception:  # not picklable, or the parent is gone: it sees the worker end instead
        with contextlib.suppress(Exception):
            conn.send((_ERROR, "".join(traceback.format_exception(exc))))


def _reap(worker: _Worker) -> None:
    """Wait for a worker to exit; record its exit code."""
    if worker.status is not None:
        return
    while True:
        try:
            _pid, status = os.waitpid(worker.pid, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            worker.status = -1
            return
        worker.status = os.waitstatus_to_exitcode(status)
        return


def _stop(workers: list[_Worker]) -> None:
    """Stop every worker still running and wait until each has cleaned up and exited."""
    for worker in workers:
        if worker.status is None and not worker.finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
    for worker in workers:
        _reap(worker)
