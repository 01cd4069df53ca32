"""Outputs through symlinks (issue 9, item 1): ``close`` follows a link only as the kernel's
``protected_symlinks`` rule would, in every folder — a link owned by the user running msgsess or
by the owner of its folder — and never creates a file through a link to nothing.

The reproduction of the issue runs as root with a real second user: in a folder with mode 1777,
user A (uid 65534) makes ``out.msg`` a link to a file of root's; root adds and closes a message
with that output. Before the fix ``close`` replaced root's file.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import extract_msg
import pytest

from msgsess import cfb
from msgsess.errors import WriteFailed
from msgsess.storage import Storage
from tests.conftest import one_error

OTHER_UID = 65534  # "nobody": a user that is neither root nor the owner of the shared folder

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as a second user")


def _as_other_user() -> None:
    os.setgid(OTHER_UID)
    os.setuid(OTHER_UID)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A sticky world-writable folder (like /tmp) that the second user can reach."""
    folder = Path(tempfile.mkdtemp(prefix="msgsess-shared-", dir="/tmp"))
    folder.chmod(0o1777)
    try:
        yield folder
    finally:
        subprocess.run(["rm", "-rf", str(folder)], check=False, timeout=300)


def _add_and_close(run: Any, output: Path) -> Any:
    assert run("open", "s").returncode == 0
    added = run("add", "s", str(output), "--subject", "through a link")
    assert added.returncode == 0, added.stderr
    return run("close", "s")


@needs_root
def test_another_users_link_in_a_sticky_folder_is_refused(run: Any, workdir: Path, shared: Path) -> None:
    victim = workdir / "root-only.txt"
    victim.write_text("root's own data\n")
    link = shared / "out.msg"
    made = subprocess.run(
        ["ln", "-s", str(victim), str(link)], preexec_fn=_as_other_user, capture_output=True, timeout=300
    )
    assert made.returncode == 0, made.stderr
    assert link.lstat().st_uid == OTHER_UID

    closed = _add_and_close(run, link)

    assert closed.returncode == 9
    line = one_error(closed.stderr)
    assert f"symlink {link}" in line and f"uid {OTHER_UID}" in line
    assert victim.read_text() == "root's own data\n"  # untouched
    assert link.is_symlink() and sorted(p.name for p in shared.iterdir()) == ["out.msg"]
    assert (workdir / "s").exists()  # the session is kept, to close elsewhere


@needs_root
def test_a_link_in_a_folder_of_another_user_on_the_way_is_refused(
    run: Any, workdir: Path, shared: Path
) -> None:
    target_dir = workdir / "private"
    target_dir.mkdir()
    link = shared / "dir"
    made = subprocess.run(
        ["ln", "-s", str(target_dir), str(link)], preexec_fn=_as_other_user, capture_output=True, timeout=300
    )
    assert made.returncode == 0, made.stderr

    closed = _add_and_close(run, link / "out.msg")

    assert closed.returncode == 9
    assert f"symlink {link}" in one_error(closed.stderr)
    assert list(target_dir.iterdir()) == []


@needs_root
def test_a_link_of_the_folders_owner_is_followed(tmp_path: Path) -> None:
    """The kernel follows a link whose owner owns the folder; so does close."""
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o1777)
    os.chown(folder, OTHER_UID, OTHER_UID)
    real = tmp_path / "real.msg"
    real.write_bytes(b"old")
    link = folder / "out.msg"
    link.symlink_to(real)
    os.lchown(link, OTHER_UID, OTHER_UID)
    cfb.write_atomic(Storage(entries={"s": b"new"}), link)
    assert link.is_symlink() and cfb.read_file(real).entries["s"] == b"new"


@needs_root
def test_a_link_of_a_stranger_is_refused_in_any_folder(tmp_path: Path) -> None:
    """The rule applies everywhere, not only in sticky world-writable folders."""
    real = tmp_path / "real.msg"
    real.write_bytes(b"old")
    link = tmp_path / "out.msg"
    link.symlink_to(real)
    os.lchown(link, OTHER_UID, OTHER_UID)
    with pytest.raises(WriteFailed, match="refusing to write through symlink"):
        cfb.write_atomic(Storage(entries={"s": b"new"}), link)
    assert real.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.msg", "real.msg"]


def test_ones_own_link_is_written_through(run: Any, workdir: Path) -> None:
    real = workdir / "kept" / "real.msg"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = workdir / "out.msg"
    link.symlink_to(real)
    closed = _add_and_close(run, link)
    assert closed.returncode == 0, closed.stderr
    assert link.is_symlink()
    with extract_msg.openMsg(str(real)) as msg:
        assert msg.subject == "through a link"


def test_a_dangling_link_creates_no_file(run: Any, workdir: Path) -> None:
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    link = workdir / "out.msg"
    link.symlink_to(elsewhere / "new.msg")
    closed = _add_and_close(run, link)
    assert closed.returncode == 9
    line = one_error(closed.stderr)
    assert f"symlink {link}" in line and "does not exist" in line
    assert list(elsewhere.iterdir()) == [] and link.is_symlink()


def test_a_dangling_folder_link_creates_no_folder(workdir: Path) -> None:
    link = workdir / "out"
    link.symlink_to(workdir / "missing" / "deeper")
    with pytest.raises(WriteFailed, match="does not exist"):
        cfb.write_atomic(Storage(entries={"s": b"x"}), link / "a.msg")
    assert sorted(p.name for p in workdir.iterdir()) == ["out"]


def test_links_resolve_like_the_kernel(workdir: Path) -> None:
    """Relative links, '..' after a link, chains of links, and loops."""
    (workdir / "a" / "b").mkdir(parents=True)
    (workdir / "a" / "b" / "f.msg").write_bytes(b"x")
    (workdir / "up").symlink_to("a/b")
    (workdir / "chain").symlink_to("up")
    assert cfb.real_target(Path("chain/f.msg")) == workdir / "a" / "b" / "f.msg"
    # '..' after a link goes up from where the link points, as the kernel does (realpath too).
    assert cfb.real_target(Path("up/../new.msg")) == workdir / "a" / "new.msg"
    assert cfb.real_target(workdir / "missing" / "x" / ".." / "y.msg") == workdir / "missing" / "y.msg"
    (workdir / "loop1").symlink_to("loop2")
    (workdir / "loop2").symlink_to("loop1")
    with pytest.raises(WriteFailed):
        cfb.real_target(workdir / "loop1")


def test_a_batch_resolves_each_folder_once_and_checks_each_output(workdir: Path) -> None:
    """close writes its outputs inside cfb.batch(): the same real paths and refusals as one by one."""
    (workdir / "a" / "b").mkdir(parents=True)
    (workdir / "a" / "b" / "f.msg").write_bytes(b"x")
    (workdir / "up").symlink_to("a/b")
    (workdir / "chain").symlink_to("up")
    (workdir / "a" / "b" / "link.msg").symlink_to("f.msg")
    (workdir / "a" / "b" / "dangling.msg").symlink_to("nowhere.msg")
    os.mkfifo(workdir / "a" / "b" / "pipe.msg")
    paths = ["chain/f.msg", "up/../new.msg", "up/link.msg", "a/b/new.msg", "new.msg", "missing/x/../y.msg"]
    one_by_one = [cfb.real_target(Path(p)) for p in paths]
    with cfb.batch():
        for _again in range(2):  # the second time from the folder cache
            assert [cfb.real_target(Path(p)) for p in paths] == one_by_one
            with pytest.raises(WriteFailed, match="does not exist"):
                cfb.real_target(Path("up/dangling.msg"))
            with pytest.raises(WriteFailed, match="not a file"):
                cfb.real_target(Path("chain/pipe.msg"))
    assert one_by_one[2] == workdir / "a" / "b" / "f.msg"
