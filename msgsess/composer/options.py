"""Options of a message: importance, sensitivity, categories, Internet headers, Message-ID,
receipts, the follow-up flag."""

from __future__ import annotations

import re
import struct

from msgsess.composer.addresses import rfc5322_address
from msgsess.composer.context import Context
from msgsess.mailfields import IMPORTANCE, SENSITIVITY
from msgsess.model import Message
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.props.keys import PS_INTERNET_HEADERS, NamedId

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def report_tag(search_key: bytes) -> bytes:
    """PR_REPORT_TAG ([MS-OXOMSG] 2.2.2.22): correlates receipts with this message.

    A file has no store, folder or message entry ids, so only the message's search key
    is given; the empty ANSI text is what Outlook writes too.
    """
    sized = b"".join(struct.pack("<I", len(part)) + part for part in (b"", b"", b"", b"", search_key, b"\0"))
    return b"PCDFEB09\0" + struct.pack("<I", 0x00010001) + sized


def apply(ctx: Context, msg: Message) -> None:
    """Put the spec's options on the message."""
    p = msg.props
    importance = ctx.choice("importance", IMPORTANCE)
    if importance is not None:
        p.set(ids.IMPORTANCE, t.PT_LONG, importance)
    sensitivity = ctx.choice("sensitivity", SENSITIVITY)
    if sensitivity is not None:
        p.set(ids.SENSITIVITY, t.PT_LONG, sensitivity)
    categories = ctx.spec.get("categories")
    if categories is not None:
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise ctx.fail("categories", "expected a list of text")
        if categories:
            p.set(ids.KEYWORDS, t.PT_MV_UNICODE, list(categories))
        else:
            p.pop(ids.KEYWORDS, None)
    headers = ctx.spec.get("headers")
    if headers is not None:
        if not isinstance(headers, list):
            raise ctx.fail("headers", "expected a list of 'Name: value'")
        for index, line in enumerate(headers):
            name, sep, value = str(line).partition(":")
            if not sep or not re.fullmatch(r"[!-9;-~]+", name.strip()):
                raise ctx.fail(f"headers[{index}]", f"{line!r} is not 'Name: value'")
            if "\r" in value or "\n" in value:
                raise ctx.fail(f"headers[{index}]", "a header value cannot hold a line break")
            p.set(NamedId(PS_INTERNET_HEADERS, name=name.strip().lower()), t.PT_UNICODE, value.strip())
        if headers:
            p.set(ids.TRANSPORT_MESSAGE_HEADERS, t.PT_UNICODE, transport_headers(ctx, headers))
    message_id = ctx.text("message_id")
    if message_id is not None:
        if not (message_id.startswith("<") and message_id.endswith(">")):
            message_id = f"<{message_id}>"
        p.set(ids.INTERNET_MESSAGE_ID, t.PT_UNICODE, message_id)
    read, delivery = ctx.flag("read_receipt", False), ctx.flag("delivery_receipt", False)
    if read:
        p.set(ids.READ_RECEIPT_REQUESTED, t.PT_BOOLEAN, True)
    if delivery:
        p.set(ids.ORIGINATOR_DELIVERY_REPORT_REQUESTED, t.PT_BOOLEAN, True)
    if read or delivery:
        key = p.value(ids.SEARCH_KEY)
        p.set(ids.REPORT_TAG, t.PT_BINARY, report_tag(key if isinstance(key, bytes) else ctx.digest[:16]))
    flag = ctx.text("flag")
    if flag is not None:
        p.set(ids.FLAG_STATUS, t.PT_LONG, 2)  # followupFlagged
        p.set(ids.FOLLOWUP_ICON, t.PT_LONG, 6)  # red flag
        p.set(ids.TODO_ITEM_FLAGS, t.PT_LONG, 1)
        p.set(ids.FLAG_REQUEST, t.PT_UNICODE, flag or "Follow up")
        due = ctx.time("due")
        if due is not None:
            p.set(ids.TASK_DUE_DATE, t.PT_SYSTIME, due)
            p.set(ids.TASK_START_DATE, t.PT_SYSTIME, due)
    elif ctx.spec.get("due") is not None:
        raise ctx.fail("due", "a due date needs a follow-up flag", hint="add --flag TEXT")


def transport_headers(ctx: Context, extra: list[Any]) -> str:
    """PR_TRANSPORT_MESSAGE_HEADERS: the RFC 5322 header block the message would travel with.

    Readers that convert to MIME take From, To, Cc, Subject from it when present, so it
    carries the envelope as well as the headers given, encoded per RFC 2047 where needed.
    """
    import email.policy
    import email.utils
    from email.message import EmailMessage

    head = EmailMessage(policy=email.policy.SMTP)
    when = ctx.time("date") or (None if ctx.flag("draft", True) else ctx.now)
    if when is not None and (moment := when.to_datetime()) is not None:
        head["Date"] = email.utils.format_datetime(moment)
    for key, field in (("from", "From"), ("sender", "Sender")):
        text = ctx.text(key)
        if text is not None and not (key == "sender" and text == ctx.text("from")):
            head[field] = rfc5322_address(text, key)
    for key, field in (("to", "To"), ("cc", "Cc"), ("reply_to", "Reply-To")):
        people = [rfc5322_address(a, key) for a, _ in ctx.address_list(key)]
        if people:
            head[field] = ", ".join(people)
    if ctx.text("subject"):
        head["Subject"] = ctx.text("subject")
    message_id = ctx.text("message_id")
    if message_id:
        head["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    head["MIME-Version"] = "1.0"
    for index, line in enumerate(extra):
        name, _sep, value = str(line).partition(":")
        del head[name.strip()]  # a header given explicitly replaces the one made from the spec
        try:
            head[name.strip()] = value.strip()
            defects = head[name.strip()].defects
        except (ValueError, TypeError) as exc:
            defects = [exc]
        if defects:
            raise ctx.fail(f"headers[{index}]", f"{line!r} is not a valid header ({defects[0]})")
    return head.as_string()  # SMTP policy: CRLF line ends, folded, ends in a blank line
