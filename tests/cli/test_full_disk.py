"""A real full disk: a 2 MiB tmpfs, filled up (issue 9, item 8, and the audit's close on a full tmpfs).

``test_never_destroy.py`` stands a file-size limit in for a full disk, which any user can set;
here, where the tests may mount a file system (root, as in CI), the audit's own reproduction:
``open`` on a full 2 MiB tmpfs was ``internal error: OperationalError`` (exit 1). Now ``open`` is
one line, exit 5, with nothing left behind; ``close`` with an output there is one line, exit 9,
writes no output at all (all or nothing) and keeps the session, which closes once there is room.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import extract_msg
import pytest

from tests.conftest import Run, one_error


@pytest.fixture
def full(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs with no byte free (skips where mounting is not allowed)."""
    point = tmp_path / "full"
    point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(point)],
        capture_output=True,
        check=False,
        timeout=300,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        with (point / "filler").open("wb") as filler:
            try:
                while True:
                    filler.write(bytes(65536))
                    filler.flush()
            except OSError:
                pass  # ENOSPC: full
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False, timeout=300)


def test_open_on_a_full_tmpfs_is_one_line_exit_5(run: Run, full: Path) -> None:
    opened = run("open", str(full / "s.session"))
    assert opened.returncode == 5, opened.stderr
    line = one_error(opened.stderr)
    assert "internal error" not in line and "s.session" in line and "full" in line
    assert sorted(p.name for p in full.iterdir()) == ["filler"]


def test_close_onto_a_full_tmpfs_writes_nothing_and_keeps_the_session(
    run: Run, workdir: Path, full: Path
) -> None:
    assert run("open", "s").returncode == 0
    (workdir / "big.txt").write_text("x" * 200_000)  # more than the tmpfs's last free bytes
    added = run("add", "-q", "s", str(full / "a.msg"), "--subject", "a", "--body-file", "big.txt")
    assert added.returncode == 0, added.stderr
    assert run("add", "-q", "s", "b.msg", "--subject", "b").returncode == 0
    closed = run("close", "s")
    assert closed.returncode == 9, closed.stderr
    line = one_error(closed.stderr)
    assert "a.msg" in line and "No space left on device" in line
    assert sorted(p.name for p in full.iterdir()) == ["filler"]  # no output, no temporary
    assert not (workdir / "b.msg").exists()  # all or nothing
    assert (workdir / "s").exists()
    (full / "filler").unlink()
    assert run("close", "s").returncode == 0
    with extract_msg.openMsg(str(full / "a.msg")) as msg:
        assert msg.subject == "a"
