"""The SQLite store: one file, one transaction per command, locks with a timeout, killed commands."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from msgsess import session as use
from msgsess.errors import Collision, NotFound, SessionBusy, SessionError
from msgsess.session.store import APPLICATION_ID, transaction


def test_open_creates_one_file_and_refuses_to_replace(workdir: Path) -> None:
    use.open_session("s.session", ansi=False, codepage=None, force=False)
    assert sorted(p.name for p in workdir.iterdir()) == ["s.session"]
    with sqlite3.connect("s.session") as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    with pytest.raises(SessionError, match="already exists"):
        use.open_session("s.session", ansi=False, codepage=None, force=False)
    use.add("s.session", [("", {"subject": "kept?"})])
    use.open_session("s.session", ansi=True, codepage=1251, force=True)
    assert use.session_info("s.session") == (False, 1251, 0)


def test_commands_leave_no_journal_beside_the_session(workdir: Path) -> None:
    use.open_session("s.session", ansi=False, codepage=None, force=False)
    (workdir / "a.txt").write_bytes(b"abc")
    use.add("s.session", [("", {"output": "a.msg", "attachments": [{"file": "a.txt"}]})])
    use.set_property("s.session", "m1", "PidTagImportance", "2")
    assert sorted(p.name for p in workdir.iterdir()) == ["a.txt", "s.session"]


def test_missing_and_foreign_files_are_not_sessions(workdir: Path) -> None:
    with pytest.raises(SessionError, match="does not exist"):
        use.add("nope.session", [("", {})])
    assert not (workdir / "nope.session").exists()
    (workdir / "text.session").write_text("hello, not a database\n" * 50)
    with pytest.raises(SessionError, match="not a msgsess session"):
        use.add("text.session", [("", {})])
    other = sqlite3.connect(workdir / "other.db")
    other.execute("CREATE TABLE t (x)")
    other.commit()
    other.close()
    with pytest.raises(SessionError, match="not a msgsess session"):
        list(use.show("other.db"))


def test_ids_are_assigned_from_a_counter_and_skip_chosen_ones(workdir: Path) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    assert use.add("s", [("", {"id": "m2"}), ("", {}), ("", {})]) == ["m2", "m1", "m3"]
    with pytest.raises(Collision, match="'m1' already exists"):
        use.add("s", [("", {"id": "m1"})])


def test_a_failing_command_changes_nothing(workdir: Path) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    use.add("s", [("", {"output": "a.msg"})])
    with pytest.raises(NotFound, match=r"missing\.bin"):
        use.add("s", [("", {"output": "b.msg"}), ("", {"attachments": [{"file": "missing.bin"}]})])
    assert [m["id"] for m in use.show("s")] == ["m1"]
    # The counter was rolled back as well.
    assert use.add("s", [("", {})]) == ["m2"]


def test_waiting_for_a_lock_ends_in_session_busy(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    monkeypatch.setenv("MSGSESS_LOCK_TIMEOUT", "0.2")
    holder = sqlite3.connect("s", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(SessionBusy, match="locked by another command"):
            use.add("s", [("", {"subject": "x"})])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert use.add("s", [("", {"subject": "x"})]) == ["m1"]


def test_a_killed_command_leaves_the_session_as_before(workdir: Path) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    use.add("s", [("", {"output": "a.msg", "subject": "before"})])
    before = list(use.show("s"))
    # A writer that dies in the middle of its transaction (after writing pages to the file).
    script = textwrap.dedent(
        """
        import os, sys
        from msgsess.session.store import transaction
        with transaction("s", write=True) as store:
            store.conn.execute("PRAGMA cache_size = 5")  # spill changed pages into the file early
            for i in range(2000):
                store.insert(f"x{i}", None, {"subject": "x" * 500})
            store.update_spec("m1", {"subject": "after"})
            os._exit(9)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=workdir, check=False, timeout=300)
    assert proc.returncode == 9
    assert (workdir / "s").stat().st_size > 100_000  # the dead writer did change the file
    assert list(use.show("s")) == before
    assert use.add("s", [("", {})]) == ["m2"]
    assert not (workdir / "s-journal").exists()


def test_read_transactions_do_not_write(workdir: Path) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    stamp = (workdir / "s").stat().st_mtime_ns
    with transaction("s", write=False) as store:
        assert store.count() == 0
    assert (workdir / "s").stat().st_mtime_ns == stamp


def test_discard_removes_the_session(workdir: Path) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    use.discard("s")
    assert not (workdir / "s").exists()
    (workdir / "plain.txt").write_text("keep me")
    with pytest.raises(SessionError):
        use.discard("plain.txt")
    assert (workdir / "plain.txt").read_text() == "keep me"


def test_open_force_removes_a_journal_left_beside_the_old_session(workdir: Path) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    use.add("s", [("", {"output": "old.msg", "subject": "old"})])
    # A writer killed in the middle of its transaction leaves a hot journal of the old file.
    script = textwrap.dedent(
        """
        import os
        from msgsess.session.store import transaction
        with transaction("s", write=True) as store:
            store.conn.execute("PRAGMA cache_size = 5")
            for i in range(2000):
                store.insert(f"x{i}", None, {"subject": "x" * 500})
            os._exit(9)
        """
    )
    assert (
        subprocess.run([sys.executable, "-c", script], cwd=workdir, check=False, timeout=300).returncode == 9
    )
    assert (workdir / "s-journal").stat().st_size > 0
    use.open_session("s", ansi=True, codepage=1251, force=True)
    assert not (workdir / "s-journal").exists()  # not played back into the new file by its next opener
    assert use.session_info("s") == (False, 1251, 0)
    assert use.add("s", [("", {"output": "new.msg", "subject": "new"})]) == ["m1"]
    assert [m["subject"] for m in use.show("s")] == ["new"]
    with sqlite3.connect(workdir / "s") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_show_holds_no_lock_while_its_caller_works(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    use.add("s", [("", {"output": f"{i}.msg", "subject": f"n{i}"}) for i in range(3)])
    monkeypatch.setenv("MSGSESS_LOCK_TIMEOUT", "1")
    shown = use.show("s")
    assert next(shown)["subject"] == "n0"
    # The caller is busy (printing into a slow pipe…) between two messages: writers go on.
    assert use.add("s", [("", {"output": "late.msg", "subject": "late"})]) == ["m4"]
    use.set_property("s", "m2", "PidTagImportance", "2")
    assert [m["subject"] for m in shown] == ["n1", "n2", "late"]
    assert next(use.show("s", "m2"))["properties"] == {"PidTagImportance": 2}


def test_show_reads_every_message_across_its_short_transactions(workdir: Path) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    use.add("s", [("", {"id": f"x{i}", "output": f"{i}.msg"}) for i in range(300)])
    assert [m["id"] for m in use.show("s")] == [f"x{i}" for i in range(300)]
    assert [m["id"] for m in use.show("s", data=False)] == [f"x{i}" for i in range(300)]


def test_show_without_data_reads_sizes_not_bytes(workdir: Path) -> None:
    import tracemalloc

    use.open_session("s", ansi=False, codepage=None, force=False)
    big = 32 << 20
    (workdir / "big.bin").write_bytes(b"\x5a" * big)
    use.add("s", [("", {"output": "a.msg", "attachments": [{"file": "big.bin"}]})])
    (workdir / "big.bin").unlink()
    tracemalloc.start()
    try:
        specs = list(use.show("s", data=False))
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert specs[0]["attachments"] == [{"data": None, "size": big, "name": "big.bin"}]
    assert peak < big // 8  # the size came from SQL (length(data)); the bytes stayed on disk


# --- sessions replaced or closed under a command (review 2) ----------------------------------


def _file_id(path: str) -> tuple[int, int]:
    import os

    st = os.stat(path)
    return st.st_dev, st.st_ino


def test_remove_store_keeps_a_session_put_at_the_path_meanwhile(workdir: Path) -> None:
    from msgsess.session.store import remove_store

    use.open_session("s", ansi=False, codepage=None, force=False)
    old = _file_id("s")
    use.open_session("s", ansi=False, codepage=None, force=True)  # a new file at the same path
    use.add("s", [("", {"output": "a.msg"})])
    assert remove_store("s", old) is False
    assert use.session_info("s") == (True, 1252, 1)
    assert remove_store("s", _file_id("s")) is True
    assert not (workdir / "s").exists()


def _mark_closed(path: str) -> None:
    """What a close or discard killed between its COMMIT and the removal of the file leaves."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('closed', '1')")
    conn.close()


def test_a_session_left_marked_closed_can_be_discarded_or_replaced(workdir: Path) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    use.add("s", [("", {"output": "a.msg"})])
    _mark_closed("s")
    with pytest.raises(SessionError, match="has been closed") as info:
        use.add("s", [("", {"output": "b.msg"})])
    assert "msgsess open s" in str(info.value.hint)
    use.discard("s")
    assert not (workdir / "s").exists()

    use.open_session("s", ansi=False, codepage=None, force=False)
    use.add("s", [("", {"output": "a.msg"})])
    _mark_closed("s")
    use.open_session("s", ansi=True, codepage=1251, force=False)  # replaces the closed one
    assert use.session_info("s") == (False, 1251, 0)
    with pytest.raises(SessionError, match="already exists"):  # a live session is not replaced
        use.open_session("s", ansi=False, codepage=None, force=False)


def test_each_session_file_has_its_own_token(workdir: Path) -> None:
    tokens = []
    for _ in range(2):
        use.open_session("s", ansi=False, codepage=None, force=True)
        with transaction("s", write=False) as store:
            identity = store.identity()
        assert identity is not None and identity[:2] == _file_id("s")
        tokens.append(identity[2])
    assert None not in tokens and tokens[0] != tokens[1]


def test_a_command_that_waited_on_a_replaced_session_says_so(workdir: Path) -> None:
    # open --force retires the old file (marks it replaced) before it moves the new one in;
    # a command that was waiting for the old file finds that mark, with either file at the path.
    from msgsess.session.store import _retire

    use.open_session("s", ansi=False, codepage=None, force=False)
    _retire(Path("s"))
    with pytest.raises(SessionError, match="was replaced by open --force") as info:
        use.add("s", [("", {"output": "a.msg"})])
    assert "run the command again" in str(info.value.hint)
    _mark_closed("s")  # a close killed before it removed the file: closed, not replaced
    with pytest.raises(SessionError, match="has been closed"):
        use.add("s", [("", {"output": "a.msg"})])


@pytest.mark.parametrize("name", ["x.session", "sub/x.session", "//double/x.session"])
def test_a_session_named_from_the_root_folder_opens(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Docker and systemd start commands in "/": a relative session name there is "/x", and the
    SQLite URI must not read the start of a path as a host ("file://x" is host x)."""
    from msgsess.session import store

    monkeypatch.chdir("/")
    uri = store._uri(name, "mode=rw")
    assert uri.startswith("file:///") and uri.endswith("?mode=rw")
    assert uri[len("file://") : -len("?mode=rw")] == str(Path(name).absolute())


def test_session_commands_work_from_the_root_folder(tmp_path: Path) -> None:
    """A real process started in "/" with a relative session path (the session under tmp_path)."""
    rel = str(tmp_path.relative_to("/") / "s.session")
    out = str(tmp_path.relative_to("/") / "o.msg")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "msgsess", *args], cwd="/", capture_output=True, text=True, timeout=120
        )

    assert run("open", rel).returncode == 0
    added = run("add", rel, out, "--subject", "from /", "--to", "b@example.com")
    assert (added.returncode, added.stdout) == (0, "m1\n"), added.stderr
    shown = run("show", rel, "--json")
    assert shown.returncode == 0 and '"subject":"from /"' in shown.stdout, shown.stderr
    closed = run("close", rel)
    assert closed.returncode == 0, closed.stderr
    assert (tmp_path / "o.msg").read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")


def test_real_paths_in_a_folder_not_there_yet(tmp_path: Path) -> None:
    """An output in a missing folder is not looked at (nothing can be there: a first close's
    outputs), yet two names of one file are still one real path."""
    from msgsess.session.store import RealPaths

    real_path = RealPaths()
    link = tmp_path / "lnk"
    link.symlink_to(tmp_path / "new")  # to a folder that does not exist yet
    expected = (str(tmp_path / "new" / "a.msg"), False)
    assert real_path(str(tmp_path / "new" / "a.msg")) == expected
    assert real_path(str(tmp_path / "new" / "." / "a.msg")) == expected
    assert real_path(str(link / "a.msg")) == expected
    (tmp_path / "old" / "a.msg").mkdir(parents=True)
    assert real_path(str(tmp_path / "old" / "a.msg")) == (str(tmp_path / "old" / "a.msg"), True)
