"""A whole message: Outlook's defaults for a new one, the changes to an edited one, times and
flags, and every part of the spec in order (addresses, bodies, options, tables, properties)."""

from __future__ import annotations

import struct

from msgsess.composer import addresses, attachments, bodies, options
from msgsess.composer.context import Context
from msgsess.model import Message, Property, int_value, refresh_derived, set_subject
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.spec import CHANGE_KEYS, TABLE_KEYS


def conversation_index(stamp: t.FileTime, guid: bytes) -> bytes:
    """[MS-OXOMSG] 2.2.1.3: reserved 0x01, the FILETIME's 5 high bytes, a 16-byte GUID."""
    return b"\x01" + struct.pack(">Q", int(stamp))[:5] + guid[:16]


def build(ctx: Context, base: Message | None) -> Message:
    """The message the spec describes: a new one with Outlook's defaults, or ``base`` changed."""
    msg = base if base is not None else Message()
    new = base is None
    p = msg.props
    when = ctx.time("date")
    draft = ctx.flag("draft", True)
    template = ctx.flag("template", False)
    if template and not draft:
        raise ctx.fail("draft", "a template is an unsent draft", hint='leave out --sent / "draft": false')
    stamp = when if when is not None else ctx.now
    if new:
        # Straight into the new, empty bag: what PropertyBag.set gives each.
        flags, readable = ids.DEFAULT_FLAGS, ids.PROPATTR_READABLE
        msg_flags = ids.MSGFLAG_UNSENT if draft else ids.MSGFLAG_READ
        index = conversation_index(stamp, ctx.digest[16:32])
        p.update(
            {
                ids.MESSAGE_CLASS: Property(t.PT_UNICODE, ctx.text("class") or "IPM.Note", flags),
                ids.IMPORTANCE: Property(t.PT_LONG, 1, flags),
                ids.PRIORITY: Property(t.PT_LONG, 0, flags),
                ids.SENSITIVITY: Property(t.PT_LONG, 0, flags),
                ids.CREATION_TIME: Property(t.PT_SYSTIME, stamp, readable),
                ids.LAST_MODIFICATION_TIME: Property(t.PT_SYSTIME, stamp, readable),
                ids.MESSAGE_FLAGS: Property(t.PT_LONG, msg_flags, flags),
                ids.ALTERNATE_RECIPIENT_ALLOWED: Property(t.PT_BOOLEAN, True, flags),
                ids.READ_RECEIPT_REQUESTED: Property(t.PT_BOOLEAN, False, flags),
                ids.ORIGINATOR_DELIVERY_REPORT_REQUESTED: Property(t.PT_BOOLEAN, False, flags),
                ids.DELETE_AFTER_SUBMIT: Property(t.PT_BOOLEAN, False, flags),
                ids.HAS_ATTACHMENTS: Property(t.PT_BOOLEAN, False, readable),
                ids.SEARCH_KEY: Property(t.PT_BINARY, ctx.digest[:16], flags),
                ids.CONVERSATION_INDEX: Property(t.PT_BINARY, index, flags),
                ids.INTERNET_CODEPAGE: Property(t.PT_LONG, 65001 if ctx.unicode else ctx.codepage, flags),
            }
        )
        set_subject(msg, ctx.text("subject") or "")
        if not ctx.text("subject"):
            p.discard(ids.SUBJECT, ids.NORMALIZED_SUBJECT, ids.CONVERSATION_TOPIC)
    else:
        if ctx.text("class") is not None:
            p.set(ids.MESSAGE_CLASS, t.PT_UNICODE, ctx.text("class"))
        if ctx.text("subject") is not None:
            set_subject(msg, ctx.text("subject") or "")
        edit_tables(ctx, msg)
        if set(ctx.spec) & CHANGE_KEYS:
            p.set(ids.LAST_MODIFICATION_TIME, t.PT_SYSTIME, ctx.now, ids.PROPATTR_READABLE)
    if "draft" in ctx.spec or when is not None or new or template:
        times(ctx, msg, draft, when if when is not None else (stamp if new else None))
    if template:
        # An Outlook template (.oft) opens as a new, unsent item: it has been neither
        # submitted nor delivered, so it carries neither time.
        msg.props.pop(ids.CLIENT_SUBMIT_TIME, None)
        msg.props.pop(ids.MESSAGE_DELIVERY_TIME, None)
    addresses.people(ctx, msg)
    bodies.apply(ctx, msg)
    options.apply(ctx, msg)
    addresses.recipients(ctx, msg)
    attachments.apply(ctx, msg)
    # An edited message keeps its derived values as they were unless its tables changed.
    if new or set(ctx.spec) & TABLE_KEYS:
        refresh_derived(msg)
    ctx.overrides(msg.props, ctx.spec.get("properties"), "properties")
    if ids.SUBJECT not in msg.props and ctx.unsets(ids.SUBJECT):
        # No subject: no prefix, normalized subject or topic derived from one either.
        msg.props.discard(ids.SUBJECT_PREFIX, ids.NORMALIZED_SUBJECT, ids.CONVERSATION_TOPIC)
    return msg


def edit_tables(ctx: Context, msg: Message) -> None:
    """Changes to an edited message's own recipients and attachments, by original index."""
    for key, table in (
        ("recipient_properties", msg.recipients),
        ("attachment_properties", msg.attachments),
    ):
        changes = ctx.spec.get(key) or {}
        if not isinstance(changes, dict):
            raise ctx.fail(key, "expected an object of index: {PROP: value}")
        for index, props in changes.items():
            row = ctx.index(key, index, len(table))
            ctx.overrides(table[row].props, props, f"{key}[{index}]")
    for key, table in (("remove_recipients", msg.recipients), ("remove_attachments", msg.attachments)):
        gone = ctx.spec.get(key) or []
        if not isinstance(gone, list):
            raise ctx.fail(key, "expected a list of indexes")
        for row in sorted({ctx.index(key, i, len(table)) for i in gone}, reverse=True):
            del table[row]


def times(ctx: Context, msg: Message, draft: bool, when: t.FileTime | None) -> None:
    p = msg.props
    flags = int_value(p, ids.MESSAGE_FLAGS, 0)
    if draft:
        flags = (flags | ids.MSGFLAG_UNSENT) & ~ids.MSGFLAG_READ
        p.pop(ids.CLIENT_SUBMIT_TIME, None)
    else:
        flags = (flags | ids.MSGFLAG_READ) & ~ids.MSGFLAG_UNSENT
        if when is not None:
            p.set(ids.CLIENT_SUBMIT_TIME, t.PT_SYSTIME, when)
    if when is not None:
        p.set(ids.MESSAGE_DELIVERY_TIME, t.PT_SYSTIME, when)
    p.set(ids.MESSAGE_FLAGS, t.PT_LONG, flags)
