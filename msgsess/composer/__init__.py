"""A message spec (the JSON of ``add --json``) -> a model ``Message`` with Outlook's defaults.

Pure: no disk I/O. Attachment bytes and embedded messages come through the
``read_blob`` and ``embedded`` callbacks, the time through ``now``, so the
same spec and time always give the same message (reproducible builds): ids,
search keys and conversation indexes are derived from the content.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import mimetypes
import re
import struct
from collections.abc import Callable, Mapping
from typing import Any

from msgsess.errors import InvalidParameter, MsgsessError
from msgsess.model import (
    Attachment,
    Message,
    PropertyBag,
    Recipient,
    int_value,
    refresh_derived,
    set_subject,
)
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.props.keys import PS_INTERNET_HEADERS, PS_PUBLIC_STRINGS, PSETID_COMMON, PSETID_TASK, NamedId
from msgsess.spec import CHANGE_KEYS, TABLE_KEYS, steps_for
from msgsess.spec import KEYS as SPEC_KEYS

ONE_OFF_PROVIDER = bytes.fromhex("812B1FA4BEA310199D6E00DD010F5402")
#: MAPI_ONE_OFF_UNICODE | MAPI_ONE_OFF_NO_RICH_INFO, as Outlook writes them (bytes 01 80).
ONE_OFF_FLAGS = 0x8001

KEYWORDS = NamedId(PS_PUBLIC_STRINGS, name="Keywords")
FLAG_REQUEST = NamedId(PSETID_COMMON, lid=0x8530)
TASK_DUE_DATE = NamedId(PSETID_TASK, lid=0x8105)
TASK_START_DATE = NamedId(PSETID_TASK, lid=0x8104)
REPORT_TAG = 0x0031
FLAG_STATUS = 0x1090
FOLLOWUP_ICON = 0x1095
TODO_ITEM_FLAGS = 0x0E2B

IMPORTANCE = {"low": 0, "normal": 1, "high": 2}
SENSITIVITY = {"normal": 0, "personal": 1, "private": 2, "confidential": 3}
ATT_RENDERED_IN_BODY = 0x4

_ADDR_SPEC = re.compile(r"^[^\s@<>(),;:\"\[\]]+@[^\s@<>(),;:\"\[\]]+$")


def parse_address(text: str) -> tuple[str, str]:
    """``Name <user@example.com>`` or ``user@example.com`` -> (display name, address)."""
    raw = text.strip()
    name, addr = "", raw
    if raw.endswith(">") and "<" in raw:
        cut = raw.rindex("<")
        name, addr = raw[:cut].strip(), raw[cut + 1 : -1].strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('\\"', '"')
    if addr.lower().startswith("mailto:"):
        addr = addr[7:]
    if "<" in name or ">" in name:
        # "Bob <bob@x>, Carol <carol@x>": several addresses in one; taking the last would drop Bob.
        raise InvalidParameter(
            f"{text!r} holds more than one address",
            hint="give each address on its own (repeat --to, or one list item each)",
        )
    if not _ADDR_SPEC.match(addr):
        raise InvalidParameter(
            f"{text!r} is not an e-mail address",
            hint="write 'Display Name <user@example.com>' or 'user@example.com'",
        )
    return name or addr, addr


def one_off_entry_id(name: str, addr_type: str, address: str) -> bytes:
    """A one-off EntryID in Unicode form ([MS-OXCDATA] 2.2.5.1), as Outlook writes even in ANSI files."""
    text = "".join(part + "\0" for part in (name, addr_type, address)).encode("utf-16-le", "surrogatepass")
    return bytes(4) + ONE_OFF_PROVIDER + struct.pack("<HH", 0, ONE_OFF_FLAGS) + text


def search_key(addr_type: str, address: str) -> bytes:
    """PR_SEARCH_KEY of an address: ``TYPE:ADDRESS`` upper-cased, NUL-terminated.

    MAPI gives no charset: ASCII addresses are ASCII bytes; an internationalised address
    (RFC 6531) is UTF-8 rather than lossy "?" that would make distinct addresses equal.
    """
    return f"{addr_type}:{address}".upper().encode("utf-8") + b"\0"


#: Python's built-in table only (not the host's /etc/mime.types): the same name gives the
#: same type on every machine, as reproducible builds need.
_MIME = mimetypes.MimeTypes(filenames=())
for _ext, _type in {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".msg": "application/vnd.ms-outlook",
    ".oft": "application/vnd.ms-outlook",
    ".eml": "message/rfc822",
    ".ics": "text/calendar",
    ".vcf": "text/vcard",
    ".md": "text/markdown",
    ".7z": "application/x-7z-compressed",
    ".webp": "image/webp",
    ".heic": "image/heic",
}.items():
    _MIME.add_type(_type, _ext)
_COMPRESSED = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "compress": "application/x-compress",
    "br": "application/x-brotli",
}


def _rfc5322_address(text: str, field: str) -> str:
    import email.utils

    try:
        name, addr = parse_address(text)
    except MsgsessError as exc:
        exc.at(field)
        raise
    return email.utils.formataddr((name if name != addr else "", addr))


def guess_mime(name: str) -> str:
    """The MIME type of a file name; a compressed file (``.tar.gz``) is its compression's type."""
    mime, encoding = _MIME.guess_type(name, strict=False)
    if encoding is not None:
        return _COMPRESSED.get(encoding, "application/octet-stream")
    return mime or "application/octet-stream"


def report_tag(search_key: bytes) -> bytes:
    """PR_REPORT_TAG ([MS-OXOMSG] 2.2.2.22): correlates receipts with this message.

    A file has no store, folder or message entry ids, so only the message's search key
    is given; the empty ANSI text is what Outlook writes too.
    """
    sized = b"".join(struct.pack("<I", len(part)) + part for part in (b"", b"", b"", b"", search_key, b"\0"))
    return b"PCDFEB09\0" + struct.pack("<I", 0x00010001) + sized


def flat_entry_list(entry_ids: list[bytes]) -> bytes:
    """A FlatEntryList ([MS-OXCDATA] 2.3.3) for PR_REPLY_RECIPIENT_ENTRIES."""
    body = bytearray()
    for entry in entry_ids:
        body += struct.pack("<I", len(entry)) + entry
        body += bytes(-len(body) % 4)
    return struct.pack("<II", len(entry_ids), len(body)) + bytes(body)


def short_name(long_name: str, taken: set[str]) -> str:
    """An 8.3 file name for PR_ATTACH_FILENAME, unique within the message."""
    stem, dot, ext = long_name.rpartition(".")
    if not dot:
        stem, ext = long_name, ""
    clean = re.sub(r"[^A-Za-z0-9_$~!#%&\-{}^'`]", "", stem).upper()
    ext_clean = re.sub(r"[^A-Za-z0-9_]", "", ext).upper()[:3]
    fits = long_name.isascii() and clean == stem.upper() and len(stem) <= 8 and ext.upper() == ext_clean
    if fits and long_name.upper() not in taken:
        taken.add(long_name.upper())
        return long_name
    base = clean[:6] or "ATTACH"
    for n in range(1, 100000):
        suffix = f"~{n}"
        candidate = base[: 8 - len(suffix)] + suffix + (f".{ext_clean}" if ext_clean else "")
        if candidate.upper() not in taken:
            taken.add(candidate.upper())
            return candidate
    raise InvalidParameter(f"too many attachments named like {long_name!r}")


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
    rp = r.props
    rp.set(ids.RECIPIENT_TYPE, t.PT_LONG, kind)
    rp.set(ids.DISPLAY_NAME, t.PT_UNICODE, name)
    rp.set(ids.ADDRESS_TYPE, t.PT_UNICODE, "SMTP")
    rp.set(ids.EMAIL_ADDRESS, t.PT_UNICODE, addr)
    rp.set(ids.SMTP_ADDRESS, t.PT_UNICODE, addr)
    rp.set(ids.ENTRY_ID, t.PT_BINARY, entry)
    rp.set(ids.RECIPIENT_ENTRY_ID, t.PT_BINARY, entry)
    rp.set(ids.RECIPIENT_DISPLAY_NAME, t.PT_UNICODE, name)
    rp.set(ids.SEARCH_KEY, t.PT_BINARY, search_key("SMTP", addr))
    rp.set(ids.OBJECT_TYPE, t.PT_LONG, ids.MAPI_MAILUSER)
    rp.set(ids.DISPLAY_TYPE, t.PT_LONG, 0)
    rp.set(ids.RECIPIENT_FLAGS, t.PT_LONG, 1)
    rp.set(ids.RECIPIENT_TRACK_STATUS, t.PT_LONG, 0)
    rp.set(ids.SEND_RICH_INFO, t.PT_BOOLEAN, False)
    return r


def set_file_props(att: Attachment, name: str, data: bytes, mime: str, taken: set[str]) -> None:
    """Make ``att`` a by-value attachment holding ``data`` under ``name`` (8.3 name unique in ``taken``)."""
    ap = att.props
    ap.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE, ids.DEFAULT_FLAGS | 1)
    ap.set(ids.ATTACH_DATA, t.PT_BINARY, data)
    ap.set(ids.ATTACH_SIZE, t.PT_LONG, len(data))
    ap.set(ids.ATTACH_LONG_FILENAME, t.PT_UNICODE, name)
    ap.set(ids.ATTACH_FILENAME, t.PT_UNICODE, short_name(name, taken))
    ap.set(ids.DISPLAY_NAME, t.PT_UNICODE, name)
    ext = name.rpartition(".")[2] if "." in name else ""
    if ext:
        ap.set(ids.ATTACH_EXTENSION, t.PT_UNICODE, "." + ext)
    ap.set(ids.ATTACH_MIME_TAG, t.PT_UNICODE, mime)


def conversation_index(stamp: t.FileTime, guid: bytes) -> bytes:
    """[MS-OXOMSG] 2.2.1.3: reserved 0x01, the FILETIME's 5 high bytes, a 16-byte GUID."""
    return b"\x01" + struct.pack(">Q", int(stamp))[:5] + guid[:16]


class _Composer:
    def __init__(
        self,
        spec: Mapping[str, Any],
        now: t.FileTime,
        read_blob: Callable[[str], bytes] | None,
        embedded: Callable[[Mapping[str, Any]], Message] | None,
        label: str,
        unicode: bool,
        codepage: int,
        from_index: Mapping[str, int],
    ) -> None:
        self.spec = spec
        self.from_index = from_index
        self.now = now
        self.read_blob = read_blob
        self.embedded = embedded
        self.label = label
        self.unicode = unicode
        self.codepage = codepage
        canonical = json.dumps(spec, sort_keys=True, ensure_ascii=True, default=str)
        self.digest = hashlib.sha256(canonical.encode() + label.encode()).digest()

    def fail(self, field: str, problem: str, hint: str | None = None) -> InvalidParameter:
        return InvalidParameter(problem, hint=hint).at(field)

    # --- scalar fields ---------------------------------------------------------------------

    def text(self, key: str) -> str | None:
        value = self.spec.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected text, got {json.dumps(value)[:40]}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.spec.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {json.dumps(value)[:40]}")
        return value

    def time(self, key: str) -> t.FileTime | None:
        value = self.spec.get(key)
        if value is None:
            return None
        from msgsess.props import values

        parsed = values.parse_json(t.PT_SYSTIME, value, prop=key)
        assert isinstance(parsed, t.FileTime)
        return parsed

    def choice(self, key: str, table: dict[str, int]) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return table[value.lower()]
        except KeyError:
            raise self.fail(key, f"{value!r} is not one of {', '.join(table)}") from None

    def address_list(self, key: str) -> list[tuple[str, Mapping[str, Any]]]:
        value = self.spec.get(key)
        if value is None:
            return []
        items = [value] if isinstance(value, (str, dict)) else value
        if not isinstance(items, list):
            raise self.fail(key, "expected a list of addresses")
        out: list[tuple[str, Mapping[str, Any]]] = []
        for index, item in enumerate(items):
            if isinstance(item, str):
                out.append((item, {}))
            elif isinstance(item, dict) and isinstance(item.get("address"), str):
                props = item.get("properties") or {}
                if not isinstance(props, dict):
                    raise self.fail(f"{key}[{index}].properties", "expected an object")
                out.append((item["address"], props))
            else:
                raise self.fail(f"{key}[{index}]", "expected 'Name <addr>' or {\"address\": …}")
        return out

    # --- building --------------------------------------------------------------------------

    def build(self, base: Message | None) -> Message:
        msg = base if base is not None else Message()
        new = base is None
        p = msg.props
        when = self.time("date")
        draft = self.flag("draft", True)
        template = self.flag("template", False)
        if template and not draft:
            raise self.fail(
                "draft", "a template is an unsent draft", hint='leave out --sent / "draft": false'
            )
        stamp = when if when is not None else self.now
        if new:
            p.set(ids.MESSAGE_CLASS, t.PT_UNICODE, self.text("class") or "IPM.Note")
            p.set(ids.IMPORTANCE, t.PT_LONG, 1)
            p.set(ids.PRIORITY, t.PT_LONG, 0)
            p.set(ids.SENSITIVITY, t.PT_LONG, 0)
            p.set(ids.CREATION_TIME, t.PT_SYSTIME, stamp, ids.PROPATTR_READABLE)
            p.set(ids.LAST_MODIFICATION_TIME, t.PT_SYSTIME, stamp, ids.PROPATTR_READABLE)
            p.set(ids.MESSAGE_FLAGS, t.PT_LONG, ids.MSGFLAG_UNSENT if draft else ids.MSGFLAG_READ)
            p.set(ids.ALTERNATE_RECIPIENT_ALLOWED, t.PT_BOOLEAN, True)
            p.set(ids.READ_RECEIPT_REQUESTED, t.PT_BOOLEAN, False)
            p.set(ids.ORIGINATOR_DELIVERY_REPORT_REQUESTED, t.PT_BOOLEAN, False)
            p.set(ids.DELETE_AFTER_SUBMIT, t.PT_BOOLEAN, False)
            p.set(ids.HAS_ATTACHMENTS, t.PT_BOOLEAN, False, ids.PROPATTR_READABLE)
            p.set(ids.SEARCH_KEY, t.PT_BINARY, self.digest[:16])
            p.set(ids.CONVERSATION_INDEX, t.PT_BINARY, self.conversation_index(stamp))
            p.set(ids.INTERNET_CODEPAGE, t.PT_LONG, 65001 if self.unicode else self.codepage)
            set_subject(msg, self.text("subject") or "")
            if not self.text("subject"):
                for pid in (ids.SUBJECT, ids.NORMALIZED_SUBJECT, ids.CONVERSATION_TOPIC):
                    p.pop(pid, None)
        else:
            if self.text("class") is not None:
                p.set(ids.MESSAGE_CLASS, t.PT_UNICODE, self.text("class"))
            if self.text("subject") is not None:
                set_subject(msg, self.text("subject") or "")
            self.edit_tables(msg)
            if set(self.spec) & CHANGE_KEYS:
                p.set(ids.LAST_MODIFICATION_TIME, t.PT_SYSTIME, self.now, ids.PROPATTR_READABLE)
        if "draft" in self.spec or when is not None or new or template:
            self.times(msg, draft, when if when is not None else (stamp if new else None))
        if template:
            # An Outlook template (.oft) opens as a new, unsent item: it has been neither
            # submitted nor delivered, so it carries neither time.
            msg.props.pop(ids.CLIENT_SUBMIT_TIME, None)
            msg.props.pop(ids.MESSAGE_DELIVERY_TIME, None)
        self.people(msg)
        self.bodies(msg)
        self.options(msg)
        for kind, key in ((ids.MAPI_TO, "to"), (ids.MAPI_CC, "cc"), (ids.MAPI_BCC, "bcc")):
            for index, (text, props) in enumerate(self.address_list(key)):
                if index < self.from_index.get(key, 0):
                    continue  # checked when it was added
                msg.recipients.append(self.recipient(text, kind, props, key))
        self.attachments(msg)
        # An edited message keeps its derived values as they were unless its tables changed.
        if new or set(self.spec) & TABLE_KEYS:
            refresh_derived(msg)
        self.overrides(msg.props, self.spec.get("properties"), "properties")
        if ids.SUBJECT not in msg.props and self.unsets(ids.SUBJECT):
            # No subject: no prefix, normalized subject or topic derived from one either.
            for pid in (ids.SUBJECT_PREFIX, ids.NORMALIZED_SUBJECT, ids.CONVERSATION_TOPIC):
                msg.props.pop(pid, None)
        return msg

    def unsets(self, pid: int) -> bool:
        """Whether the spec's ``properties`` remove this tagged property."""
        props = self.spec.get("properties") or {}
        if not isinstance(props, dict):
            return False
        from msgsess.props import registry

        return any(value is None and registry.resolve(str(name)).pid == pid for name, value in props.items())

    def edit_tables(self, msg: Message) -> None:
        """Changes to an edited message's own recipients and attachments, by original index."""
        for key, table in (
            ("recipient_properties", msg.recipients),
            ("attachment_properties", msg.attachments),
        ):
            changes = self.spec.get(key) or {}
            if not isinstance(changes, dict):
                raise self.fail(key, "expected an object of index: {PROP: value}")
            for index, props in changes.items():
                row = self.index(key, index, len(table))
                self.overrides(table[row].props, props, f"{key}[{index}]")
        for key, table in (("remove_recipients", msg.recipients), ("remove_attachments", msg.attachments)):
            gone = self.spec.get(key) or []
            if not isinstance(gone, list):
                raise self.fail(key, "expected a list of indexes")
            for row in sorted({self.index(key, i, len(table)) for i in gone}, reverse=True):
                del table[row]

    def index(self, key: str, value: Any, size: int) -> int:
        try:
            row = int(value)
        except (TypeError, ValueError):
            raise self.fail(key, f"{value!r} is not an index") from None
        if not 0 <= row < size:
            raise self.fail(key, f"no entry {row} (the message has {size})")
        return row

    def conversation_index(self, stamp: t.FileTime) -> bytes:
        return conversation_index(stamp, self.digest[16:32])

    def times(self, msg: Message, draft: bool, when: t.FileTime | None) -> None:
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

    def address_props(self, text: str, field: str) -> tuple[str, str, bytes]:
        try:
            name, addr = parse_address(text)
        except MsgsessError as exc:
            exc.at(field)
            raise
        return name, addr, one_off_entry_id(name, "SMTP", addr)

    def people(self, msg: Message) -> None:
        p = msg.props
        # Without --sender both sets are the From address; with it, From is the
        # principal ("sent representing") and --sender the delegate ("on behalf of").
        given = {key: self.text(key) for key in ("from", "sender")}
        # (set, field the address came from): each set falls back on the other's address.
        sources = {
            "from": "from" if given["from"] is not None else "sender",
            "sender": "sender" if given["sender"] is not None else "from",
        }
        for key, field in sources.items():
            text = given[field]
            if text is None:
                continue
            name, addr, _entry = self.address_props(text, field)
            set_address_group(p, key, name, addr)
        reply = self.address_list("reply_to")
        if reply:
            names, entries = [], []
            for index, (text, _props) in enumerate(reply):
                name, _addr, entry = self.address_props(text, f"reply_to[{index}]")
                names.append(name)
                entries.append(entry)
            p.set(ids.REPLY_RECIPIENT_NAMES, t.PT_UNICODE, "; ".join(names))
            p.set(ids.REPLY_RECIPIENT_ENTRIES, t.PT_BINARY, flat_entry_list(entries))

    def recipient(self, text: str, kind: int, props: Mapping[str, Any], field: str) -> Recipient:
        name, addr, _entry = self.address_props(text, field)
        r = new_recipient(kind, name, addr)
        self.overrides(r.props, props, f"{field} {addr} properties")
        return r

    def bodies(self, msg: Message) -> None:
        p = msg.props
        body, html, rtf = self.text("body"), self.text("html"), self.text("rtf")
        if body is None and html is None and rtf is None:
            return
        # A new body replaces every form of the old one, so none is left out of sync.
        for pid in (ids.BODY, ids.HTML, ids.RTF_COMPRESSED, ids.RTF_IN_SYNC, ids.NATIVE_BODY):
            p.pop(pid, None)
        if html is None and rtf is None:
            if body:  # an empty body is no body ([MS-OXMSG] 2.4.2.2: no empty strings)
                p.set(ids.BODY, t.PT_UNICODE, body)
                p.set(ids.NATIVE_BODY, t.PT_LONG, 1)
            return
        from msgsess.oxmsg import html as html_body
        from msgsess.oxmsg import rtf as rtf_body

        if html is not None:
            cpid = 65001 if self.unicode else self.codepage
            p.set(ids.INTERNET_CODEPAGE, t.PT_LONG, cpid)
            p.set(ids.HTML, t.PT_BINARY, html_body.html_charset_bytes(html, cpid))
            p.set(ids.RTF_COMPRESSED, t.PT_BINARY, rtf_body.compress(rtf_body.html_to_rtf(html)))
            p.set(ids.NATIVE_BODY, t.PT_LONG, 3)
            derived = html_body.html_to_text(html)
        else:
            assert rtf is not None
            raw = rtf_bytes(rtf)
            p.set(ids.RTF_COMPRESSED, t.PT_BINARY, rtf_body.compress(raw))
            p.set(ids.NATIVE_BODY, t.PT_LONG, 2)
            derived = rtf_body.rtf_to_text(raw)
        p.set(ids.RTF_IN_SYNC, t.PT_BOOLEAN, True)
        p.set(ids.BODY, t.PT_UNICODE, body if body is not None else derived)

    def options(self, msg: Message) -> None:
        p = msg.props
        importance = self.choice("importance", IMPORTANCE)
        if importance is not None:
            p.set(ids.IMPORTANCE, t.PT_LONG, importance)
        sensitivity = self.choice("sensitivity", SENSITIVITY)
        if sensitivity is not None:
            p.set(ids.SENSITIVITY, t.PT_LONG, sensitivity)
        categories = self.spec.get("categories")
        if categories is not None:
            if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
                raise self.fail("categories", "expected a list of text")
            if categories:
                p.set(KEYWORDS, t.PT_MV_UNICODE, list(categories))
            else:
                p.pop(KEYWORDS, None)
        headers = self.spec.get("headers")
        if headers is not None:
            if not isinstance(headers, list):
                raise self.fail("headers", "expected a list of 'Name: value'")
            for index, line in enumerate(headers):
                name, sep, value = str(line).partition(":")
                if not sep or not re.fullmatch(r"[!-9;-~]+", name.strip()):
                    raise self.fail(f"headers[{index}]", f"{line!r} is not 'Name: value'")
                if "\r" in value or "\n" in value:
                    raise self.fail(f"headers[{index}]", "a header value cannot hold a line break")
                p.set(NamedId(PS_INTERNET_HEADERS, name=name.strip().lower()), t.PT_UNICODE, value.strip())
            if headers:
                p.set(ids.TRANSPORT_MESSAGE_HEADERS, t.PT_UNICODE, self.transport_headers(headers))
        message_id = self.text("message_id")
        if message_id is not None:
            if not (message_id.startswith("<") and message_id.endswith(">")):
                message_id = f"<{message_id}>"
            p.set(ids.INTERNET_MESSAGE_ID, t.PT_UNICODE, message_id)
        read, delivery = self.flag("read_receipt", False), self.flag("delivery_receipt", False)
        if read:
            p.set(ids.READ_RECEIPT_REQUESTED, t.PT_BOOLEAN, True)
        if delivery:
            p.set(ids.ORIGINATOR_DELIVERY_REPORT_REQUESTED, t.PT_BOOLEAN, True)
        if read or delivery:
            key = p.value(ids.SEARCH_KEY)
            p.set(REPORT_TAG, t.PT_BINARY, report_tag(key if isinstance(key, bytes) else self.digest[:16]))
        flag = self.text("flag")
        if flag is not None:
            p.set(FLAG_STATUS, t.PT_LONG, 2)  # followupFlagged
            p.set(FOLLOWUP_ICON, t.PT_LONG, 6)  # red flag
            p.set(TODO_ITEM_FLAGS, t.PT_LONG, 1)
            p.set(FLAG_REQUEST, t.PT_UNICODE, flag or "Follow up")
            due = self.time("due")
            if due is not None:
                p.set(TASK_DUE_DATE, t.PT_SYSTIME, due)
                p.set(TASK_START_DATE, t.PT_SYSTIME, due)
        elif self.spec.get("due") is not None:
            raise self.fail("due", "a due date needs a follow-up flag", hint="add --flag TEXT")

    def transport_headers(self, extra: list[Any]) -> str:
        """PR_TRANSPORT_MESSAGE_HEADERS: the RFC 5322 header block the message would travel with.

        Readers that convert to MIME take From, To, Cc, Subject from it when present, so it
        carries the envelope as well as the headers given, encoded per RFC 2047 where needed.
        """
        import email.policy
        import email.utils
        from email.message import EmailMessage

        head = EmailMessage(policy=email.policy.SMTP)
        when = self.time("date") or (None if self.flag("draft", True) else self.now)
        if when is not None and (moment := when.to_datetime()) is not None:
            head["Date"] = email.utils.format_datetime(moment)
        for key, field in (("from", "From"), ("sender", "Sender")):
            text = self.text(key)
            if text is not None and not (key == "sender" and text == self.text("from")):
                head[field] = _rfc5322_address(text, key)
        for key, field in (("to", "To"), ("cc", "Cc"), ("reply_to", "Reply-To")):
            people = [_rfc5322_address(a, key) for a, _ in self.address_list(key)]
            if people:
                head[field] = ", ".join(people)
        if self.text("subject"):
            head["Subject"] = self.text("subject")
        message_id = self.text("message_id")
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
                raise self.fail(f"headers[{index}]", f"{line!r} is not a valid header ({defects[0]})")
        return head.as_string()  # SMTP policy: CRLF line ends, folded, ends in a blank line

    def attachments(self, msg: Message) -> None:
        specs = self.spec.get("attachments")
        if specs is None:
            return
        if not isinstance(specs, list):
            raise self.fail("attachments", "expected a list")
        taken = {str(a.props.value(ids.ATTACH_FILENAME, "")).upper() for a in msg.attachments}
        for index, att_spec in enumerate(specs):
            if index < self.from_index.get("attachments", 0):
                continue  # checked when it was added
            if not isinstance(att_spec, dict):
                raise self.fail(f"attachments[{index}]", "expected an object")
            msg.attachments.append(self.attachment(att_spec, f"attachments[{index}]", taken))

    def attachment(self, spec: Mapping[str, Any], field: str, taken: set[str]) -> Attachment:
        att = Attachment()
        ap = att.props
        sources = [
            k for k in ("file", "data", "blob", "message", "msg", "msg_blob") if spec.get(k) is not None
        ]
        if len(sources) != 1:
            raise self.fail(field, "give exactly one of file, data, message or msg")
        source = sources[0]
        ap.set(ids.OBJECT_TYPE, t.PT_LONG, ids.MAPI_ATTACH)
        ap.set(ids.RENDERING_POSITION, t.PT_LONG, -1, ids.DEFAULT_FLAGS | ids.PROPATTR_MANDATORY)
        if self.unicode:
            ap.set(ids.STORE_SUPPORT_MASK, t.PT_LONG, 0x00040E79, ids.PROPATTR_READABLE)
        name = spec.get("name")
        if name is not None and not isinstance(name, str):
            raise self.fail(f"{field}.name", "expected text")
        if source in ("message", "msg", "msg_blob"):
            if self.embedded is None:
                raise self.fail(field, "embedded messages need a session or a loader")
            inner = self.embedded(spec)
            att.embedded = inner
            ap.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG, ids.DEFAULT_FLAGS | 1)
            ap.set(ids.DISPLAY_NAME, t.PT_UNICODE, name or str(inner.props.value(ids.SUBJECT, "")))
            if inner.props.value(ids.MESSAGE_CLASS):
                ap.set(ids.ATTACH_MIME_TAG, t.PT_UNICODE, "message/rfc822")
        else:
            data = self.attachment_bytes(spec, source, field)
            if not name:
                file_name = str(spec.get("file") or "")
                name = file_name.replace("\\", "/").rsplit("/", 1)[-1] or f"attachment{len(taken) + 1}"
            set_file_props(att, name, data, str(spec.get("mime") or guess_mime(name)), taken)
        cid = spec.get("content_id")
        if cid is not None:
            if not isinstance(cid, str) or not cid.strip("<> "):
                raise self.fail(f"{field}.content_id", "expected a non-empty content id")
            ap.set(ids.ATTACH_CONTENT_ID, t.PT_UNICODE, cid.strip().strip("<>"))
            ap.set(ids.ATTACH_FLAGS, t.PT_LONG, ATT_RENDERED_IN_BODY)
        hidden = spec.get("hidden", cid is not None)
        if not isinstance(hidden, bool):
            raise self.fail(f"{field}.hidden", "expected true or false")
        ap.set(ids.ATTACHMENT_HIDDEN, t.PT_BOOLEAN, hidden)
        self.overrides(ap, spec.get("properties"), f"{field}.properties")
        return att

    def attachment_bytes(self, spec: Mapping[str, Any], source: str, field: str) -> bytes:
        if source == "data":
            text = spec["data"]
            if not isinstance(text, str):
                raise self.fail(f"{field}.data", "expected base64 text")
            try:
                return base64.b64decode(text.removeprefix("base64:"), validate=True)
            except (binascii.Error, ValueError):
                raise self.fail(f"{field}.data", "is not valid base64") from None
        if source == "blob" and self.read_blob is not None:
            return self.read_blob(str(spec["blob"]))
        raise self.fail(
            f"{field}.{source}",
            "attachment files are read when the message is added",
            hint='add it through a session, or give the bytes as base64 in "data"',
        )

    def overrides(self, bag: Any, props: Any, field: str) -> None:
        """Apply a ``properties`` object: PROP -> value, or null to remove."""
        if not props:
            return
        if not isinstance(props, dict):
            raise self.fail(field, "expected an object of PROP: value")
        from msgsess.props import registry, values

        for name, value in props.items():
            if value is None:
                bag.pop(registry.resolve(str(name)).pid, None)
                continue
            # The one value syntax (docs/VALUES.md), as for `add --set` and `set`.
            pdef, ptype, parsed = values.parse_property(str(name), value, text=False)
            bag.set(pdef.pid, ptype, parsed)


def rtf_bytes(rtf: str) -> bytes:
    """An RTF body given as text -> the bytes to compress.

    Characters up to U+00FF are bytes as they stand (an RTF file read as Latin-1 comes
    back byte for byte); wider ones become ``\\uN?`` escapes (N signed 16-bit, pairs of
    surrogates beyond the BMP), as RTF has no other way to hold them.
    """
    out = bytearray()
    for char in rtf:
        code = ord(char)
        if code < 0x100:
            out.append(code)
            continue
        units = char.encode("utf-16-le")
        for pos in range(0, len(units), 2):
            unit = int.from_bytes(units[pos : pos + 2], "little")
            out += b"\\u%d?" % (unit - 0x10000 if unit >= 0x8000 else unit)
    return bytes(out)


def now_filetime() -> t.FileTime:
    return t.FileTime.from_datetime(_dt.datetime.now(_dt.UTC))


def compose(
    spec: Mapping[str, Any],
    *,
    now: t.FileTime | None = None,
    read_blob: Callable[[str], bytes] | None = None,
    embedded: Callable[[Mapping[str, Any]], Message] | None = None,
    label: str = "message",
    unicode: bool = True,
    codepage: int = 1252,
    base: Message | None = None,
    from_index: Mapping[str, int] | None = None,
) -> Message:
    """Build the model of one message from its spec.

    ``base`` is an existing message (an edited ``.msg``) that the spec changes;
    without it a new message gets the defaults a user of Outlook expects.
    ``label`` names the message: errors are located at it, and it seeds the
    message's search key and conversation index. ``from_index`` composes only the
    entries of some lists from an index on (``{"attachments": 3}``), to check
    entries just added without composing the ones checked before; errors still
    name every entry by its index in the whole list.
    """
    try:
        unknown = sorted(set(spec) - SPEC_KEYS)
        if unknown:
            raise InvalidParameter(
                f"unknown key {unknown[0]!r}", hint=f"known keys: {', '.join(sorted(SPEC_KEYS))}"
            )
        check_text(spec)
        when = now if now is not None else now_filetime()
        # Kinds beyond mail (msgsess.spec.Kind.steps): each turns its keys into mail keys first,
        # then puts its own properties on the message the mail composer built.
        prepared = []
        for steps in steps_for(spec):
            state = steps.prepare(spec, label=label)
            prepared.append((steps, state))
            spec = state.mail_spec
        composer = _Composer(spec, when, read_blob, embedded, label, unicode, codepage, from_index or {})
        msg = composer.build(base)
        for steps, state in prepared:
            steps.apply(state, msg, now=when)
        return msg
    except MsgsessError as exc:
        exc.at(label)
        raise


def check_text(value: Any, path: str = "") -> None:
    """Every string of a spec is text a .msg can hold: no NUL, no unpaired surrogate.

    A NUL would end a string early for most readers and shift the fields of a one-off
    entry id; an unpaired surrogate is no character at all. The error is located at the
    JSON path of the string (``to[2]``, ``attachments[0].name``).
    """
    if isinstance(value, str):
        for index, char in enumerate(value):
            if char == "\0" or "\ud800" <= char <= "\udfff":
                shown = "NUL" if char == "\0" else f"an unpaired surrogate U+{ord(char):04X}"
                raise InvalidParameter(
                    f"{shown} at character {index}", hint="remove it; text cannot hold it"
                ).at(path or "spec")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("source",):  # the captured bytes of an edited file are not text
                continue
            check_text(key, path or "spec")
            check_text(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_text(item, f"{path}[{index}]")


_CID_REF = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)


def missing_content_ids(msg: Message) -> list[str]:
    """``cid:`` references in the HTML body that no attachment's content id answers."""
    html = msg.props.value(ids.HTML)
    if not isinstance(html, bytes):
        return []
    text = html.decode("latin-1")  # cid values are ASCII in any charset we write
    wanted = dict.fromkeys(m.group(1) for m in _CID_REF.finditer(text))
    have = {str(a.props.value(ids.ATTACH_CONTENT_ID, "")).strip("<>") for a in msg.attachments}
    return [cid for cid in wanted if cid not in have]
