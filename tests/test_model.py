"""The message model: property bags keyed by identity (and read by name), derived values."""

from __future__ import annotations

import pytest

from msgsess.errors import NotFound
from msgsess.model import (
    Attachment,
    Message,
    PropertyBag,
    Recipient,
    display_list,
    int_value,
    refresh_derived,
    set_subject,
    split_subject,
)
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.props.keys import PS_PUBLIC_STRINGS, NamedId


def test_a_bag_keeps_one_type_per_identity_and_strings_as_unicode() -> None:
    bag = PropertyBag()
    bag.set(ids.SUBJECT, t.PT_STRING8, "Hi")
    assert bag[ids.SUBJECT].type == t.PT_UNICODE and bag[ids.SUBJECT].flags == ids.DEFAULT_FLAGS
    bag.set(ids.SUBJECT, t.PT_UNICODE, "Hello")  # keeps the flags it had
    bag.set(ids.IMPORTANCE, t.PT_LONG, 2, ids.PROPATTR_READABLE)
    assert bag.value(ids.SUBJECT) == "Hello" and bag[ids.IMPORTANCE].flags == ids.PROPATTR_READABLE
    bag.setdefault_value(ids.IMPORTANCE, t.PT_LONG, 1)
    assert bag.value(ids.IMPORTANCE) == 2 and bag.value(ids.BODY, "none") == "none"


def test_a_bag_reads_every_spelling_of_a_name() -> None:
    bag = PropertyBag()
    bag.set("PidTagSubject", t.PT_UNICODE, "Hi")
    bag.set("PS_PUBLIC_STRINGS:Keywords", t.PT_MV_UNICODE, ["a"])
    assert set(bag) == {ids.SUBJECT, NamedId(PS_PUBLIC_STRINGS, name="Keywords")}  # keys stay ids
    for name in ("PidTagSubject", "PR_SUBJECT", "PR_SUBJECT_W", "0x0037001F", "0x0037"):
        assert bag[name].value == "Hi" and name in bag
    assert bag.value("PidNameKeywords") == ["a"] and bag.get("PidTagBody") is None
    assert "PidTagNoSuchProperty" not in bag  # an unknown name is simply not there…
    with pytest.raises(NotFound, match="PidTagSubjekt"):  # …but reading one says so
        bag["PidTagSubjekt"]
    del bag["PR_SUBJECT"]
    assert bag.pop("PidNameKeywords").value == ["a"] and not bag


def test_int_value_ignores_what_is_no_integer() -> None:
    bag = PropertyBag()
    bag.set(ids.MESSAGE_FLAGS, t.PT_BOOLEAN, True)  # a damaged file
    assert int_value(bag, ids.MESSAGE_FLAGS, 8) == 8


@pytest.mark.parametrize(
    ("subject", "parts"),
    [
        ("RE: Lunch", ("RE: ", "Lunch")),
        ("AW: FW: x", ("AW: ", "FW: x")),
        ("Re:Lunch", ("", "Re:Lunch")),
        ("Q2: numbers", ("", "Q2: numbers")),  # a digit: no prefix
        ("LONG: x", ("", "LONG: x")),  # more than three characters
    ],
)
def test_subject_prefix_per_ms_oxcmsg(subject: str, parts: tuple[str, str]) -> None:
    assert split_subject(subject) == parts


def test_set_subject_keeps_its_parts_true() -> None:
    msg = Message()
    set_subject(msg, "RE: Lunch")
    assert (
        msg.props.value(ids.SUBJECT_PREFIX) == "RE: " and msg.props.value(ids.CONVERSATION_TOPIC) == "Lunch"
    )
    set_subject(msg, "Lunch again")
    assert ids.SUBJECT_PREFIX not in msg.props and msg.props.value(ids.NORMALIZED_SUBJECT) == "Lunch again"


def _recipient(kind: int, name: str) -> Recipient:
    r = Recipient()
    r.props.set(ids.RECIPIENT_TYPE, t.PT_LONG, kind)
    r.props.set(ids.DISPLAY_NAME, t.PT_UNICODE, name)
    return r


def _inline() -> Attachment:
    a = Attachment()
    a.props.set(ids.ATTACH_CONTENT_ID, t.PT_UNICODE, "logo")
    a.props.set(ids.ATTACHMENT_HIDDEN, t.PT_BOOLEAN, True)
    return a


def test_refresh_derived_recomputes_what_the_tables_imply() -> None:
    msg = Message(
        recipients=[_recipient(ids.MAPI_TO, "Bob"), _recipient(ids.MAPI_CC, "Carol"), _recipient(1, "Dan")],
        attachments=[_inline()],
    )
    refresh_derived(msg)
    p = msg.props
    assert p.value(ids.DISPLAY_TO) == "Bob; Dan" == display_list(msg, ids.MAPI_TO)
    assert p.value(ids.DISPLAY_CC) == "Carol" and ids.DISPLAY_BCC not in p
    assert p.value(ids.HAS_ATTACHMENTS) is True and p.value(ids.SMART_NO_ATTACH) is True
    assert p.value(ids.MESSAGE_FLAGS) & ids.MSGFLAG_HASATTACH
    assert [r.props.value(ids.ROWID) for r in msg.recipients] == [0, 1, 2]
    msg.attachments.append(Attachment())  # one that is not inline: the paperclip shows
    msg.recipients.clear()
    refresh_derived(msg)
    assert p.value(ids.SMART_NO_ATTACH) is False and ids.DISPLAY_TO not in p
    assert [a.props.value(ids.ATTACH_NUM) for a in msg.attachments] == [0, 1]
    msg.attachments.clear()
    refresh_derived(msg)
    assert p.value(ids.HAS_ATTACHMENTS) is False and not p.value(ids.MESSAGE_FLAGS) & ids.MSGFLAG_HASATTACH


def test_names_and_walks() -> None:
    inner = Message()
    set_subject(inner, "Inner")
    att = Attachment(embedded=inner)
    assert att.name == "Inner" and att.method == ids.ATTACH_BY_VALUE and att.data is None
    outer = Message(attachments=[att])
    assert list(outer.walk()) == [outer, inner]
    r = Recipient()
    r.props.set(ids.EMAIL_ADDRESS, t.PT_UNICODE, "x@example.com")
    assert r.display_name == "x@example.com" and r.kind == ids.MAPI_TO
