"""The public API (``import msgsess``): docs/API.md runs as written, and the library and the
command line make the very same files."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
from pathlib import Path

import olefile
import pytest

import msgsess
from msgsess.errors import InvalidParameter, NotFound, SessionError

ROOT = Path(__file__).resolve().parents[1]
API_MD = ROOT / "docs" / "API.md"
EPOCH = "1714557600"


@pytest.fixture
def reproducible(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    return workdir


@pytest.mark.skipif(not API_MD.exists(), reason="docs/API.md is not part of this checkout")
def test_every_example_of_the_api_page_runs_as_written(reproducible: Path) -> None:
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testfile(str(API_MD), module_relative=False, optionflags=flags, raise_on_error=False)
    assert result.attempted > 30
    assert result.failed == 0


def _readme_by_cli(folder: Path) -> None:
    """The README's "A session in five lines", run by the shell as printed (as a real process)."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "MSGSESS": f"{sys.executable} -m msgsess"}
    script = """
    set -eu
    $MSGSESS open work.session
    id=$($MSGSESS add work.session out/hello.msg --subject "Hello" \\
          --from "Alice <alice@example.com>" --to "Bob <bob@example.com>" --body "Hi Bob")
    $MSGSESS attach work.session "$id" report.pdf
    $MSGSESS set work.session "$id" PidTagImportance 2
    $MSGSESS close work.session
    """
    done = subprocess.run(
        ["sh", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr


def _readme_by_api(folder: Path) -> None:
    """The same session through the library."""
    os.chdir(folder)
    with msgsess.Session.create("work.session") as s:
        m = s.add(
            output="out/hello.msg",
            subject="Hello",
            from_="Alice <alice@example.com>",
            to=["Bob <bob@example.com>"],
            body="Hi Bob",
        )
        s.attach(m, "report.pdf")
        s.set(m, "PidTagImportance", 2)


def test_the_readme_session_gives_the_same_file_through_the_api_and_the_cli(
    reproducible: Path,
) -> None:
    for name in ("cli", "api"):
        (reproducible / name).mkdir()
        (reproducible / name / "report.pdf").write_bytes(b"%PDF-1.4 quarterly numbers")
    _readme_by_cli(reproducible / "cli")
    _readme_by_api(reproducible / "api")
    by_cli = (reproducible / "cli" / "out" / "hello.msg").read_bytes()
    by_api = (reproducible / "api" / "out" / "hello.msg").read_bytes()
    assert by_api == by_cli
    with olefile.OleFileIO(by_api) as ole:  # a compound file a reader we did not write opens
        assert ole.exists("__substg1.0_0037001F")
    # compose + write, with the session's id, give the very same bytes without a session.
    message = msgsess.compose(
        {
            "id": "m1",
            "subject": "Hello",
            "from": "Alice <alice@example.com>",
            "to": ["Bob <bob@example.com>"],
            "body": "Hi Bob",
            "attachments": [{"file": str(reproducible / "api" / "report.pdf")}],
            "properties": {"PidTagImportance": 2},
        }
    )
    msgsess.write(message, reproducible / "composed.msg")
    assert (reproducible / "composed.msg").read_bytes() == by_cli


def test_a_with_block_that_raises_writes_nothing_and_keeps_the_session(workdir: Path) -> None:
    with pytest.raises(RuntimeError), msgsess.Session.create("s") as s:
        s.add(output="a.msg", subject="kept")
        raise RuntimeError("stop")
    assert not (workdir / "a.msg").exists()
    assert [m["subject"] for m in msgsess.Session.open("s").show()] == ["kept"]


def test_open_creates_a_session_only_where_there_is_none(workdir: Path) -> None:
    msgsess.Session.create("ansi", unicode=False, codepage="windows-1251")
    assert msgsess.Session.open("ansi").info() == msgsess.SessionInfo(False, 1251, 0)
    assert msgsess.Session.open("new").info().unicode
    (workdir / "notes.txt").write_text("not a session")
    with pytest.raises(SessionError):
        msgsess.Session.open("notes.txt")
    assert (workdir / "notes.txt").read_text() == "not a session"
    with pytest.raises(InvalidParameter, match="ANSI"):
        msgsess.Session.create("x", codepage=1252)


def test_attach_takes_paths_specs_bytes_messages_and_msg_files(workdir: Path) -> None:
    (workdir / "a.txt").write_text("a")
    s = msgsess.Session.create("s")
    m = s.add(output="out/m.msg", subject="parent")
    child = s.add(subject="child")
    msgsess.write(msgsess.compose(subject="old"), workdir / "old.msg")
    assert s.attach(m, workdir / "a.txt", {"data": "Yg==", "name": "b.txt"}) == [0, 1]
    assert s.attach(m, data=b"c", name="c.txt", mime="text/plain") == [2]
    assert s.attach(m, message=child) == [3]
    assert s.attach(m, msg="old.msg", name="old") == [4]
    with pytest.raises(InvalidParameter, match="nothing to attach"):
        s.attach(m)
    s.close()
    names = [a.name for a in msgsess.read("out/m.msg").attachments]
    assert names == ["a.txt", "b.txt", "c.txt", "child", "old"]


def test_set_takes_python_values(workdir: Path) -> None:
    import datetime as dt

    s = msgsess.Session.create("s")
    m = s.add(output="out/m.msg")
    s.set(m, "PidTagImportance", 2)
    s.set(m, "PidLidReminderSet", True)
    s.set(m, "PidTagDeferredDeliveryTime", dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC))
    s.set(m, "PS_PUBLIC_STRINGS:Blob", b"\x00\x01", type="PT_BINARY")
    s.set(m, "PidNameKeywords", ["a", "b"])
    s.close()
    props = msgsess.read("out/m.msg").props
    assert props.value("PidTagImportance") == 2 and props.value("PidLidReminderSet") is True
    assert props.value("PidTagDeferredDeliveryTime").to_datetime() == dt.datetime(
        2024, 5, 1, 9, 30, tzinfo=dt.UTC
    )
    assert props.value("PS_PUBLIC_STRINGS:Blob") == b"\x00\x01"
    assert props.value("PidNameKeywords") == ["a", "b"]


def test_props_take_names_and_say_what_is_unknown(workdir: Path) -> None:
    message = msgsess.compose(subject="Hi", categories=["x"])
    assert message.props["PidTagSubject"] is message.props[0x0037]
    assert (
        message.props.value("PidNameKeywords") == ["x"] == message.props.value("PS_PUBLIC_STRINGS:Keywords")
    )
    assert "PidTagBody" not in message.props and "PidTagNoSuchName" not in message.props
    with pytest.raises(KeyError):
        message.props["PidTagBody"]
    with pytest.raises(NotFound, match="PidTagSubjct"):
        message.props["PidTagSubjct"]
    message.props.set("PidTagBody", 0x001F, "text")
    assert message.props.pop("PR_BODY").value == "text"


def test_compose_reads_files_like_add_and_refuses_session_messages(workdir: Path) -> None:
    with pytest.raises(NotFound) as info:
        msgsess.compose(attachments=[{"file": "missing.pdf"}])
    assert info.value.where == ("message", "attachment 0")
    with pytest.raises(InvalidParameter, match="another message of a session"):
        msgsess.compose(attachments=[{"message": "m1"}])
    with pytest.raises(InvalidParameter, match=r"\$\.colour: unknown key"):
        msgsess.compose(colour="blue")


def test_every_public_name_resolves_and_import_msgsess_stays_light() -> None:
    for name in msgsess.__all__:
        assert getattr(msgsess, name) is not None, name
    assert callable(msgsess.compose) and not isinstance(msgsess.compose, type(msgsess))
    code = "import sys, msgsess; print(sorted(m for m in sys.modules if m.startswith('msgsess')))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "['msgsess']"  # the API loads on first use


def test_unset_removes_a_value_and_the_default_msgsess_would_set(workdir: Path) -> None:
    s = msgsess.Session.create("s")
    m = s.add(output="out/m.msg", subject="plain", importance="high")
    s.unset(m, "PidTagImportance")
    s.unset(m, "PidTagMessageFlags")  # a default of every message msgsess writes
    s.close()
    props = msgsess.read("out/m.msg").props
    assert props.value("PidTagSubject") == "plain"
    assert "PidTagImportance" not in props and "PidTagMessageFlags" not in props
    with olefile.OleFileIO("out/m.msg") as ole:  # a reader we did not write agrees
        assert ole.exists("__substg1.0_0037001F")


def test_rm_removes_all_or_none_and_force_detaches_embedded_copies(workdir: Path) -> None:
    s = msgsess.Session.create("s")
    parent = s.add(output="out/p.msg", subject="parent")
    child = s.add(subject="child")
    other = s.add(output="out/o.msg", subject="other")
    s.attach(parent, message=child)
    with pytest.raises(msgsess.MsgsessError, match=f"message {child} is embedded in message {parent}"):
        s.rm(other, child)
    assert s.ids() == [parent, child, other]  # none removed
    removed = s.rm(child, other, force=True)
    assert removed.ids == [child, other] and removed.detached == [(parent, 0, child)]
    assert s.ids() == [parent]
    with pytest.raises(NotFound):
        s.rm("m9")
    s.close()
    assert msgsess.read("out/p.msg").attachments == [] and not (workdir / "out" / "o.msg").exists()


def test_show_without_data_leaves_the_bytes_out(workdir: Path) -> None:
    s = msgsess.Session.create("s")
    m = s.add(output="out/m.msg", attachments=[{"data": "aGVsbG8=", "name": "h.txt"}])
    (full,) = s.show(m)
    (light,) = s.show(m, data=False)
    assert full["attachments"][0]["data"] == "aGVsbG8="
    assert light["attachments"][0]["data"] is None and light["attachments"][0]["size"] == 5


def test_compose_reads_msg_files_to_embed_and_to_edit(workdir: Path) -> None:
    msgsess.write(msgsess.compose(subject="inner", body="kept"), workdir / "inner.msg")
    outer = msgsess.compose(subject="outer", attachments=[{"msg": "inner.msg"}])
    embedded = outer.attachments[0].embedded
    assert embedded is not None and embedded.props.value("PidTagBody") == "kept"
    edited = msgsess.compose(source={"file": "inner.msg"}, subject="changed")
    assert edited.props.value("PidTagSubject") == "changed"
    assert edited.props.value("PidTagBody") == "kept"  # what the edit did not change stays


def test_check_and_dump_read_files_as_the_commands_do(workdir: Path) -> None:
    from msgsess import api

    msgsess.write(msgsess.compose(subject="Hi", to=["bob@example.com"]), workdir / "ok.msg")
    (workdir / "bad.msg").write_bytes(b"not a compound file")
    good, bad = api.check("ok.msg"), api.check("bad.msg")
    assert good.readable and not [f for f in good.findings if f.severity == "error"]
    assert not bad.readable and bad.error is not None and bad.error.exit_code == 8
    assert bad.to_json()["error"].startswith("bad.msg: ")
    data = api.dump("ok.msg")
    assert data == api.dump((workdir / "ok.msg").read_bytes()) == api.dump(msgsess.read("ok.msg"))
    assert next(p["value"] for p in data["properties"] if p["name"] == "PidTagSubject") == "Hi"
    with pytest.raises(msgsess.MsgsessError) as info:
        api.read(b"junk", name="stdin")
    assert info.value.where == ("stdin",) and info.value.exit_code == 8
    top = api.outline("ok.msg")
    assert [level.heading for level in top.below] == ["recipient 0"]
