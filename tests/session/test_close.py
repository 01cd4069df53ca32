"""close: every output written and readable by others' readers, or none at all."""

from __future__ import annotations

import base64
import sqlite3
import threading
from pathlib import Path
from typing import Any

import extract_msg
import olefile
import pytest

from msgsess import session as use
from msgsess.errors import InvalidParameter, Unconvertible, WriteFailed
from msgsess.session.close import close


@pytest.fixture
def s(workdir: Path) -> str:
    use.open_session("s", ansi=False, codepage=None, force=False)
    return "s"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_close_writes_messages_that_readers_agree_on(s: str, workdir: Path) -> None:
    (workdir / "report.pdf").write_bytes(b"%PDF-1.4 fake")
    use.add(
        s,
        [
            (
                "",
                {
                    "id": "outer",
                    "output": "out/deep/a.msg",
                    "subject": "Quarterly report",
                    "from": "Ann <ann@example.com>",
                    "to": ["Bob <bob@example.com>"],
                    "cc": ["carol@example.com"],
                    "body": "See attached.",
                    "attachments": [{"file": "report.pdf"}, {"message": "inner"}],
                },
            ),
            ("", {"id": "inner", "subject": "Earlier note", "body": "inner body"}),
        ],
    )
    result = close(s)
    target = workdir / "out" / "deep" / "a.msg"
    assert result.written == [target]
    assert not (workdir / "s").exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.msg"]
    with extract_msg.openMsg(str(target)) as msg:
        assert msg.subject == "Quarterly report"
        assert msg.body.strip() == "See attached."
        assert [r.email for r in msg.recipients] == ["bob@example.com", "carol@example.com"]
        names = [getattr(a, "longFilename", None) for a in msg.attachments]
        assert names[0] == "report.pdf"
        assert msg.attachments[0].data == b"%PDF-1.4 fake"
        assert msg.attachments[1].data.subject == "Earlier note"
    with olefile.OleFileIO(str(target)) as ole:
        assert ole.exists("__substg1.0_0037001F")
        assert ole.exists("__attach_version1.0_#00000001/__substg1.0_3701000D/__properties_version1.0")


def test_reproducible_with_source_date_epoch(s: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use.add(s, [("", {"output": "a.msg", "subject": "Same", "to": ["b@example.com"]})])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    close(s, keep=True)
    first = (workdir / "a.msg").read_bytes()
    close(s, keep=True)
    assert (workdir / "a.msg").read_bytes() == first
    with extract_msg.openMsg(str(workdir / "a.msg")) as msg:
        assert msg.props.get("30070040").value.timestamp() == 1700000000  # PR_CREATION_TIME


def test_a_failure_on_the_third_message_writes_nothing(s: str, workdir: Path) -> None:
    (workdir / "existing.msg").write_bytes(b"old output")
    (workdir / "blocker").write_text("a file where a folder would have to be")
    use.add(
        s,
        [
            ("", {"output": "existing.msg", "subject": "one"}),
            ("", {"output": "new/two.msg", "subject": "two"}),
            ("", {"output": "blocker/three.msg", "subject": "three"}),
            ("", {"output": "four.msg", "subject": "four"}),
        ],
    )
    before = snapshot(workdir)
    with pytest.raises(WriteFailed, match=r"three\.msg"):
        close(s)
    assert snapshot(workdir) == before  # no temporaries, no new folder, old output unchanged
    assert [m["subject"] for m in use.show(s)] == ["one", "two", "three", "four"]


def test_check_collects_every_problem_before_writing(s: str, workdir: Path) -> None:
    use.add(s, [("", {"output": "a.msg"}), ("", {"id": "lonely"}), ("", {"id": "other"})])
    (workdir / "dir.msg").mkdir()
    use.add(s, [("", {"output": "dir.msg"})])
    with pytest.raises(InvalidParameter) as info:
        close(s)
    text = str(info.value)
    assert "message lonely has no output" in text and "message other has no output" in text
    assert "is a folder" in text
    assert not (workdir / "a.msg").exists()


def test_ansi_text_the_code_page_cannot_hold(workdir: Path) -> None:
    use.open_session("s", ansi=True, codepage=1252, force=False)
    use.add("s", [("", {"output": "a.msg", "subject": "Привет"}), ("", {"output": "b.msg", "subject": "ok"})])
    with pytest.raises(Unconvertible, match=r"message m1: \$\.subject has 'П' \(U\+041F\).*code page 1252"):
        close("s")
    assert not (workdir / "a.msg").exists() and not (workdir / "b.msg").exists()
    close("s", codepage=1251)
    with extract_msg.openMsg(str(workdir / "a.msg")) as msg:
        assert msg.subject == "Привет"
    with olefile.OleFileIO(str(workdir / "a.msg")) as ole:
        assert ole.exists("__substg1.0_0037001E")


def test_embedded_msg_files_are_captured(s: str, workdir: Path) -> None:
    use.add(s, [("", {"id": "src", "output": "src.msg", "subject": "Original"})])
    close(s, keep=True)
    data = (workdir / "src.msg").read_bytes()
    use.add(s, [("", {"output": "fwd.msg", "subject": "Fwd", "attachments": [{"msg": "src.msg"}]})])
    (workdir / "src.msg").unlink()
    dump = list(use.show(s))
    assert base64.b64decode(dump[1]["attachments"][0]["msg_data"]) == data
    close(s)
    with extract_msg.openMsg(str(workdir / "fwd.msg")) as msg:
        assert msg.attachments[0].data.subject == "Original"


def test_a_broken_msg_file_is_refused_when_added(s: str, workdir: Path) -> None:
    (workdir / "bad.msg").write_bytes(b"not a compound file")
    with pytest.raises(Exception, match=r"bad\.msg") as info:
        use.attach(s, *use.add(s, [("", {"output": "a.msg"})]), [{"msg": "bad.msg"}])
    assert info.value.__class__.__name__ == "CorruptFile"


def test_close_waits_for_readers_before_it_writes_anything(s: str, workdir: Path, run: Any) -> None:
    use.add(s, [("", {"output": "out/a.msg", "subject": "one"}), ("", {"output": "b.msg", "subject": "two"})])
    before = snapshot(workdir)
    # A reader (as `msgsess show` is) in the middle of its read transaction, for the whole close.
    reader = sqlite3.connect(workdir / "s", isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM messages").fetchone()[0] == 2
    try:
        proc = run("close", "s", env={"MSGSESS_LOCK_TIMEOUT": "1"})
    finally:
        reader.execute("ROLLBACK")
    assert proc.returncode == 6, proc.stderr
    assert "locked by another command" in proc.stderr
    # It failed before writing: no output, temporary or folder, and the session as it was.
    assert snapshot(workdir) == before
    assert [m["subject"] for m in use.show(s)] == ["one", "two"]

    # A reader that finishes while close waits for it: close then writes everything.
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM messages").fetchone()
    timer = threading.Timer(0.5, reader.execute, ("ROLLBACK",))
    timer.start()
    try:
        proc = run("close", "s", env={"MSGSESS_LOCK_TIMEOUT": "60"})
    finally:
        timer.join()
        reader.close()
    assert proc.returncode == 0, proc.stderr
    assert not (workdir / "s").exists()
    for name, subject in (("out/a.msg", "one"), ("b.msg", "two")):
        with extract_msg.openMsg(str(workdir / name)) as msg:
            assert msg.subject == subject


def test_close_refuses_a_code_page_that_is_not_8_bit(workdir: Path) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    use.add("s", [("", {"output": "a.msg", "subject": "Hi"})])
    for codepage in (1200, 1201, 12000, 12001, 65000, 500):
        with pytest.raises(InvalidParameter, match=f"code page {codepage} "):
            close("s", unicode=False, codepage=codepage)
    assert not (workdir / "a.msg").exists()
    close("s", unicode=False, codepage=65001)
    with olefile.OleFileIO(str(workdir / "a.msg")) as ole:
        assert ole.openstream("__substg1.0_0037001E").read().rstrip(b"\x00") == b"Hi"


def test_checkpoint_runs_once_before_any_output_is_moved(s: str, workdir: Path) -> None:
    use.add(s, [("", {"output": f"out/m{i}.msg", "subject": f"S{i}"}) for i in range(3)])
    seen: list[list[str]] = []

    def checkpoint() -> None:
        seen.append(sorted(p.name for p in (workdir / "out").iterdir()))

    close(s, checkpoint=checkpoint)
    assert len(seen) == 1
    assert not any(name.endswith(".msg") for name in seen[0])  # temporary files only
    assert len(seen[0]) == 3
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["m0.msg", "m1.msg", "m2.msg"]


def test_a_checkpoint_that_stops_changes_nothing(s: str, workdir: Path) -> None:
    use.add(s, [("", {"output": "out/a.msg"})])

    def stop() -> None:
        raise SystemExit(143)

    with pytest.raises(SystemExit):
        close(s, checkpoint=stop)
    assert not (workdir / "out").exists()
    assert use.session_info(s)[2] == 1


def test_an_empty_session_also_reaches_the_checkpoint(s: str, workdir: Path) -> None:
    def stop() -> None:
        raise SystemExit(130)

    with pytest.raises(SystemExit):
        close(s, checkpoint=stop)
    assert (workdir / s).exists()


def test_close_keeps_a_session_put_at_the_path_after_its_commit(s: str, workdir: Path) -> None:
    # The removal compares the file at the path with the one closed; a session replaced after
    # close's COMMIT (here: the file close had open is moved away first) is not removed.
    import os

    use.add(s, [("", {"output": "a.msg"})])

    def swap() -> None:
        os.rename(s, "old")
        use.open_session(s, ansi=False, codepage=None, force=False)

    close(s, checkpoint=swap)
    assert (workdir / "a.msg").exists()
    assert use.session_info(s) == (True, 1252, 0)


def test_a_temporary_file_gone_before_the_commit_is_a_one_line_error(
    s: str, workdir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A temporary file removed while close runs (a tmp cleaner) fails the close with the output
    named, everything undone — also in a folder close made, moved into place the quick way —
    and with nothing on stderr (the ledger's cursor is closed before its connection)."""
    use.add(s, [("", {"output": f"new/m{i}.msg", "subject": f"S{i}"}) for i in range(3)])

    def remove_one() -> None:
        temps = sorted((workdir / "new").iterdir())
        temps[1].unlink()

    with pytest.raises(WriteFailed, match=r"cannot replace .*new/m\d\.msg"):
        close(s, checkpoint=remove_one)
    import gc

    gc.collect()
    assert not (workdir / "new").exists()
    assert use.session_info(s)[2] == 3  # the session as it was
    assert "Exception ignored" not in capfd.readouterr().err
