"""msgsess.dump: every property of every level, JSON-ready, and as an outline for reading."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest

from msgsess import cfb, oxmsg
from msgsess.dump import Level, dump_message, outline
from msgsess.model import Attachment, Message, Recipient
from msgsess.props import types as t
from msgsess.props.keys import PSETID_COMMON, NamedId

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
PAYLOAD = b"\x89PNG" + bytes(range(256)) * 4


def sample() -> Message:
    inner = Message()
    inner.props.set(0x0037, t.PT_UNICODE, "inner subject")
    msg = Message()
    msg.props.set(0x0037, t.PT_UNICODE, "Hello")
    msg.props.set(0x0017, t.PT_LONG, 2, 0x6)
    msg.props.set(NamedId(PSETID_COMMON, lid=0x8554), t.PT_UNICODE, "16.0")
    msg.props.set(
        NamedId(uuid.UUID("00020386-0000-0000-C000-000000000046"), name="x-mailer"), t.PT_UNICODE, "me"
    )
    rcpt = Recipient()
    rcpt.props.set(0x3001, t.PT_UNICODE, "Bob")
    msg.recipients.append(rcpt)
    att = Attachment()
    att.props.set(0x3705, t.PT_LONG, 1)
    att.props.set(0x3701, t.PT_BINARY, PAYLOAD)
    msg.attachments.append(att)
    emb = Attachment(embedded=inner)
    emb.props.set(0x3705, t.PT_LONG, 5)
    msg.attachments.append(emb)
    return msg


def test_json_shape_names_tags_types_flags() -> None:
    data = dump_message(sample())
    json.dumps(data)  # JSON-ready
    subject = next(p for p in data["properties"] if p.get("tag") == "0x0037001F")
    assert subject == {
        "name": "PidTagSubject",
        "tag": "0x0037001F",
        "type": "PT_UNICODE",
        "flags": 6,
        "value": "Hello",
    }
    named = [p for p in data["properties"] if "named" in p]
    assert {"set": "PSETID_Common", "lid": "0x8554"} in [p["named"] for p in named]
    assert {"set": "PS_INTERNET_HEADERS", "name": "x-mailer"} in [p["named"] for p in named]
    assert all("tag" not in p for p in named)
    assert data["recipients"][0]["properties"][0]["value"] == "Bob"


def test_binary_as_size_and_hash_unless_full() -> None:
    short = dump_message(sample())
    blob = next(p for p in short["attachments"][0]["properties"] if p.get("tag") == "0x37010102")
    assert blob["value"] == {"size": len(PAYLOAD), "sha256": hashlib.sha256(PAYLOAD).hexdigest()}
    full = dump_message(sample(), full=True)
    blob = next(p for p in full["attachments"][0]["properties"] if p.get("tag") == "0x37010102")
    assert isinstance(blob["value"], str) and blob["value"].startswith("base64:")


def test_embedded_messages_nested_and_order_stable() -> None:
    data = dump_message(sample())
    inner = data["attachments"][1]["embedded"]
    assert inner["properties"][0]["value"] == "inner subject"
    assert json.dumps(data) == json.dumps(dump_message(sample()))
    keys = [p.get("tag") for p in data["properties"] if "tag" in p]
    assert keys == sorted(keys)
    assert list(data) == ["unicode", "codepage", "properties", "recipients", "attachments"]


def _headings(level: Level, depth: int = 0) -> list[tuple[int, str]]:
    out = [(depth, level.heading)]
    for below in level.below:
        out += _headings(below, depth + 1)
    return out


def test_the_outline_has_every_level_in_order() -> None:
    msg = sample()
    msg.attachments[1].extra["__substg1.0_DEADBEEF"] = b""
    top = outline(msg)
    assert _headings(top) == [
        (0, "message"),
        (1, "recipient 0"),
        (1, "attachment 0: (no name)"),
        (1, "attachment 1: inner subject"),  # an embedded message is named by its subject
        (2, "embedded message"),
        (2, "unparsed: __substg1.0_DEADBEEF"),
    ]
    assert top.rows is not None and [r.name for r in top.rows][:2] == ["PidTagImportance", "PidTagSubject"]
    subject = next(r for r in top.rows if r.name == "PidTagSubject")
    assert subject == ("PidTagSubject", "0x0037001F", "PT_UNICODE", "0x6", "Hello")
    assert top.below[2].below[1].rows is None  # a line alone, no table
    inner = top.below[2].below[0]
    assert inner.rows is not None and inner.rows[0].value == "inner subject"


def test_outline_rows_are_safe_to_print_and_cut_at_the_width() -> None:
    msg = sample()
    msg.props.set(0x0037, t.PT_UNICODE, "Hi\x1b[2J\u202e" + "x" * 300)
    msg.attachments[0].props.set(0x3707, t.PT_UNICODE, "evil\nname")
    top = outline(msg, width=40)
    assert top.rows is not None
    subject = next(r for r in top.rows if r.name == "PidTagSubject").value
    assert subject.startswith("Hi\\x1b[2J\\u202e") and "\x1b" not in subject and len(subject) <= 60
    assert top.below[1].heading == "attachment 0: evil\\nname"
    whole = next(r for r in (outline(msg, width=0).rows or ()) if r.name == "PidTagSubject")
    assert whole.value.endswith("x" * 300)


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
@pytest.mark.parametrize(
    "name", ["msgreader/msgInMsgInMsg.msg", "msgreader/contactAnsi.msg", "msgreader/A schedule.msg"]
)
def test_corpus_files_dump(name: str) -> None:
    msg = oxmsg.decode(cfb.read_file(CORPUS / name))
    data = dump_message(msg)
    count = len(data["properties"])
    assert count == len(msg.props)
    json.dumps(data, ensure_ascii=False)
    headings = [heading for _, heading in _headings(outline(msg))]
    assert ("embedded message" in headings) == any(a.embedded is not None for a in msg.attachments)


def test_ansi_files_show_the_types_they_store() -> None:
    from msgsess.composer import compose

    tree = oxmsg.encode(
        compose({"subject": "Привет", "to": ["Оля <o@example.com>"]}), unicode=False, codepage=1251
    )
    data = dump_message(oxmsg.decode(tree))
    subject = next(p for p in data["properties"] if p["name"] == "PidTagSubject")
    assert (subject["tag"], subject["type"], subject["value"]) == ("0x0037001E", "PT_STRING8", "Привет")
    name = next(p for p in data["recipients"][0]["properties"] if p["name"] == "PidTagDisplayName")
    assert (name["tag"], name["type"]) == ("0x3001001E", "PT_STRING8")
    assert data["unicode"] is False and data["codepage"] == 1251
    # The stream the tag names is really there.
    assert "__substg1.0_0037001E" in tree.entries


def test_strings_that_are_no_text_as_json() -> None:
    """Issue 9 item 3: as their bytes and a readable form, in the code page the message names."""
    from msgsess.composer import compose

    tree = oxmsg.encode(compose({"subject": "x"}), unicode=False, codepage=1251)
    tree.entries["__substg1.0_0037001E"] = b"\xcf\x98!"  # 0x98 is no character of code page 1251
    data = dump_message(oxmsg.decode(tree))
    subject = next(p for p in data["properties"] if p["name"] == "PidTagSubject")
    assert subject["value"] == {"invalid": "cf9821", "text": "П\ufffd!"}
    msg = oxmsg.decode(tree, codepage=1251)
    msg.props[0x0037].value = "日本\udc98"  # as if decoded in another code page than it names
    subject = next(p for p in dump_message(msg)["properties"] if p["name"] == "PidTagSubject")
    assert subject["value"]["invalid"] == "e5652c6798dc"  # then as UTF-16 code units
