"""Codec edge cases found in review: limits, damaged values, names, sizes."""

from __future__ import annotations

import struct
from pathlib import Path

import extract_msg
import pytest

from msgsess import cfb, oxmsg
from msgsess.composer import compose
from msgsess.errors import TooBig
from msgsess.model import Attachment, Message
from msgsess.oxmsg import layout
from msgsess.oxmsg.rtf import rtf_to_text
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.props.ids import KEYWORDS


def _chain(depth: int) -> Message:
    inner = compose({"subject": f"level {depth}"})
    for level in range(depth - 1, -1, -1):
        outer = compose({"subject": f"level {level}"})
        outer.attachments.append(Attachment(embedded=inner))
        inner = outer
    return inner


def test_what_msgsess_nests_it_can_read_back(tmp_path: Path) -> None:
    deepest = layout.MAX_EMBEDDING_DEPTH
    path = tmp_path / "deep.msg"
    cfb.write_atomic(oxmsg.encode(_chain(deepest)), path)
    msg = oxmsg.decode(cfb.read_file(path))
    depth = 0
    while msg.attachments:
        embedded = msg.attachments[0].embedded
        assert embedded is not None
        msg, depth = embedded, depth + 1
    assert depth == deepest
    with pytest.raises(TooBig, match="nested more than"):
        oxmsg.encode(_chain(deepest + 1))


def test_a_named_id_without_a_name_is_kept_where_it_names_nothing() -> None:
    """Issue 9, fidelity: a 0x8000+ id its file's name map does not define never refuses the file."""
    msg = compose({"subject": "x"})
    msg.props.set(0x8A5C, t.PT_LONG, 7)  # as decoded from a file whose name map lacks 0x8A5C
    warnings: list[str] = []
    tree = oxmsg.encode(msg, warn=warnings.append)
    assert warnings == []
    back = oxmsg.decode(tree)
    assert back.props.value(0x8A5C) == 7  # written with its own id, still unnamed


def test_a_named_id_without_a_name_that_would_alias_a_named_one_is_dropped_with_a_warning() -> None:
    msg = compose({"subject": "x", "categories": ["a"]})  # PidNameKeywords takes id 0x8000
    msg.props.set(0x8000, t.PT_LONG, 7)
    warnings: list[str] = []
    back = oxmsg.decode(oxmsg.encode(msg, label="m1", warn=warnings.append))
    assert back.props.value(KEYWORDS) == ["a"]
    assert 0x8000 not in back.props
    assert len(warnings) == 1 and warnings[0].startswith("m1: property 0x8000 ")
    assert "left out" in warnings[0]
    oxmsg.encode(msg)  # without a listener: written all the same


def test_value_streams_are_found_whatever_the_case_of_their_names() -> None:
    tree = oxmsg.encode(compose({"subject": "Case", "categories": ["a", "b"]}))
    lower = {name: name.lower() if name.startswith("__substg1.0_") else name for name in tree.entries}
    tree.entries = {lower[name]: entry for name, entry in tree.entries.items()}
    msg = oxmsg.decode(tree)
    assert msg.props.value(ids.SUBJECT) == "Case"
    assert msg.props.value(KEYWORDS) == ["a", "b"]  # multi-valued streams too
    assert not msg.extra  # every stream accounted for


def test_a_raw_string_value_gets_the_string_size_rule() -> None:
    msg = compose({"subject": "x"})
    msg.props[ids.BODY] = msg.props.get(ids.SUBJECT).__class__(t.PT_UNICODE, t.RawValue(b"h\0i\0"))
    tree = oxmsg.encode(msg)
    stream = tree.entries[layout.PROPERTIES]
    assert isinstance(stream, bytes)
    sizes = {
        struct.unpack_from("<I", stream, off)[0]: struct.unpack_from("<I", stream, off + 8)[0]
        for off in range(32, len(stream), 16)
    }
    assert sizes[0x1000001F] == 4 + 2


def test_damaged_integer_properties_do_not_stop_an_edit(tmp_path: Path) -> None:
    tree = oxmsg.encode(compose({"subject": "x", "to": ["a@example.com"]}))
    base = oxmsg.decode(tree)
    base.props.set(ids.MESSAGE_FLAGS, t.PT_UNICODE, "abc")  # a file may hold anything
    base.recipients[0].props.set(ids.RECIPIENT_TYPE, t.PT_BINARY, b"\x01")
    edited = compose({"cc": ["b@example.com"], "draft": False}, base=base)
    path = tmp_path / "e.msg"
    cfb.write_atomic(oxmsg.encode(edited), path)
    with extract_msg.openMsg(str(path)) as msg:
        assert [r.email for r in msg.recipients] == ["a@example.com", "b@example.com"]


def test_rtf_unicode_escapes_out_of_range_do_not_crash() -> None:
    text = rtf_to_text(rb"{\rtf1\ansi a\u2000000?b \u-40000?c}")
    assert text.startswith("a") and "b" in text and "c" in text


def test_search_keys_keep_international_addresses_apart() -> None:
    one = compose({"to": ["jörg@exämple.de"]}).recipients[0].props.value(ids.SEARCH_KEY)
    two = compose({"to": ["jürg@exämple.de"]}).recipients[0].props.value(ids.SEARCH_KEY)
    assert one != two
    assert one == "SMTP:JÖRG@EXÄMPLE.DE".encode() + b"\0"
