"""Edits keep derived values true without adding what the file never had."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from pathlib import Path

import extract_msg
import olefile
import pytest
from click.testing import Result

from msgsess import cfb, oxmsg
from msgsess.composer import compose
from msgsess.errors import Unconvertible
from msgsess.props import ids
from msgsess.props.ids import SMART_NO_ATTACH
from tests.conftest import ok

Invoke = Callable[..., Result]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYGAAAAAEAAH2FzhVAAAAAElFTkSuQmCC"
)
TEMPLATE_CLSID = uuid.UUID("0006F046-0000-0000-C000-000000000046").bytes_le


def smart_no_attach(path: Path) -> object:
    return oxmsg.decode(cfb.read_file(path)).props.value(SMART_NO_ATTACH)


def test_smart_no_attach_follows_the_attachments_of_an_edited_message(invoke: Invoke, workdir: Path) -> None:
    (workdir / "logo.png").write_bytes(PNG)
    (workdir / "notes.txt").write_text("notes")
    ok(invoke("open", "s"))
    ok(invoke("add", "s", "inline.msg", "--html", '<p><img src="cid:logo"></p>', "--subject", "x"))
    ok(invoke("attach", "s", "m1", "logo.png", "--content-id", "logo"))
    ok(invoke("close", "s"))
    assert smart_no_attach(workdir / "inline.msg") is True

    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "inline.msg", "--out", "both.msg"))
    ok(invoke("attach", "s", "m1", "notes.txt"))
    ok(invoke("close", "s"))
    assert smart_no_attach(workdir / "both.msg") is False  # a visible attachment shows the paperclip

    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "both.msg", "--out", "again.msg"))
    ok(invoke("detach", "s", "m1", "1"))
    ok(invoke("close", "s"))
    assert smart_no_attach(workdir / "again.msg") is True


def test_an_edited_template_stays_a_template(invoke: Invoke, workdir: Path) -> None:
    ok(invoke("open", "s"))
    ok(invoke("add", "s", "t.msg", "--template", "--subject", "Weekly"))
    ok(invoke("close", "s"))
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "t.msg"))
    ok(invoke("close", "s"))
    with olefile.OleFileIO(str(workdir / "t.msg")) as ole:
        assert uuid.UUID(ole.root.clsid).bytes_le == TEMPLATE_CLSID


def test_unsetting_the_subject_of_an_edited_message_drops_its_parts(invoke: Invoke, workdir: Path) -> None:
    ok(invoke("open", "s"))
    ok(invoke("add", "s", "a.msg", "--subject", "RE: Plans"))
    ok(invoke("close", "s"))
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "a.msg"))
    ok(invoke("unset", "s", "m1", "PidTagSubject"))
    ok(invoke("close", "s"))
    props = oxmsg.decode(cfb.read_file(workdir / "a.msg")).props
    for pid in (ids.SUBJECT, ids.SUBJECT_PREFIX, ids.NORMALIZED_SUBJECT, ids.CONVERSATION_TOPIC):
        assert pid not in props


def test_changing_a_recipient_adds_no_attachment_flag(invoke: Invoke, workdir: Path) -> None:
    ok(invoke("open", "s"))
    ok(invoke("add", "s", "a.msg", "--subject", "x", "--to", "bob@example.com"))
    ok(invoke("close", "s"))
    source = oxmsg.decode(cfb.read_file(workdir / "a.msg"))
    del source.props[ids.HAS_ATTACHMENTS]  # as in Outlook files that have none
    cfb.write_atomic(oxmsg.encode(source), workdir / "a.msg")
    ok(invoke("open", "s"))
    ok(invoke("edit", "s", "a.msg"))
    ok(invoke("set", "s", "m1", "PidTagRecipientType", "2", "--recipient", "0"))
    ok(invoke("close", "s"))
    with extract_msg.openMsg(str(workdir / "a.msg")) as msg:
        assert msg.recipients[0].type == extract_msg.enums.RecipientType.CC
    props = oxmsg.decode(cfb.read_file(workdir / "a.msg")).props
    assert ids.HAS_ATTACHMENTS not in props
    assert props.value(ids.DISPLAY_CC) == "bob@example.com"


def test_bytes_the_code_page_cannot_read_are_not_written_as_unicode() -> None:
    # An ANSI message whose subject has a byte cp1252 does not define (0x81).
    ansi = oxmsg.encode(compose({"subject": "abc"}), unicode=False, codepage=1252)
    subject = "__substg1.0_0037001E"
    ansi.entries[subject] = b"ab\x81c"
    read = oxmsg.decode(ansi)
    assert read.source_unicode is False and read.source_codepage == 1252
    # Written back in its own code page it is byte for byte the same…
    again = oxmsg.encode(read, unicode=False, codepage=1252)
    assert again.entries[subject] == b"ab\x81c"
    # …but as Unicode (or another code page) its text is unknown: a clear error, not bad UTF-16.
    with pytest.raises(Unconvertible, match=r"0x81.*code page 1252"):
        oxmsg.encode(read, unicode=True)
    with pytest.raises(Unconvertible, match="0x81"):
        oxmsg.encode(read, unicode=False, codepage=1251)
