"""Header fields <-> property values, shared by both directions ([MS-OXCMAIL] 2.2.3).

Reading goes through the ``email`` package's header objects (policy ``default``),
which decode encoded words, groups and dates; what they leave undecoded (raw
8-bit bytes) is repaired here, so both directions compare values the same way.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import re
from collections.abc import Iterable
from email.message import Message as EmailMessage
from typing import Any

from msgsess.mime.text import clean_text, fix_header_text

#: Importance: Importance ([MS-OXCMAIL] 2.2.3.2.5), then Priority, X-Priority, X-MSMail-Priority.
IMPORTANCE_NAMES = {"low": 0, "normal": 1, "high": 2}
PRIORITY_IMPORTANCE = {"non-urgent": 0, "normal": 1, "urgent": 2}
X_PRIORITY_IMPORTANCE = {1: 2, 2: 2, 3: 1, 4: 0, 5: 0}
#: PidTagPriority from the Priority header ([MS-OXCMSG] 2.2.1.12: -1 non-urgent, 0 normal, 1 urgent).
PRIORITY_VALUES = {"non-urgent": -1, "normal": 0, "urgent": 1}
#: PidTagSensitivity from the Sensitivity header ([MS-OXCMAIL] 2.2.3.2.6).
SENSITIVITY_VALUES = {"personal": 1, "private": 2, "company-confidential": 3}
SENSITIVITY_NAMES = {1: "Personal", 2: "Private", 3: "Company-Confidential"}
IMPORTANCE_HEADER = {0: "low", 2: "high"}
PRIORITY_HEADER = {-1: "non-urgent", 1: "urgent"}
X_PRIORITY_HEADER = {0: "5 (Lowest)", 2: "1 (Highest)"}

_MSG_ID = re.compile(r"<[^<>\s]*>")


def _raw_values(msg: EmailMessage, name: str) -> list[str]:
    """The source text of every header field ``name`` (folded as in the source)."""
    low = name.lower()
    return [str(value) for key, value in msg.raw_items() if key.lower() == low]


#: Header text that ``email``'s parsing would give back as it is: ASCII without encoded words.
#: Most header fields of most mail are such text, and parsing them costs more than the rest.
_PLAIN_TEXT = re.compile(r"[\t\n\r -~]*")
_FOLD = re.compile(r"\r?\n|\r")
_UNFOLD = re.compile(r"\r?\n[ \t]")


def text(msg: EmailMessage, name: str) -> str | None:
    """A header's decoded text (RFC 2047, raw UTF-8), unfolded, or None when absent."""
    raws = _raw_values(msg, name)
    if not raws:
        return None
    if "=?" not in raws[0] and _PLAIN_TEXT.fullmatch(raws[0]):
        return _FOLD.sub("", raws[0]).strip()
    value = msg.get(name)
    if value is None:
        return None
    try:
        decoded = str(value)
    except Exception:  # a header object that cannot even render itself: take the raw text
        decoded = str(getattr(value, "_parse_tree", value))
    return clean_text(fix_header_text(decoded)).strip()


def raw(msg: EmailMessage, name: str) -> str | None:
    """A header's value as the source has it (folding removed), or None when absent."""
    low = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == low:
            return _UNFOLD.sub(" ", str(value)).strip()
    return None


def addresses(msg: EmailMessage, name: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(display name, address) of every mailbox in the header fields ``name`` (groups flattened).

    A mailbox without a display name gets its address as name, as Outlook shows it.
    The second list says what could not be read.
    """
    found: list[tuple[str, str]] = []
    problems: list[str] = []
    raws = _raw_values(msg, name)
    if not raws:
        return found, problems
    plain = _plain_addresses(raws)
    if plain is not None:
        return plain, problems
    for header in msg.get_all(name) or []:
        mailboxes: Iterable[Any] = getattr(header, "addresses", None) or ()
        if not mailboxes and not getattr(header, "groups", None):
            # Unparseable (or not an address header at all): fall back to the lenient parser.
            mailboxes = [_Plain(n, a) for n, a in email.utils.getaddresses([str(header)]) if a or n]
        for mailbox in mailboxes:
            addr = _addr_spec(mailbox)
            label = clean_text(fix_header_text(mailbox.display_name or "")).strip()
            if not addr:
                if label:
                    problems.append(f"{name}: {label!r} has no address")
                continue
            found.append((label or addr, addr))
    return found, problems


#: A mailbox written plainly: ``addr@domain`` or ``Display Name <addr@domain>`` with a name of
#: atoms only (no quotes, encoded words, comments, dots or other specials): ``email``'s parser
#: reads such a mailbox as this pattern does, and most mailboxes are written so.
_ADDR = (
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
)
_WS = r"[ \t\r\n]*"
_PLAIN_MAILBOX = re.compile(
    rf"{_WS}(?:([A-Za-z0-9!#$%&'*+/^_`{{|}}~ \t\r\n-]*?){_WS}<({_ADDR})>|({_ADDR})){_WS}"
)


def _plain_addresses(raws: list[str]) -> list[tuple[str, str]] | None:
    """The mailboxes of header fields written plainly (see :data:`_PLAIN_MAILBOX`), or None
    when any is not: those go through ``email``'s parser."""
    found: list[tuple[str, str]] = []
    for raw in raws:
        for item in raw.split(","):
            match = _PLAIN_MAILBOX.fullmatch(item)
            if match is None:
                return None
            name, addr = match.group(1), match.group(2) or match.group(3)
            label = " ".join(name.split()) if name else ""
            found.append((label or addr, addr))
    return found


class _Plain:
    def __init__(self, display_name: str, addr_spec: str) -> None:
        self.display_name = display_name
        self.addr_spec = addr_spec


def _addr_spec(mailbox: Any) -> str:
    try:
        spec = str(mailbox.addr_spec)
    except Exception:
        spec = ""
    return clean_text(fix_header_text(spec)).strip().strip("<>")


def date(msg: EmailMessage, name: str = "Date") -> _dt.datetime | None:
    """A date header as an aware datetime (no zone = UTC), or None when missing or unreadable."""
    raws = _raw_values(msg, name)
    if not raws:
        return None
    if raws[0].isascii():  # what email's DateHeader does, without building a header object
        return parse_date(_FOLD.sub("", raws[0]))
    value = msg.get(name)
    if value is None:
        return None
    when = getattr(value, "datetime", None)
    if when is None:
        when = parse_date(str(value))
    return _aware(when)


def parse_date(value: str) -> _dt.datetime | None:
    try:
        return _aware(email.utils.parsedate_to_datetime(value.strip()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _aware(when: _dt.datetime | None) -> _dt.datetime | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    try:
        when.astimezone(_dt.UTC)
    except (OverflowError, ValueError):
        return None
    return when


def received_time(msg: EmailMessage) -> _dt.datetime | None:
    """The time in the first (most recent) Received: header: when the message was delivered."""
    value = raw(msg, "Received")
    if value is None or ";" not in value:
        return None
    return parse_date(value.rpartition(";")[2])


def token(msg: EmailMessage, name: str) -> str:
    """A header holding one keyword (Importance: high), lower-cased; '' when absent.

    Read from the source text: keywords are ASCII, and ``email``'s parsing would cost more
    than the value is worth.
    """
    value = raw(msg, name)
    return value.split("(", 1)[0].strip().strip('"').lower() if value else ""


def importance(msg: EmailMessage) -> int | None:
    """PidTagImportance from Importance, else Priority, X-Priority or X-MSMail-Priority."""
    value = token(msg, "Importance")
    if value in IMPORTANCE_NAMES:
        return IMPORTANCE_NAMES[value]
    value = token(msg, "Priority")
    if value in PRIORITY_IMPORTANCE:
        return PRIORITY_IMPORTANCE[value]
    m = re.match(r"\s*([1-5])", token(msg, "X-Priority"))
    if m:
        return X_PRIORITY_IMPORTANCE[int(m.group(1))]
    return IMPORTANCE_NAMES.get(token(msg, "X-MSMail-Priority"))


def priority(msg: EmailMessage) -> int | None:
    return PRIORITY_VALUES.get(token(msg, "Priority"))


def sensitivity(msg: EmailMessage) -> int | None:
    return SENSITIVITY_VALUES.get(token(msg, "Sensitivity").replace(" ", "-"))


def keywords(msg: EmailMessage) -> list[str]:
    """Categories from every Keywords: field (comma-separated phrases)."""
    out: list[str] = []
    for header in msg.get_all("Keywords") or []:
        for word in clean_text(fix_header_text(str(header))).split(","):
            word = word.strip().strip('"').strip()
            if word and word not in out:
                out.append(word)
    return out


def message_id(msg: EmailMessage, name: str) -> str | None:
    """One message id as ``<id>``; without angle brackets in the source, the value as it stands."""
    value = raw(msg, name)
    if not value:
        return None
    value = clean_text(fix_header_text(value))
    m = _MSG_ID.search(value)
    return m.group(0) if m else value.split()[0] if value.split() else None


def message_ids(msg: EmailMessage, name: str) -> str | None:
    """Every message id of a field (References), space-separated as PidTagInternetReferences keeps them."""
    value = raw(msg, name)
    if not value:
        return None
    value = clean_text(fix_header_text(value))
    ids = _MSG_ID.findall(value)
    return " ".join(ids) if ids else value or None


def is_draft(msg: EmailMessage) -> bool:
    """``X-Unsent: 1`` marks a draft, as Outlook's own EML export writes it."""
    return token(msg, "X-Unsent") == "1"
