"""msgsess replaces or removes only a file that is a msgsess session (issue 8; issue 9 items 8, 12).

Every command that writes, replaces or removes a session — ``open --force``, ``discard``,
``close`` and the writers — is run as a real process on a .msg file, a text file, an empty file,
an SQLite database of another program and a folder: each is refused with one line naming the
file, and the file stays byte for byte (no journal beside it either). Sessions are made 0600.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

Run = Callable[..., Any]


def _msg_file(run: Run, workdir: Path) -> None:
    assert run("open", "make.session").returncode == 0
    assert run("add", "make.session", "hello.msg", "--subject", "Hello").returncode == 0
    assert run("close", "make.session").returncode == 0


def _foreign_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()


#: name -> (how to make it, words the refusal says).
KINDS: dict[str, tuple[Callable[[Run, Path], None], str]] = {
    "hello.msg": (_msg_file, "Outlook .msg file"),
    "notes.txt": (lambda run, w: (w / "notes.txt").write_text("my notes\n" * 20), "another kind"),
    "empty": (lambda run, w: (w / "empty").write_bytes(b""), "empty file"),
    "other.db": (lambda run, w: _foreign_db(w / "other.db"), "SQLite database of another program"),
    "folder": (
        lambda run, w: ((w / "folder").mkdir(), (w / "folder" / "inside.txt").write_text("x")),
        "folder",
    ),
}


def snapshot(path: Path) -> Any:
    if path.is_dir():
        return sorted((p.name, p.read_bytes()) for p in path.iterdir())
    return path.read_bytes(), stat.S_IMODE(path.stat().st_mode)


def around(workdir: Path) -> list[str]:
    return sorted(p.name for p in workdir.iterdir())


COMMANDS = [
    ("open", "--force", "{f}"),
    ("open", "{f}"),
    ("discard", "{f}"),
    ("close", "{f}"),
    ("close", "{f}", "--keep"),
    ("add", "{f}", "out/x.msg", "--subject", "x"),
    ("add", "--replace", "{f}", "out/x.msg", "--subject", "x"),
    ("rm", "{f}", "m1"),
    ("output", "{f}", "m1", "a.msg"),
    ("set", "{f}", "m1", "PidTagSubject", "x"),
]


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_command_changes_a_file_that_is_not_a_session(run: Run, workdir: Path, kind: str) -> None:
    make, words = KINDS[kind]
    make(run, workdir)
    target = workdir / kind
    before, names = snapshot(target), around(workdir)
    for args in COMMANDS:
        done = run(*(a.format(f=kind) for a in args))
        # A folder as SESSION is a usage error (click's check of the argument): exit 2.
        assert done.returncode == (2 if kind == "folder" else 5), (args, done.stderr)
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("msgsess: error: "), (args, lines)
        assert kind in lines[0]
        if kind != "folder":
            assert "not a msgsess session" in lines[0] and words in lines[0], (args, lines[0])
        hint = lines[0].replace("--help", "")
        assert f"open {kind}" not in hint and "open --force" not in hint, lines[0]  # never replace it
        assert snapshot(target) == before, args
        assert around(workdir) == names, args  # no journal, no temporary file, no output


def test_swapped_arguments_get_a_hint_about_their_order(run: Run, workdir: Path) -> None:
    _msg_file(run, workdir)
    assert run("open", "s").returncode == 0
    done = run("add", "hello.msg", "out/x.msg", "--subject", "x")
    assert done.returncode == 5
    assert "hello.msg is not a msgsess session" in done.stderr
    assert "check the order of the arguments" in done.stderr
    assert "open" not in done.stderr.split("(", 1)[1]  # the hint
    assert not (workdir / "out").exists()


def test_open_force_still_replaces_a_session(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    assert run("add", "s", "a.msg", "--subject", "old").returncode == 0
    done = run("open", "--force", "s")
    assert done.returncode == 0, done.stderr
    assert run("show", "s", "--json").stdout == ""


def test_discard_and_close_remove_only_their_session(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    assert run("discard", "s").returncode == 0
    assert around(workdir) == []
    assert run("open", "s").returncode == 0
    assert run("add", "s", "a.msg", "--subject", "x").returncode == 0
    assert run("close", "s").returncode == 0
    assert around(workdir) == ["a.msg"]


# --- modes -------------------------------------------------------------------------------------


def _umask(mask: int) -> Callable[[], None]:
    def set_it() -> None:
        os.umask(mask)

    return set_it


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_sessions_are_0600_and_outputs_follow_the_umask(run: Run, workdir: Path, mask: int) -> None:
    assert run("open", "s", preexec_fn=_umask(mask)).returncode == 0
    assert stat.S_IMODE(os.stat(workdir / "s").st_mode) == 0o600
    assert run("add", "s", "a.msg", "--subject", "x", preexec_fn=_umask(mask)).returncode == 0
    assert stat.S_IMODE(os.stat(workdir / "s").st_mode) == 0o600
    assert run("open", "--force", "s", preexec_fn=_umask(mask)).returncode == 0
    assert stat.S_IMODE(os.stat(workdir / "s").st_mode) == 0o600
    assert run("add", "s", "a.msg", "--subject", "x").returncode == 0
    assert run("close", "s", preexec_fn=_umask(mask)).returncode == 0
    assert stat.S_IMODE(os.stat(workdir / "a.msg").st_mode) == 0o666 & ~mask


def test_a_replaced_output_keeps_its_mode(run: Run, workdir: Path) -> None:
    (workdir / "a.msg").write_bytes(b"old")
    os.chmod(workdir / "a.msg", 0o640)
    assert run("open", "s").returncode == 0
    assert run("add", "s", "a.msg", "--subject", "x").returncode == 0
    assert run("close", "s").returncode == 0
    assert stat.S_IMODE(os.stat(workdir / "a.msg").st_mode) == 0o640
    assert (workdir / "a.msg").read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the output another owner")
def test_a_replaced_outputs_owner_becomes_the_user_running_close(run: Run, workdir: Path) -> None:
    """What docs/CLI.md says: the mode stays, the owner (and group) become close's user's."""
    (workdir / "a.msg").write_bytes(b"old")
    os.chmod(workdir / "a.msg", 0o640)
    os.chown(workdir / "a.msg", 65534, 65534)
    assert run("open", "s").returncode == 0
    assert run("add", "s", "a.msg", "--subject", "x").returncode == 0
    assert run("close", "s").returncode == 0
    st = os.stat(workdir / "a.msg")
    assert (st.st_uid, st.st_gid) == (os.geteuid(), os.getegid())
    assert stat.S_IMODE(st.st_mode) == 0o640
    docs = (Path(__file__).resolve().parents[2] / "docs" / "CLI.md").read_text(encoding="utf-8")
    assert "its owner (and group) becomes the user running `close`" in docs


# --- a full disk -----------------------------------------------------------------------------


def _file_size_limit(limit: int) -> Callable[[], None]:
    """The child can write at most ``limit`` bytes into a file: writes past it fail (EFBIG), as
    on a full disk; SIGXFSZ is ignored so that the write fails instead of killing the process."""

    def set_it() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return set_it


@pytest.mark.parametrize("limit", [0, 4096, 12288])
def test_open_on_a_full_disk_is_one_line_exit_5(run: Run, workdir: Path, limit: int) -> None:
    done = run("open", "s", preexec_fn=_file_size_limit(limit))
    assert done.returncode == 5, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("msgsess: error: cannot create session s: "), lines
    assert "internal error" not in done.stderr
    assert around(workdir) == []  # no session, no temporary file, no journal


def test_open_force_on_a_full_disk_keeps_the_old_session(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    assert run("add", "s", "a.msg", "--subject", "kept").returncode == 0
    done = run("open", "--force", "s", preexec_fn=_file_size_limit(4096))
    assert done.returncode == 5, done.stderr
    assert around(workdir) == ["s"]
    assert "kept" in run("show", "s", "--json").stdout


# --- a folder that is not writable ------------------------------------------------------------


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder the user cannot write to: mode 0555, or for root (who may write anywhere) a
    read-only tmpfs mounted there; skipped when root cannot mount one."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
        timeout=300,
    )
    if mounted.returncode != 0:
        pytest.skip("root, and no read-only tmpfs can be mounted")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False, timeout=300)


def test_add_warns_when_the_output_folder_is_not_writable(
    run: Run, workdir: Path, read_only_folder: Path
) -> None:
    ro = read_only_folder.relative_to(workdir)
    assert run("open", "s").returncode == 0
    done = run("add", "s", f"{ro}/sub/a.msg", "--subject", "x")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "m1\n"
    assert done.stderr == (
        f"msgsess: warning: m1: folder {read_only_folder} of output {ro}/sub/a.msg is not writable now "
        "(close fails unless that changes)\n"
    )
    quiet = run("add", "--quiet", "s", f"{ro}/b.msg", "--subject", "x")
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == "m2\n"
