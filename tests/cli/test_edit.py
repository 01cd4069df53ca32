"""``msgsess edit`` through the command line: lossless no-op edits of every corpus file, changes
whose derived values stay true, ANSI <-> Unicode, numbering, show/show --json, errors.

Outputs are read back with extract-msg (and olefile for raw streams), readers we did not write.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import extract_msg
import olefile
import pytest
from click.testing import Result

from tests.conftest import ok, prop

pytestmark = pytest.mark.usefixtures("quiet_extract_msg")

Invoke = Callable[..., Result]
Run = Callable[..., Any]
ROOT = Path(__file__).resolve().parents[2]

# The level-by-level comparison of the library's corpus round trip, reused as is.
_spec = importlib.util.spec_from_file_location(
    "_corpus_roundtrip", ROOT / "tests" / "test_corpus_roundtrip.py"
)
assert _spec is not None and _spec.loader is not None
rt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rt)

CORPUS: Path = rt.CORPUS
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")

PR_DISPLAY_TO = "0E04001F"
PR_DISPLAY_CC = "0E03001F"
PR_HASATTACH = "0E1B000B"
PR_MESSAGE_FLAGS = "0E070003"
MSGFLAG_HASATTACH = 0x10


def copy(name: str, workdir: Path, as_name: str | None = None) -> Path:
    target = workdir / (as_name or Path(name).name)
    shutil.copyfile(CORPUS / name, target)
    return target


def string(msg: Any, key: str) -> str | None:
    value = msg.getStringStream(f"__substg1.0_{key[:4]}")
    return None if value is None else str(value)


def streams(path: Path) -> set[str]:
    with olefile.OleFileIO(str(path)) as ole:
        return {"/".join(entry) for entry in ole.listdir()}


# --------------------------------------------------------------------------- lossless


@pytest.mark.parametrize("path", rt._params())
def test_edit_then_close_keeps_every_property(invoke: Invoke, workdir: Path, path: Path) -> None:
    """edit + close with no change: every level's properties equal the original's (extract-msg)."""
    ok(invoke("open", "s.session"))
    ok(invoke("edit", "s.session", str(path), "--out", "copy.msg"))
    ok(invoke("close", "s.session"))
    before, after = rt._read_levels(path), rt._read_levels(workdir / "copy.msg")
    assert list(before) == list(after)
    problems = []
    for level, key, what in rt._differences(before, after):
        problems.append(f"{level}: {key} {what}")
    assert not problems, "\n".join(problems[:40])


@needs_corpus
def test_edit_writes_back_to_the_file_itself(invoke: Invoke, workdir: Path) -> None:
    path = copy("msgreader/Subject.msg", workdir, "mine.msg")
    path.chmod(0o644)
    ok(invoke("open", "s"))
    assert ok(invoke("edit", "s", "mine.msg", "--id", "e")).strip() == "e"
    ok(invoke("set", "s", "e", "PidTagSubject", "Changed in place"))
    ok(invoke("close", "s"))
    with extract_msg.Message(str(path)) as msg:
        assert msg.subject == "Changed in place"
        assert len(msg.recipients) == 3


# --------------------------------------------------------------------------- derived values


@needs_corpus
def test_removing_and_adding_recipients_keeps_display_lists_true(invoke: Invoke, workdir: Path) -> None:
    copy("msgreader/Subject.msg", workdir, "in.msg")
    with extract_msg.Message(str(workdir / "in.msg")) as msg:
        names = [r.name for r in msg.recipients]
        kinds = [r.type for r in msg.recipients]
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "in.msg", "--out", "out.msg"))
    ok(invoke("recipient", "s", "m1", "--remove", "0"))
    assert ok(invoke("recipient", "s", "m1", "--cc", "Zed <zed@example.com>")).split() == ["2"]
    ok(invoke("close", "s"))
    with extract_msg.Message(str(workdir / "out.msg")) as msg:
        got = [(r.name, r.type) for r in msg.recipients]
        assert got == [*list(zip(names, kinds, strict=True))[1:], ("Zed", extract_msg.enums.RecipientType.CC)]
        to = [n for n, k in got if k == extract_msg.enums.RecipientType.TO]
        cc = [n for n, k in got if k == extract_msg.enums.RecipientType.CC]
        assert (string(msg, PR_DISPLAY_TO) or "") == "; ".join(to)
        assert string(msg, PR_DISPLAY_CC) == "; ".join(cc)
        assert names[0] not in (string(msg, PR_DISPLAY_TO) or "") + (string(msg, PR_DISPLAY_CC) or "")


@needs_corpus
def test_renaming_an_original_recipient_updates_the_display_list(invoke: Invoke, workdir: Path) -> None:
    copy("msgreader/Subject.msg", workdir, "in.msg")
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "in.msg", "--out", "out.msg"))
    ok(invoke("set", "s", "m1", "PidTagDisplayName", "Renamed Person", "--recipient", "0"))
    ok(invoke("close", "s"))
    with extract_msg.Message(str(workdir / "out.msg")) as msg:
        assert msg.recipients[0].name == "Renamed Person"
        assert string(msg, PR_DISPLAY_TO) == "Renamed Person"


@needs_corpus
def test_removing_the_last_attachment_clears_the_flags(invoke: Invoke, workdir: Path) -> None:
    copy("msgreader/attachmentFiles.msg", workdir, "in.msg")
    with extract_msg.Message(str(workdir / "in.msg")) as msg:
        assert len(msg.attachments) == 3
        assert prop(msg, PR_MESSAGE_FLAGS) & MSGFLAG_HASATTACH
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "in.msg", "--out", "out.msg"))
    for _ in range(3):
        ok(invoke("detach", "s", "m1", "0"))
    result = invoke("detach", "s", "m1", "0")
    assert result.exit_code == 4 and "no attachment 0 (it has 0)" in result.stderr
    ok(invoke("close", "s"))
    with extract_msg.Message(str(workdir / "out.msg")) as msg:
        assert msg.attachments == []
        assert prop(msg, PR_HASATTACH) is False
        assert not prop(msg, PR_MESSAGE_FLAGS) & MSGFLAG_HASATTACH
    assert not any("__attach_version1.0_" in s for s in streams(workdir / "out.msg"))


@needs_corpus
def test_a_new_subject_updates_prefix_normalized_and_topic(invoke: Invoke, workdir: Path) -> None:
    copy("msgreader/Simple.msg", workdir, "in.msg")
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "in.msg", "--out", "out.msg"))
    assert ok(invoke("show", "s", "--json")).count('"subject"') == 0
    ok(invoke("set", "s", "m1", "PR_SUBJECT", "RE: Lunch on Friday"))
    assert json.loads(ok(invoke("show", "s", "--json")))["subject"] == "RE: Lunch on Friday"
    ok(invoke("close", "s"))
    with extract_msg.Message(str(workdir / "out.msg")) as msg:
        assert msg.subject == "RE: Lunch on Friday"
        assert string(msg, "003D001F") == "RE: "
        assert string(msg, "0E1D001F") == "Lunch on Friday"
        assert string(msg, "0070001F") == "Lunch on Friday"


@needs_corpus
def test_set_and_unset_on_original_and_added_rows(invoke: Invoke, workdir: Path) -> None:
    """Numbers: the file's own rows (minus removed ones) first, then added ones."""
    copy("msgreader/attachmentFiles.msg", workdir, "in.msg")
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "in.msg", "--out", "out.msg"))
    assert (
        ok(invoke("attach", "s", "m1", str(CORPUS / "msgreader" / "Simple.msg"), "--name", "x.bin")) == "3\n"
    )
    ok(invoke("detach", "s", "m1", "1"))  # png.png of the file; x.bin is now 2
    ok(invoke("set", "s", "m1", "PidTagAttachContentId", "first", "--attachment", "0"))
    ok(invoke("set", "s", "m1", "PidTagAttachContentId", "added", "--attachment", "2"))
    ok(invoke("set", "s", "m1", "PidTagDisplayName", "Renamed", "--recipient", "0"))
    ok(invoke("unset", "s", "m1", "PidTagSenderName"))  # a property of the original message
    spec = json.loads(ok(invoke("show", "s", "--json")))
    assert spec["remove_attachments"] == [1]
    assert spec["attachment_properties"] == {"0": {"PidTagAttachContentId": "first"}}
    assert spec["attachments"][0]["properties"] == {"PidTagAttachContentId": "added"}
    assert spec["recipient_properties"] == {"0": {"PidTagDisplayName": "Renamed"}}
    ok(invoke("close", "s"))
    with extract_msg.Message(str(workdir / "out.msg")) as msg:
        atts = msg.attachments
        assert [a.longFilename for a in atts] == ["jpg.jpg", "tif.tif", "x.bin"]
        assert [a.cid for a in atts] == ["first", None, "added"]
        assert msg.recipients[0].name == "Renamed"
        assert "0C1A001F" not in msg.props and string(msg, "0C1A001F") is None
        assert prop(msg, PR_HASATTACH) is True


@needs_corpus
def test_numbers_out_of_range_and_edit_keys_without_a_source(invoke: Invoke, workdir: Path) -> None:
    copy("msgreader/Simple.msg", workdir, "in.msg")
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "in.msg"))
    result = invoke("recipient", "s", "m1", "--remove", "0")
    assert result.exit_code == 4 and "no recipient 0 (it has 0)" in result.stderr
    result = invoke("set", "s", "m1", "PidTagDisplayName", "x", "--attachment", "0")
    assert result.exit_code == 4 and "no attachment 0" in result.stderr
    result = invoke("recipient", "s", "m1", "--remove", "0", "--to", "a@example.com")
    assert result.exit_code == 2
    result = invoke("add", "s", "--json", "-", input='{"output": "n.msg", "remove_recipients": [0]}')
    assert result.exit_code == 3 and "has no source" in result.stderr
    result = invoke("edit", "s", "in.msg")
    assert result.exit_code == 10 and "already the output of message m1" in result.stderr


# --------------------------------------------------------------------------- ANSI <-> Unicode


@needs_corpus
def test_cp932_files_without_a_code_page_become_right_unicode(invoke: Invoke, workdir: Path) -> None:
    copy("msgreader/nonUnicodeCP932.msg", workdir)
    copy("msgreader/contactAnsi.msg", workdir)
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "nonUnicodeCP932.msg", "--out", "mail-u.msg", "--id", "mail"))
    ok(invoke("edit", "s", "contactAnsi.msg", "--out", "contact-u.msg", "--id", "contact"))
    result = invoke("close", "s", "--unicode")
    ok(result)
    assert result.stderr.splitlines() == [
        "msgsess: mail: ANSI strings read as code page 932 (from PR_INTERNET_CPID 50220), written as Unicode",
        "msgsess: contact: ANSI strings read as code page 932 (from PR_INTERNET_CPID 50220), "
        "written as Unicode",
    ]
    with extract_msg.Message(str(workdir / "mail-u.msg")) as msg:
        assert PR_DISPLAY_TO in msg.props  # a Unicode string property now
        assert msg.subject == "日本語 Non Unicode タイトル"
        assert msg.body.strip() == "日本語 Non Unicode 本文"
        # The RTF body (binary, untouched) says the same in its own escapes.
        from msgsess.oxmsg import rtf

        rtf_text = rtf.rtf_to_text(msg.rtfBody)
        assert "本文" in rtf_text and "日本語" in rtf_text
    with (
        extract_msg.Message(str(workdir / "contact-u.msg")) as converted,
        extract_msg.Message(str(CORPUS / "msgreader" / "contactUnicode.msg")) as unicode,
    ):
        assert converted.subject == unicode.subject == "コム ドット イグザンプル 殿"
        both = {
            k
            for k in converted.props
            if k.endswith("001F") and k in unicode.props and int(k[:4], 16) < 0x8000
        }
        assert len(both) > 5
        same = [k for k in both if string(converted, k) == string(unicode, k)]
        assert "0037001F" in same and len(same) >= len(both) // 2


@needs_corpus
def test_default_close_keeps_each_file_s_own_mode(invoke: Invoke, workdir: Path) -> None:
    copy("msgreader/nonUnicodeCP932.msg", workdir)
    copy("msgreader/Simple.msg", workdir)
    ok(invoke("open", "s", "--ansi", "--codepage", "1251"))
    ok(invoke("edit", "s", "nonUnicodeCP932.msg", "--out", "a.msg"))
    ok(invoke("edit", "s", "Simple.msg", "--out", "u.msg"))
    ok(invoke("set", "s", "m1", "PidTagSubject", "新しい件名"))  # cp932 holds it
    result = invoke("close", "s")
    ok(result)
    assert result.stderr == ""
    assert any(s.endswith("0037001E") for s in streams(workdir / "a.msg"))
    assert not any(s.endswith("001F") for s in streams(workdir / "a.msg"))
    assert any(s.endswith("0037001F") for s in streams(workdir / "u.msg"))
    with olefile.OleFileIO(str(workdir / "a.msg")) as ole:
        assert ole.openstream("__substg1.0_0037001E").read().rstrip(b"\0") == "新しい件名".encode("cp932")
        assert ole.openstream("__substg1.0_1000001E").read().rstrip(b"\0") == (
            "日本語 Non Unicode 本文\r\n".encode("cp932")
        )


@needs_corpus
def test_ansi_with_a_code_page_that_cannot_hold_the_text_writes_nothing(
    invoke: Invoke, workdir: Path
) -> None:
    copy("msgreader/newOutlook Microsoft Outlook test.msg", workdir, "jp.msg")
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "jp.msg", "--out", "jp-ansi.msg"))
    result = invoke("close", "s", "--ansi", "--codepage", "1252")
    assert result.exit_code == 7
    assert "which code page 1252 cannot hold" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (workdir / "jp-ansi.msg").exists()
    assert sorted(p.name for p in workdir.iterdir()) == ["jp.msg", "s"]
    # The session is intact: the same close with a code page that has the text works.
    result = invoke("close", "s", "--ansi", "--codepage", "932")
    ok(result)
    assert result.stderr.strip() == "msgsess: m1: Unicode strings written as ANSI code page 932"
    with olefile.OleFileIO(str(workdir / "jp-ansi.msg")) as ole:
        subject = ole.openstream("__substg1.0_0037001E").read().rstrip(b"\0").decode("cp932")
    assert subject == "Microsoft Outlook テスト メッセージ"
    with extract_msg.Message(str(workdir / "jp-ansi.msg")) as msg:
        assert prop(msg, "3FFD0003") == 932


@needs_corpus
def test_a_new_value_the_code_page_cannot_hold_is_found_before_writing(invoke: Invoke, workdir: Path) -> None:
    copy("msgreader/nonUnicodeMail.msg", workdir, "in.msg")
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "in.msg", "--out", "out.msg"))
    ok(invoke("set", "s", "m1", "PidTagSubject", "Ελληνικά"))
    result = invoke("close", "s")  # keeps the file's ANSI 1252
    assert result.exit_code == 7 and "$.subject" in result.stderr
    assert not (workdir / "out.msg").exists()
    ok(invoke("close", "s", "--unicode"))
    with extract_msg.Message(str(workdir / "out.msg")) as msg:
        assert msg.subject == "Ελληνικά"


# --------------------------------------------------------------------------- show


@needs_corpus
def test_show_json_of_an_edited_message_rebuilds_the_same_output(invoke: Invoke, workdir: Path) -> None:
    copy("msgreader/attachmentFiles.msg", workdir, "in.msg")
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    ok(invoke("open", "a"))
    ok(invoke("edit", "a", "in.msg", "--out", "one.msg", "--codepage", "1251"))
    ok(invoke("detach", "a", "m1", "2"))
    ok(invoke("recipient", "a", "m1", "--bcc", "Hidden <hidden@example.com>"))
    ok(invoke("set", "a", "m1", "PidTagImportance", "2"))
    dump = ok(invoke("show", "a", "--json"))
    spec = json.loads(dump)
    assert set(spec["source"]) == {"data", "file", "codepage"}
    assert spec["source"]["codepage"] == 1251
    assert spec["source"]["file"] == str(workdir / "in.msg")
    ok(invoke("open", "b"))
    rebuilt = dump.replace(str(workdir / "one.msg"), str(workdir / "two.msg"))
    assert ok(invoke("add", "b", "--json", "-", input=rebuilt)) == "m1\n"
    assert ok(invoke("show", "b", "--json")) == rebuilt
    ok(invoke("close", "a", env=env))
    ok(invoke("close", "b", env=env))
    assert (workdir / "one.msg").read_bytes() == (workdir / "two.msg").read_bytes()


@needs_corpus
def test_show_tells_the_source_and_the_changes(invoke: Invoke, workdir: Path) -> None:
    copy("msgreader/nonUnicodeCP932.msg", workdir, "in.msg")
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "in.msg"))
    ok(invoke("recipient", "s", "m1", "--remove", "0"))
    ok(invoke("recipient", "s", "m1", "--to", "Bob <bob@example.com>"))
    text = ok(invoke("show", "s"))
    assert f"m1 → {workdir / 'in.msg'}" in text
    assert (
        f"source: {workdir / 'in.msg'} (23552 bytes, ANSI, code page 932 (from PR_INTERNET_CPID 50220))"
        in text
    )
    assert "subject: 日本語 Non Unicode タイトル" in text
    assert "removed: to: xmailuser2@xmailserver.test" in text
    assert "to #0: Bob <bob@example.com>" in text


# --------------------------------------------------------------------------- source files


@needs_corpus
def test_the_source_is_captured_when_edited(invoke: Invoke, workdir: Path) -> None:
    path = copy("msgreader/Simple.msg", workdir, "in.msg")
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "in.msg", "--out", "out.msg"))
    path.unlink()
    ok(invoke("close", "s"))
    assert (
        rt._differences(
            rt._read_levels(CORPUS / "msgreader" / "Simple.msg"), rt._read_levels(workdir / "out.msg")
        )
        == []
    )


def test_edit_of_a_missing_or_non_msg_file(invoke: Invoke, workdir: Path) -> None:
    ok(invoke("open", "s"))
    result = invoke("edit", "s", "nope.msg")
    assert result.exit_code == 4 and "nope.msg" in result.stderr
    (workdir / "text.msg").write_text("not a compound file")
    result = invoke("edit", "s", "text.msg")
    assert result.exit_code == 8
    assert result.stderr.startswith("msgsess: error: text.msg: ") and len(result.stderr.splitlines()) == 1
    result = invoke("edit", "s", "text.msg", "--codepage", "99999")
    assert result.exit_code == 3 and "99999" in result.stderr
    assert json.loads(ok(invoke("show", "s", "--json")) or "null") is None
