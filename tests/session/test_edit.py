"""Edited messages in the session store: capture of the source, numbering of rows, string modes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import olefile
import pytest

from msgsess.errors import CorruptFile, InvalidParameter
from msgsess.session import edit, inputs, usecases
from msgsess.session.close import close
from msgsess.session.store import transaction

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")


def _source(recipients: int, attachments: int, unicode: bool = True, cp: int | None = None) -> dict[str, Any]:
    info = {
        "unicode": unicode,
        "codepage": cp,
        "codepage_from": None if unicode else "PR_INTERNET_CPID 50220",
        "recipients": recipients,
        "attachments": attachments,
    }
    return {"blob": "0" * 64, "file": "/x.msg", "codepage": None, "info": info}


def test_removing_an_original_row_drops_its_changes_and_tidies() -> None:
    spec: dict[str, Any] = {
        "source": _source(2, 0),
        "recipient_properties": {"1": {"PidTagDisplayName": "X"}},
    }
    kind, index = edit.remove_row(spec, "recipients", 1)
    assert (kind, index) == ("original", 1)
    assert spec == {"source": _source(2, 0), "remove_recipients": [1]}
    kind, entry = edit.remove_row({"to": ["a@b.c"]}, "recipients", 0)
    assert (kind, entry) == ("to", "a@b.c")


def test_string_modes_and_notes() -> None:
    ansi = {"source": _source(0, 0, unicode=False, cp=932)}
    uni = {"source": _source(0, 0)}
    new: dict[str, Any] = {}
    # Default: new messages take the session's mode; edited ones keep their file's.
    assert edit.string_mode(new, None, None, False, 1251) == (False, 1251)
    assert edit.string_mode(ansi, None, None, True, 1252) == (False, 932)
    assert edit.string_mode(uni, None, None, False, 1251) == (True, 1251)
    # Forced.
    assert edit.string_mode(ansi, True, None, False, 1251) == (True, 932)
    assert edit.string_mode(uni, False, 1250, True, 1252) == (False, 1250)
    assert edit.conversion_note("m1", ansi, False, 932) is None
    assert edit.conversion_note("m1", ansi, True, 932) == (
        "m1: ANSI strings read as code page 932 (from PR_INTERNET_CPID 50220), written as Unicode"
    )
    assert edit.conversion_note("m1", ansi, False, 1252) == (
        "m1: ANSI strings read as code page 932 (from PR_INTERNET_CPID 50220), written as code page 1252"
    )
    assert (
        edit.conversion_note("m1", uni, False, 1252) == "m1: Unicode strings written as ANSI code page 1252"
    )
    assert edit.conversion_note("m1", new, True, 1252) is None


@needs_corpus
@pytest.mark.parametrize(
    ("name", "fallback", "expected"),
    [
        ("msgreader/nonUnicodeCP932.msg", None, (False, 932, "PR_INTERNET_CPID 50220")),
        ("msgreader/contactAnsi.msg", 1251, (False, 932, "PR_INTERNET_CPID 50220")),
        ("email-outlook-message-perl/charset.msg", None, (False, 1252, "the default")),
        ("email-outlook-message-perl/charset.msg", 1250, (False, 1250, "the code page given")),
        ("msgreader/Subject.msg", None, (True, None, None)),
    ],
)
def test_source_info_tells_where_the_code_page_came_from(
    name: str, fallback: int | None, expected: tuple[Any, ...]
) -> None:
    msg = inputs.read_msg((CORPUS / name).read_bytes(), name, fallback)
    info = inputs.source_info(msg, fallback)
    assert (info["unicode"], info["codepage"], info["codepage_from"]) == expected
    assert info["codepage"] == msg.source_codepage


def test_read_msg_names_the_file_in_one_line() -> None:
    with pytest.raises(CorruptFile) as caught:
        inputs.read_msg(b"\xd0\xcf\x11\xe0" + bytes(100), "where/broken.msg")
    assert caught.value.one_line().startswith("where/broken.msg: ")
    assert "\n" not in caught.value.one_line()


@needs_corpus
def test_edit_captures_the_source_and_close_writes_it_back(tmp_path: Path) -> None:
    target = tmp_path / "mail.msg"
    target.write_bytes((CORPUS / "msgreader" / "attachmentFiles.msg").read_bytes())
    session = tmp_path / "s"
    usecases.open_session(session, ansi=False, codepage=None, force=False)
    msg_id = usecases.edit_file(session, str(target), codepage=1251)
    with transaction(session, write=False) as store:
        row = store.get(msg_id)
        assert row.output == str(target)
        assert row.spec["source"]["info"] == {
            "unicode": True,
            "codepage": None,
            "codepage_from": None,
            "recipients": 1,
            "attachments": 3,
        }
        assert store.blob(row.spec["source"]["blob"]) == target.read_bytes()
    assert usecases.attach(session, msg_id, [{"data": "aGk=", "name": "hi.txt"}]) == [3]
    usecases.detach(session, msg_id, 0)
    assert usecases.add_recipients(session, msg_id, "cc", ["c@example.com"]) == [1]
    usecases.set_property(session, msg_id, "PidTagAttachContentId", "x", attachment=2)
    (spec,) = list(usecases.show(session, data=False))
    assert spec["source"]["original"]["attachments"] == [
        "jpg.jpg (726 bytes)",
        "png.png (134 bytes)",
        "tif.tif (664 bytes)",
    ]
    assert spec["remove_attachments"] == [0]
    assert spec["attachments"][0]["properties"] == {"PidTagAttachContentId": "x"}
    result = close(session)
    assert result.written == [target] and result.notes == []
    with olefile.OleFileIO(str(target)) as ole:
        names = {"/".join(e) for e in ole.listdir()}
        att_storages = sorted({n.split("/")[0] for n in names if n.startswith("__attach")})
        assert len(att_storages) == 3
        recips = sorted({n.split("/")[0] for n in names if n.startswith("__recip")})
        assert len(recips) == 2
        cid = ole.openstream("__attach_version1.0_#00000002/__substg1.0_3712001F").read()
        assert cid.decode("utf-16-le").rstrip("\0") == "x"


def test_edit_keys_need_a_source_and_data_needs_an_output(tmp_path: Path) -> None:
    session = tmp_path / "s"
    usecases.open_session(session, ansi=False, codepage=None, force=False)
    with pytest.raises(InvalidParameter, match="has no source"):
        usecases.add(session, [("", {"attachment_properties": {"0": {"PidTagDisplayName": "x"}}})])
    with pytest.raises(InvalidParameter, match=r"give the \.msg file's bytes"):
        usecases.add(session, [("", {"source": {}})])
    assert json.dumps(list(usecases.show(session))) == "[]"
