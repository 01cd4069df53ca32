"""What a killed ``close`` leaves is removed by the next one (issue 9, item 11).

Before the fix the ``.NAME.*.tmp`` and ``.NAME.*.bak`` files of a ``close`` killed with SIGKILL
stayed for ever, also after a later ``close`` of the same outputs succeeded. Now that ``close``
removes them — recognised by name and by content (a temporary output starts with msgsess's mark
until it is committed; a backup's name holds a digest of its size and modification time), made
by a process that has ended — and never a file that only looks like one.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import extract_msg
import olefile
import pytest

from msgsess import cfb
from msgsess.storage import Storage
from tests.conftest import slow_session

MSGSESS = [sys.executable, "-m", "msgsess"]


def _dot_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.startswith(".")}


def _marked_pid(path: Path) -> int | None:
    head = path.read_bytes()[:24]
    if head[:8] != b"msgsess\x00" or head[16:] != b"partial\x00":
        return None
    return int(struct.unpack_from("<Q", head, 8)[0])


def _two_written(out: Path) -> bool:
    temps = list(out.glob(".*.tmp")) if out.exists() else []
    try:
        return len(temps) >= 2 and all(p.stat().st_size >= 24 for p in temps)
    except FileNotFoundError:
        return False


def _decoys(out: Path, alive_pid: int) -> dict[str, bytes]:
    """Files beside the outputs that look like leftovers but are not a dead run's: kept."""
    real_msg = cfb.to_bytes(Storage(entries={"x": b"a user's own message"}))
    decoys = {
        ".0.msg.abcdefgh.tmp": b"a user's notes, named like a temporary file",
        ".0.msg.msgsessx.tmp": real_msg,  # a whole compound file, not marked
        ".0.msg.1-deadbeef-0123456789abcdef.bak": b"a backup of the user's, wrong digest",
        ".0.msg.tmp": b"no middle part",
        # The mark, but of a process that still runs (another close, busy with this output).
        ".1.msg.livelive.tmp": b"msgsess\x00" + struct.pack("<Q", alive_pid) + b"partial\x00" + bytes(100),
        # The mark of a dead run, but beside no output of this close.
        ".unrelated.msg.deaddead.tmp": b"msgsess\x00" + struct.pack("<Q", 2**40) + b"partial\x00",
    }
    for name, data in decoys.items():
        (out / name).write_bytes(data)
    return decoys


def test_the_temporary_files_of_a_killed_close_go_with_the_next_close(run: Any, workdir: Path) -> None:
    slow_session(run, workdir, 12)
    proc = subprocess.Popen([*MSGSESS, "close", "s", "--jobs", "1"], cwd=workdir)
    out = workdir / "out"
    deadline = time.monotonic() + 60
    # Two temporary files, each past its first bytes: the kill lands while close encodes the next
    # message, the way a kill at a random moment does. (In the instant between creating a file
    # and marking it a kill leaves an empty file, which is not recognised; aiming at that instant
    # is not the point of this test.)
    while not _two_written(out):
        assert time.monotonic() < deadline and proc.poll() is None, "close finished before it was killed"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    left = sorted(out.glob(".*.tmp"))
    assert len(left) >= 2 and not list(out.glob("*.msg"))  # temporaries only
    assert {_marked_pid(p) for p in left} == {proc.pid}  # each marked, even the one cut off
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        decoys = _decoys(out, sleeper.pid)
        closed = run("close", "s")
        assert closed.returncode == 0, closed.stderr
        assert _dot_files(out) == set(decoys)  # the killed run's files gone, nothing else
        for name, data in decoys.items():
            assert (out / name).read_bytes() == data
    finally:
        sleeper.kill()
        sleeper.wait(timeout=300)
    for i in (0, 11):
        with extract_msg.openMsg(str(out / f"{i}.msg")) as msg:
            assert msg.subject == f"n{i}"


KILL_AFTER_SECOND_RENAME = """
import os, signal, sys
real_replace = os.replace
renames = []
def replace(src, dst, *args, **kwargs):
    real_replace(src, dst, *args, **kwargs)
    renames.append(dst)
    if len(renames) == 2:  # two outputs moved into place, two not yet: SIGKILL, for real
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
sys.argv = ["msgsess", "close", "s"]
from msgsess.cli.main import main
main()
"""


def test_backups_of_a_close_killed_while_moving_outputs_go_with_the_next_close(
    run: Any, workdir: Path
) -> None:
    out = workdir / "out"
    out.mkdir()
    for i in range(4):
        (out / f"{i}.msg").write_bytes(b"old %d" % i)  # outputs that exist: close keeps backups
    assert run("open", "s").returncode == 0
    for i in range(4):
        assert run("add", "s", f"out/{i}.msg", "--subject", f"new {i}").returncode == 0
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_SECOND_RENAME], cwd=workdir, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    backups = sorted(out.glob(".*.bak"))
    assert len(backups) == 2 and sorted(p.read_bytes() for p in backups) == [b"old 0", b"old 1"]
    assert len(list(out.glob(".*.tmp"))) == 2
    assert (out / "2.msg").read_bytes() == b"old 2"  # a mix, as docs/CLI.md says

    closed = run("close", "s")  # the session is intact: the killed close changed nothing in it
    assert closed.returncode == 0, closed.stderr
    assert _dot_files(out) == set()
    for i in range(4):
        with extract_msg.openMsg(str(out / f"{i}.msg")) as msg:
            assert msg.subject == f"new {i}"


def test_a_temporary_output_is_marked_until_it_is_committed(tmp_path: Path) -> None:
    target = tmp_path / "a.msg"
    temp = cfb.write_temp(Storage(entries={"s": b"data"}), target)
    assert temp.name.startswith(".a.msg.") and temp.name.endswith(".tmp")
    assert _marked_pid(temp) == os.getpid()
    assert cfb.remove_leftovers([target]) == [temp]  # this process's own, with nothing to commit
    temp = cfb.write_temp(Storage(entries={"s": b"data"}), target)
    cfb.commit(temp, target)
    assert target.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    with olefile.OleFileIO(str(target)) as ole:
        assert ole.openstream("s").read() == b"data"


def test_files_that_are_not_compound_files_are_committed_as_they_are(tmp_path: Path) -> None:
    target = tmp_path / "a.eml"
    data = b"msgsess\x00" + bytes(8) + b"partial\x00 looks like the mark, but is an export"
    cfb.write_bytes_atomic(data, target)
    assert target.read_bytes() == data


def test_a_backup_is_known_by_its_digest(tmp_path: Path) -> None:
    target = tmp_path / "a.msg"
    target.write_bytes(b"old")
    backup = cfb._backup(target)
    assert backup is not None and backup.read_bytes() == b"old"
    os.utime(backup, ns=(0, 10**18))  # changed since: no longer the file msgsess linked
    assert cfb.remove_leftovers([target]) == []
    backup.unlink()
    backup = cfb._backup(target)
    assert cfb.remove_leftovers([target]) == [backup] and target.read_bytes() == b"old"


def test_a_symlink_named_like_a_leftover_is_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"msgsess\x00" + struct.pack("<Q", 2**40) + b"partial\x00")
    (tmp_path / ".a.msg.abcdefgh.tmp").symlink_to(victim)
    assert cfb.remove_leftovers([tmp_path / "a.msg"]) == []
    assert (tmp_path / ".a.msg.abcdefgh.tmp").is_symlink() and victim.exists()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_close_with_jobs_killed_outright_leaves_no_worker_and_the_next_close_cleans_up(
    run: Any, workdir: Path
) -> None:
    slow_session(run, workdir, 12)
    proc = subprocess.Popen([*MSGSESS, "close", "s", "--jobs", "2"], cwd=workdir)
    out = workdir / "out"
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while not (out.exists() and list(out.glob(".*.tmp"))) or len(workers) < 2:
        assert time.monotonic() < deadline and proc.poll() is None, "close finished before it was killed"
        workers |= _children(proc.pid)
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # Each worker notices at its next message that close is gone, removes the file it was
    # writing and ends; the files it had handed over stay, marked with close's pid.
    while any(_running(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its close"
        time.sleep(0.05)
    left = sorted(out.glob(".*.tmp"))
    assert not list(out.glob("*.msg"))
    assert {_marked_pid(p) for p in left} <= {proc.pid}
    closed = run("close", "s")
    assert closed.returncode == 0, closed.stderr
    assert _dot_files(out) == set()
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{i}.msg" for i in range(12))
