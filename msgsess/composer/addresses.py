"""Addresses: parsing ``Name <addr>``, one-off entry ids, the sender groups, recipients.

What a message says about people ([MS-OXOMSG] 2.2.1, [MS-OXCDATA] 2.2.5.1): the From ("sent
representing") and Sender groups, reply-to, and the recipient table, each address as the
one-off SMTP entry Outlook writes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from functools import lru_cache

from msgsess.composer.context import Context
from msgsess.errors import MsgsessError
from msgsess.mailfields import parse_address as parse_address
from msgsess.model import Message, Property, PropertyBag, Recipient
from msgsess.props import ids
from msgsess.props import types as t

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ONE_OFF_PROVIDER = bytes.fromhex("812B1FA4BEA310199D6E00DD010F5402")
#: MAPI_ONE_OFF_UNICODE | MAPI_ONE_OFF_NO_RICH_INFO, as Outlook writes them (bytes 01 80).
ONE_OFF_FLAGS = 0x8001


@lru_cache(maxsize=256)
def one_off_entry_id(name: str, addr_type: str, address: str) -> bytes:
    """A one-off EntryID in Unicode form ([MS-OXCDATA] 2.2.5.1), as Outlook writes even in ANSI files."""
    text = t.utf16_le(f"{name}\0{addr_type}\0{address}\0", "surrogatepass")[0]
    return bytes(4) + ONE_OFF_PROVIDER + struct.pack("<HH", 0, ONE_OFF_FLAGS) + text


def search_key(addr_type: str, address: str) -> bytes:
    """PR_SEARCH_KEY of an address: ``TYPE:ADDRESS`` upper-cased, NUL-terminated.

    MAPI gives no charset: ASCII addresses are ASCII bytes; an internationalised address
    (RFC 6531) is UTF-8 rather than lossy "?" that would make distinct addresses equal.
    """
    return f"{addr_type}:{address}".upper().encode("utf-8") + b"\0"


def rfc5322_address(text: str, field: str) -> str:
    import email.utils

    try:
        name, addr = parse_address(text)
    except MsgsessError as exc:
        exc.at(field)
        raise
    return email.utils.formataddr((name if name != addr else "", addr))


def flat_entry_list(entry_ids: list[bytes]) -> bytes:
    """A FlatEntryList ([MS-OXCDATA] 2.3.3) for PR_REPLY_RECIPIENT_ENTRIES."""
    body = bytearray()
    for entry in entry_ids:
        body += struct.pack("<I", len(entry)) + entry
        body += bytes(-len(body) % 4)
    return struct.pack("<II", len(entry_ids), len(body)) + bytes(body)


#: Property ids of the two address groups of a message ([MS-OXOMSG] 2.2.1.46-2.2.1.56):
#: name, e-mail address, address type, entry id, search key, SMTP address.
ADDRESS_GROUPS: dict[str, tuple[int, int, int, int, int, int]] = {
    "sender": (
        ids.SENDER_NAME,
        ids.SENDER_EMAIL_ADDRESS,
        ids.SENDER_ADDRESS_TYPE,
        ids.SENDER_ENTRY_ID,
        ids.SENDER_SEARCH_KEY,
        ids.SENDER_SMTP_ADDRESS,
    ),
    "from": (
        ids.SENT_REPRESENTING_NAME,
        ids.SENT_REPRESENTING_EMAIL_ADDRESS,
        ids.SENT_REPRESENTING_ADDRESS_TYPE,
        ids.SENT_REPRESENTING_ENTRY_ID,
        ids.SENT_REPRESENTING_SEARCH_KEY,
        ids.SENT_REPRESENTING_SMTP_ADDRESS,
    ),
}


def set_address_group(props: PropertyBag, group: str, name: str, addr: str) -> None:
    """Set the ``"sender"`` or ``"from"`` (sent representing) properties to one SMTP address."""
    n, e, a, eid, sk, smtp = ADDRESS_GROUPS[group]
    props.set(n, t.PT_UNICODE, name)
    props.set(e, t.PT_UNICODE, addr)
    props.set(a, t.PT_UNICODE, "SMTP")
    props.set(eid, t.PT_BINARY, one_off_entry_id(name, "SMTP", addr))
    props.set(sk, t.PT_BINARY, search_key("SMTP", addr))
    props.set(smtp, t.PT_UNICODE, addr)


def new_recipient(kind: int, name: str, addr: str) -> Recipient:
    """A one-off SMTP recipient with the properties Outlook gives one ([oxmsg-facts] §5.2)."""
    entry = one_off_entry_id(name, "SMTP", addr)
    r = Recipient()
    # Straight into the new, empty bag: what PropertyBag.set gives each (the default flags).
    flags = ids.DEFAULT_FLAGS
    r.props.update(
        {
            ids.RECIPIENT_TYPE: Property(t.PT_LONG, kind, flags),
            ids.DISPLAY_NAME: Property(t.PT_UNICODE, name, flags),
            ids.ADDRESS_TYPE: Property(t.PT_UNICODE, "SMTP", flags),
            ids.EMAIL_ADDRESS: Property(t.PT_UNICODE, addr, flags),
            ids.SMTP_ADDRESS: Property(t.PT_UNICODE, addr, flags),
            ids.ENTRY_ID: Property(t.PT_BINARY, entry, flags),
            ids.RECIPIENT_ENTRY_ID: Property(t.PT_BINARY, entry, flags),
            ids.RECIPIENT_DISPLAY_NAME: Property(t.PT_UNICODE, name, flags),
            ids.SEARCH_KEY: Property(t.PT_BINARY, search_key("SMTP", addr), flags),
            ids.OBJECT_TYPE: Property(t.PT_LONG, ids.MAPI_MAILUSER, flags),
            ids.DISPLAY_TYPE: Property(t.PT_LONG, 0, flags),
            ids.RECIPIENT_FLAGS: Property(t.PT_LONG, 1, flags),
            ids.RECIPIENT_TRACK_STATUS: Property(t.PT_LONG, 0, flags),
            ids.SEND_RICH_INFO: Property(t.PT_BOOLEAN, False, flags),
        }
    )
    return r


def address_props(ctx: Context, text: str, field: str) -> tuple[str, str, bytes]:
    name, addr = _parse_at(text, field)
    return name, addr, one_off_entry_id(name, "SMTP", addr)


def _parse_at(text: str, field: str) -> tuple[str, str]:
    """:func:`parse_address` (cached there), its error located at ``field``."""
    try:
        return parse_address(text)
    except MsgsessError as exc:
        exc.at(field)
        raise


def people(ctx: Context, msg: Message) -> None:
    p = msg.props
    # Without --sender both sets are the From address; with it, From is the
    # principal ("sent representing") and --sender the delegate ("on behalf of").
    given_from, given_sender = ctx.text("from"), ctx.text("sender")
    # (set, field the address came from): each set falls back on the other's address.
    for key, field, text in (
        ("from", "from", given_from) if given_from is not None else ("from", "sender", given_sender),
        ("sender", "sender", given_sender) if given_sender is not None else ("sender", "from", given_from),
    ):
        if text is None:
            continue
        name, addr = _parse_at(text, field)
        set_address_group(p, key, name, addr)
    reply = ctx.address_list("reply_to")
    if reply:
        names, entries = [], []
        for index, (text, _props) in enumerate(reply):
            name, _addr, entry = address_props(ctx, text, f"reply_to[{index}]")
            names.append(name)
            entries.append(entry)
        p.set(ids.REPLY_RECIPIENT_NAMES, t.PT_UNICODE, "; ".join(names))
        p.set(ids.REPLY_RECIPIENT_ENTRIES, t.PT_BINARY, flat_entry_list(entries))


def recipients(ctx: Context, msg: Message) -> None:
    """The To, Cc and Bcc recipients of the spec, appended to the recipient table in that order."""
    for kind, key in ((ids.MAPI_TO, "to"), (ids.MAPI_CC, "cc"), (ids.MAPI_BCC, "bcc")):
        for index, (text, props) in enumerate(ctx.address_list(key)):
            if ctx.skipped(key, index):
                continue  # checked when it was added
            msg.recipients.append(recipient(ctx, text, kind, props, key))


def recipient(ctx: Context, text: str, kind: int, props: Mapping[str, Any], field: str) -> Recipient:
    name, addr = _parse_at(text, field)
    r = new_recipient(kind, name, addr)
    ctx.overrides(r.props, props, f"{field} {addr} properties")
    return r
