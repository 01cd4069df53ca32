"""Forked workers of ``close --jobs``: every task done once, and a failure or a stop anywhere ends
every worker with nothing of theirs left (what was reported is the caller's to remove)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from msgsess.errors import InvalidParameter
from msgsess.session import workers

pytestmark = pytest.mark.skipif(not workers.available(), reason="no fork here")


class Files:
    """A worker that writes one file per task into a folder; on cleanup it removes the file of the
    task it was doing (the others it sent: the parent removes them, as close does)."""

    def __init__(self, folder: Path, fail_on: int | None = None, crash: type[BaseException] | None = None):
        self.folder = folder
        self.fail_on = fail_on
        self.crash = crash

    def pool(self) -> workers.Pool[list[Path]]:
        return workers.Pool(setup=list, work=self.work, cleanup=self.cleanup)

    def work(self, mine: list[Path], task: int) -> tuple[int, str, int]:
        mine.clear()  # what earlier tasks wrote is sent: the parent's to remove if need be
        path = self.folder / f"{task}.part"
        mine.append(path)
        path.write_text(str(task))
        time.sleep(0.01)
        if task == self.fail_on:
            if self.crash is not None:
                raise self.crash("boom")
            raise InvalidParameter(f"task {task} cannot be done", hint="give another")
        return task, str(path), os.getpid()

    @staticmethod
    def cleanup(mine: list[Path] | None) -> None:
        for path in mine or ():
            path.unlink(missing_ok=True)


def test_every_task_is_done_once_by_the_workers(tmp_path: Path) -> None:
    got: list[tuple[int, str, int]] = []
    workers.run(Files(tmp_path).pool(), 3, range(1, 41), got.append)
    assert sorted(task for task, _path, _pid in got) == list(range(1, 41))
    assert len({pid for _task, _path, pid in got}) > 1 and os.getpid() not in {pid for *_x, pid in got}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{i}.part" for i in range(1, 41))


def run_and_discard(files: Files, tmp_path: Path, **kw: object) -> None:
    """As close does: remove what was reported when the run fails."""
    reported: list[str] = []
    try:
        workers.run(
            files.pool(),
            3,
            range(1, 200),
            lambda r: reported.append(r[1]),
            on_unread=lambda r: reported.append(r[1]),
            **kw,  # type: ignore[arg-type]
        )
    finally:
        for name in reported:
            Path(name).unlink(missing_ok=True)


def test_an_error_in_one_worker_stops_the_others_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="task 30 cannot be done") as caught:
        run_and_discard(Files(tmp_path, fail_on=30), tmp_path)
    assert caught.value.hint == "give another"
    assert list(tmp_path.iterdir()) == []


def test_an_internal_error_is_reported_with_its_traceback(tmp_path: Path) -> None:
    with pytest.raises(workers.WorkerFailed, match="ZeroDivisionError: boom"):
        run_and_discard(Files(tmp_path, fail_on=5, crash=ZeroDivisionError), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_stop_asked_by_the_parent_ends_every_worker_and_leaves_nothing(tmp_path: Path) -> None:
    started = time.monotonic()

    def check() -> None:
        if time.monotonic() - started > 0.3:
            raise KeyboardInterrupt  # as close's signal handling does between results

    with pytest.raises(KeyboardInterrupt):
        run_and_discard(Files(tmp_path), tmp_path, check=check)
    assert list(tmp_path.iterdir()) == []


def test_a_worker_killed_outright_is_an_error(tmp_path: Path) -> None:
    class Killer(Files):
        def work(self, mine: list[Path], task: int) -> tuple[int, str, int]:
            if task == 10:
                os.kill(os.getpid(), signal.SIGKILL)
            return super().work(mine, task)

    with pytest.raises(workers.WorkerFailed, match="ended unexpectedly"):
        run_and_discard(Killer(tmp_path), tmp_path)
    # The killed worker could not clean up: at most the file of its task 10 stays (none here,
    # as it died before writing it); every other worker removed its own.
    assert list(tmp_path.iterdir()) == []


def test_workers_ignore_sigint_which_is_the_parents_to_handle(tmp_path: Path) -> None:
    pids: set[int] = set()

    def on_result(result: tuple[int, str, int]) -> None:
        pids.add(result[2])
        if len(pids) == 2 and result[0] > 20:
            for pid in pids:
                os.kill(pid, signal.SIGINT)  # what Ctrl-C sends to the whole process group

    got: list[int] = []
    workers.run(Files(tmp_path).pool(), 2, range(1, 60), lambda r: (got.append(r[0]), on_result(r)))
    assert sorted(got) == list(range(1, 60))


def test_a_callers_own_gc_freeze_is_kept(tmp_path: Path) -> None:
    """Workers are forked with the parent's objects frozen (their collector never walks them);
    a caller that froze its own objects before (the preload-then-fork pattern) keeps them so."""
    import gc

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        workers.run(Files(tmp_path).pool(), 2, range(1, 5), lambda r: None)
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
    workers.run(Files(tmp_path).pool(), 2, range(5, 9), lambda r: None)
    assert gc.get_freeze_count() == 0  # ours is undone once the workers are forked


#: Set by the test below: each process forked meanwhile gets SIGTERM the moment it exists.
_TERM_AT_FORK = [False]


def _term_at_fork() -> None:
    if _TERM_AT_FORK[0]:
        os.kill(os.getpid(), signal.SIGTERM)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_term_at_fork)


def test_a_sigterm_that_reaches_a_worker_still_starting_stops_it(tmp_path: Path) -> None:
    """The parent stops a worker that is still starting when another failed at once. Its SIGTERM
    used to run the parent's handler in the worker (close's only records it): the worker then
    waited for a task for ever, the parent for it to exit (a close that never ended). Now it is
    held until the worker's own handler is set, which stops it."""
    taken: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: taken.append(signum))
    _TERM_AT_FORK[0] = True
    try:
        with pytest.raises(workers.WorkerFailed):
            workers.run(Files(tmp_path).pool(), 2, range(1, 5), lambda r: None)
    finally:
        _TERM_AT_FORK[0] = False
        signal.signal(signal.SIGTERM, previous)
    assert taken == []  # the parent itself was not signalled
    assert list(tmp_path.iterdir()) == []
