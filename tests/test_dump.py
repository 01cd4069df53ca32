"""msgsess.dump: every property of every level, JSON-ready, and a rich tree."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from pathlib import Path

import pytest

from msgsess import cfb, oxmsg
from msgsess.dump import dump_message, render_tree
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


def test_render_tree_shows_every_level() -> None:
    from rich.console import Console

    console = Console(width=160, record=True)
    console.print(render_tree(sample()))
    text = console.export_text()
    for expected in ("PidTagSubject", "recipient 0", "attachment 1", "embedded message", "inner subject"):
        assert expected in text


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
@pytest.mark.parametrize(
    "name", ["msgreader/msgInMsgInMsg.msg", "msgreader/contactAnsi.msg", "msgreader/A schedule.msg"]
)
def test_corpus_files_dump(name: str) -> None:
    from rich.console import Console

    msg = oxmsg.decode(cfb.read_file(CORPUS / name))
    data = dump_message(msg)
    count = len(data["properties"])
    assert count == len(msg.props)
    json.dumps(data, ensure_ascii=False)
    console = Console(width=120, file=io.StringIO())
    console.print(render_tree(msg))
    assert "embedded message" in console.file.getvalue() or not msg.attachments


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
