"""Message model -> RFC 5322 / MIME bytes ([MS-OXCMAIL] 2.1, [MS-OXOSMIME] 2.1.3.3).

Headers are written from the message's properties, so an edited subject leaves as
edited; the other fields a received message travelled with (Received, DKIM, List-*,
X-…) are kept from PR_TRANSPORT_MESSAGE_HEADERS as they were, and a field whose
property still says what the original field said is kept byte for byte (its folding,
time zone and encoding too). Bodies become multipart/alternative (text, HTML, RTF),
inline images multipart/related, attachments base64 parts with RFC 2231 names,
embedded messages message/rfc822. A signed S/MIME message gives back the signed
entity it was read from, byte for byte. The output is 7-bit.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as _dt
import email.header
import email.policy
import email.utils
import hashlib
import re
from collections.abc import Callable
from email.generator import BytesGenerator
from email.headerregistry import Address, Group
from email.message import EmailMessage, MIMEPart
from email.parser import Parser
from io import BytesIO
from typing import Any, NamedTuple

from msgsess.mime import headers as hdr
from msgsess.mime import props as mp
from msgsess.mime.text import CODEPAGE_CHARSETS, clean_text, python_codec
from msgsess.model import Attachment, Message, Property, PropertyBag, Recipient, int_value, is_inline
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.props.keys import PS_INTERNET_HEADERS, NamedId
from msgsess.storage import Storage

#: 7-bit output; fields kept from the source are never refolded.
POLICY = email.policy.default.clone(cte_type="7bit", refold_source="none", max_line_length=78)

#: Fields written from properties (and the MIME structure): the same fields of the transport
#: headers are left out unless the property still says what they said.
_FROM_PROPERTIES = (
    "from",
    "sender",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "importance",
    "priority",
    "x-priority",
    "x-msmail-priority",
    "sensitivity",
    "keywords",
    "disposition-notification-to",
    "return-receipt-to",
    "x-unsent",
    "mime-version",
)
_DROPPED_PREFIXES = ("content-",)
#: Fields kept verbatim when the property still holds the value they give.
_KEPT_IF_SAME = (
    "date",
    "subject",
    "from",
    "sender",
    "to",
    "cc",
    "reply-to",
    "message-id",
    "in-reply-to",
    "references",
)

_CID_REF = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_ONE_OFF_PROVIDER = bytes.fromhex("812B1FA4BEA310199D6E00DD010F5402")
#: CMS content types ([RFC 5652] 5.1, 6.1): signedData and envelopedData.
_OID_SIGNED = bytes.fromhex("06092a864886f70d010702")
_OID_ENVELOPED = bytes.fromhex("06092a864886f70d010703")


class _RawEntity(EmailMessage):
    """A message whose body is written exactly as stored (the signed part of S/MIME)."""

    raw_body: bytes = b""


class _RawMessage(EmailMessage):
    """A whole message written exactly as stored (an attached .eml file)."""

    raw: bytes = b""


class _Generator(BytesGenerator):
    """``email``'s generator, writing stored bytes where they must stay as they are.

    It overrides two internal hooks of the standard library's ``Generator`` (stable since
    Python 3.2): ``_write`` (a whole message) and ``_dispatch`` (a body).
    """

    def _write(self, msg: Any) -> None:
        if isinstance(msg, _RawMessage):
            self._fp.write(msg.raw)  # type: ignore[attr-defined]
            return
        super()._write(msg)  # type: ignore[misc]

    def _dispatch(self, msg: Any) -> None:
        if isinstance(msg, _RawEntity):
            self._fp.write(msg.raw_body)  # type: ignore[attr-defined]
            return
        super()._dispatch(msg)  # type: ignore[misc]

    @classmethod
    def _make_boundary(cls, text: str | bytes | None = None) -> str:
        """A boundary derived from the parts it separates: the same message gives the same bytes."""
        if isinstance(text, bytes):  # BytesGenerator hands over the parts as bytes
            text = text.decode("ascii", "surrogateescape")
        seed = hashlib.sha256((text or "").encode("utf-8", "surrogateescape")).hexdigest()[:24]
        boundary = f"=_msgsess_{seed}"
        lines = set((text or "").splitlines())
        counter = 0
        candidate = boundary
        while any(line.startswith("--" + candidate) for line in lines):
            counter += 1
            candidate = f"{boundary}.{counter}"
        return candidate


def message_to_eml(
    msg: Message,
    *,
    crlf: bool = False,
    storage_bytes: Callable[[Storage], bytes] | None = None,
) -> bytes:
    """The message as an RFC 5322 / MIME message (7-bit; CRLF line ends with ``crlf``).

    A clear-signed S/MIME message keeps the line ends its signed entity has, whatever ``crlf``.

    ``storage_bytes`` turns an OLE attachment's storage into a compound file; without it
    such attachments are named in an ``X-Msgsess-Unconverted`` field instead.
    """
    entity = _Writer(storage_bytes).message(_text_only(msg))
    out = BytesIO()
    signed = _signed_entity(msg)
    if signed is not None:
        # A signed message keeps the line ends it was signed with, so that its signed entity,
        # header included, comes back byte for byte.
        crlf = signed[2] == b"\r\n"
    policy = POLICY.clone(linesep="\r\n" if crlf else "\n")
    _Generator(out, mangle_from_=False, policy=policy).flatten(entity, linesep=policy.linesep)
    return out.getvalue()


_NO_TEXT = re.compile("[\ud800-\udfff]")


def _text_only(msg: Message) -> Message:
    """``msg`` with U+FFFD for each string's lone surrogates, which MIME has no way to carry.

    A decoded file keeps bytes that are no text (an undefined code-page byte, an unpaired UTF-16
    code unit) as lone surrogates, so that an edit writes them back byte for byte; in UTF-8 they
    are no characters at all. Levels without such strings are the same objects (nothing copied).
    """

    def fixed(value: Any) -> Any:
        if isinstance(value, str):
            return _NO_TEXT.sub("\ufffd", value)
        return [fixed(v) for v in value] if isinstance(value, list) else value

    def bag(props: PropertyBag) -> PropertyBag:
        if not any(_NO_TEXT.search(str(p.value)) for p in props.values() if isinstance(p.value, str | list)):
            return props
        out = PropertyBag()
        for pid, prop in props.items():
            out[pid] = Property(prop.type, fixed(prop.value), prop.flags, prop.stored)
        return out

    return Message(
        bag(msg.props),
        [Recipient(bag(r.props), r.extra) for r in msg.recipients],
        [
            Attachment(
                bag(a.props), None if a.embedded is None else _text_only(a.embedded), a.custom, a.extra
            )
            for a in msg.attachments
        ],
        msg.extra,
        msg.source_unicode,
        msg.source_codepage,
        msg.clsid,
    )


class _Writer:
    def __init__(self, storage_bytes: Callable[[Storage], bytes] | None) -> None:
        self.storage_bytes = storage_bytes

    # --- the message --------------------------------------------------------------------

    def message(self, msg: Message) -> EmailMessage:
        signed = _signed_entity(msg)
        if signed is not None:
            head, body, _newline = signed
            signed_entity = _RawEntity(policy=POLICY)
            signed_entity.raw_body = body
            self.headers(signed_entity, msg)
            for name, value in _parse_head(head):
                if name.lower() != "mime-version":
                    signed_entity.set_raw(name, value)
            return signed_entity
        entity = EmailMessage(policy=POLICY)
        self.headers(entity, msg)
        opaque = _opaque_smime(msg)
        if opaque is not None:
            entity.set_content(
                opaque.data or b"",
                "application",
                "pkcs7-mime",
                cte="base64",
                disposition="attachment",
                filename=mp.SMIME_NAME,
                params={"smime-type": _smime_type(opaque), "name": mp.SMIME_NAME},
            )
            return entity
        self.body(entity, msg)
        return entity

    # --- header fields ------------------------------------------------------------------

    def headers(self, entity: EmailMessage, msg: Message) -> None:
        p = msg.props
        source = _transport(msg)
        ours: list[tuple[str, Any]] = []
        sent_repr = _person(p, "sent")
        sender = _person(p, "sender")
        if sent_repr is None:
            sent_repr = sender
        if sent_repr is not None:
            ours.append(("From", [sent_repr]))
        if sender is not None and sender != sent_repr:
            ours.append(("Sender", [sender]))
        for kind, field in ((ids.MAPI_TO, "To"), (ids.MAPI_CC, "Cc"), (ids.MAPI_BCC, "Bcc")):
            people = [a for r in msg.recipients if r.kind == kind and (a := _recipient(r)) is not None]
            if people:
                ours.append((field, people))
        reply = _reply_to(p)
        if reply:
            ours.append(("Reply-To", reply))
        subject = p.value(ids.SUBJECT)
        if isinstance(subject, str) and subject:
            ours.append(("Subject", subject))
        when = _first_time(p, ids.CLIENT_SUBMIT_TIME, ids.MESSAGE_DELIVERY_TIME)
        if when is None and int_value(p, ids.MESSAGE_FLAGS, 0) & ids.MSGFLAG_UNSENT:
            when = _first_time(p, ids.LAST_MODIFICATION_TIME, ids.CREATION_TIME)
        if when is not None:
            ours.append(("Date", when))
        for field, pid in (
            ("Message-ID", ids.INTERNET_MESSAGE_ID),
            ("In-Reply-To", ids.IN_REPLY_TO_ID),
            ("References", ids.INTERNET_REFERENCES),
        ):
            value = p.value(pid)
            if isinstance(value, str) and value.strip():
                ours.append((field, value.strip()))
        importance = int_value(p, ids.IMPORTANCE, 1)
        if importance in hdr.IMPORTANCE_HEADER:
            ours.append(("Importance", hdr.IMPORTANCE_HEADER[importance]))
            ours.append(("X-Priority", hdr.X_PRIORITY_HEADER[importance]))
        priority = int_value(p, ids.PRIORITY, 0)
        if priority in hdr.PRIORITY_HEADER:
            ours.append(("Priority", hdr.PRIORITY_HEADER[priority]))
        sensitivity = int_value(p, ids.SENSITIVITY, 0)
        if sensitivity in hdr.SENSITIVITY_NAMES:
            ours.append(("Sensitivity", hdr.SENSITIVITY_NAMES[sensitivity]))
        categories = p.value(mp.KEYWORDS)
        if isinstance(categories, list) and categories:
            ours.append(("Keywords", ", ".join(str(c) for c in categories)))
        if sent_repr is not None:
            if p.value(ids.READ_RECEIPT_REQUESTED) is True:
                ours.append(("Disposition-Notification-To", [sent_repr]))
            if p.value(ids.ORIGINATOR_DELIVERY_REPORT_REQUESTED) is True:
                ours.append(("Return-Receipt-To", [sent_repr]))
        if int_value(p, ids.MESSAGE_FLAGS, 0) & ids.MSGFLAG_UNSENT:
            ours.append(("X-Unsent", "1"))
        for note in _unconverted(msg, self.storage_bytes is not None):
            ours.append(("X-Msgsess-Unconverted", note))

        kept = _kept_fields(source, dict(ours))
        written = {name.lower() for name, _ in kept}
        for name, value in kept:
            _set_kept(entity, name, value)
        for name, value in ours:
            if name.lower() not in written:
                _set_field(entity, name, value)
        for name, value in _named_headers(msg, written | {n.lower() for n, _ in ours}):
            _set_field(entity, name, value)
        entity["MIME-Version"] = "1.0"

    # --- bodies and attachments ---------------------------------------------------------

    def body(self, entity: EmailMessage, msg: Message) -> None:
        text, html, html_charset, rtf = _bodies(msg)
        html_text = (
            html.decode(python_codec(html_charset) or "utf-8", "replace") if html is not None else None
        )
        related, attached = _split_attachments(msg, html_text)
        parts: list[MIMEPart] = []
        if text is not None or (html is None and rtf is None):
            parts.append(_text_part(text or "", "plain"))
        if html is not None:
            html_part = _text_bytes_part(html, "html", html_charset or "utf-8")
            if related:
                html_part = _wrap("related", [html_part, *(self.attachment(a, inline=True) for a in related)])
            parts.append(html_part)
        if rtf is not None:
            parts.append(_text_bytes_part(rtf, "rtf", None))
        main = parts[0] if len(parts) == 1 else _wrap("alternative", parts)
        attachments = [
            self.attachment(a, inline=False)
            for a in attached
            if _convertible(a, self.storage_bytes is not None)
        ]
        if attachments:
            main = _wrap("mixed", [main, *attachments])
        _adopt(entity, main)

    def attachment(self, att: Attachment, *, inline: bool) -> MIMEPart:
        part = MIMEPart(policy=POLICY)
        name = _unfold(clean_text(att.name))
        if att.embedded is not None:
            part["Content-Type"] = "message/rfc822"
            part.set_payload([self.message(att.embedded)])
            part["Content-Disposition"] = "attachment"
            if name:
                part.set_param("filename", name, header="Content-Disposition")
            return part
        data = att.data if att.method == ids.ATTACH_BY_VALUE else None
        if att.custom is not None and self.storage_bytes is not None:
            data = self.storage_bytes(att.custom)
        mime = _mime_type(att)
        if mime.startswith("message/"):
            if not _seven_bit(data or b""):
                # message/* may only be 7bit, 8bit or binary ([RFC 2046] 5.2): as a file instead.
                mime = "application/octet-stream"
            else:
                return _message_part(mime, data or b"", name)
        maintype, subtype = mime.split("/", 1)
        params = _saved_params(att, mime)
        if name:
            params.setdefault("name", name)
        cid = att.props.value(ids.ATTACH_CONTENT_ID)
        cid = _unfold(cid) if isinstance(cid, str) else cid
        part.set_content(
            data or b"",
            maintype,
            subtype,
            cte="base64",
            disposition="inline" if inline else "attachment",
            filename=name or None,
            cid=f"<{str(cid).strip('<>')}>" if isinstance(cid, str) and cid.strip("<> ") else None,
            params=params,
        )
        location = att.props.value(ids.ATTACH_CONTENT_LOCATION)
        if isinstance(location, str) and location.strip():
            part["Content-Location"] = _unfold(location).strip()
        for param, pid in (
            ("creation-date", ids.CREATION_TIME),
            ("modification-date", ids.LAST_MODIFICATION_TIME),
        ):
            when = _first_time(att.props, pid)
            if when is not None:
                part.set_param(param, email.utils.format_datetime(when), header="Content-Disposition")
        return part


# --- people ------------------------------------------------------------------------------

_PERSON = {
    "sent": (
        ids.SENT_REPRESENTING_NAME,
        ids.SENT_REPRESENTING_ADDRESS_TYPE,
        ids.SENT_REPRESENTING_EMAIL_ADDRESS,
        ids.SENT_REPRESENTING_SMTP_ADDRESS,
        ids.SENT_REPRESENTING_ENTRY_ID,
    ),
    "sender": (
        ids.SENDER_NAME,
        ids.SENDER_ADDRESS_TYPE,
        ids.SENDER_EMAIL_ADDRESS,
        ids.SENDER_SMTP_ADDRESS,
        ids.SENDER_ENTRY_ID,
    ),
}


class Mailbox(NamedTuple):
    """One address of a header field: display name, SMTP address ('' if none), native address."""

    name: str
    address: str
    native: str = ""


def _person(p: Any, which: str) -> Mailbox | None:
    name_id, type_id, email_id, smtp_id, entry_id = _PERSON[which]
    return _mailbox(p, name_id, type_id, email_id, smtp_id, entry_id)


def _recipient(r: Recipient) -> Mailbox | None:
    p = r.props
    found = _mailbox(p, ids.DISPLAY_NAME, ids.ADDRESS_TYPE, ids.EMAIL_ADDRESS, ids.SMTP_ADDRESS, ids.ENTRY_ID)
    if found is None:
        found = _mailbox(
            p,
            ids.RECIPIENT_DISPLAY_NAME,
            ids.ADDRESS_TYPE,
            ids.EMAIL_ADDRESS,
            ids.SMTP_ADDRESS,
            ids.RECIPIENT_ENTRY_ID,
        )
    return found


def _mailbox(
    p: Any, name_id: int, type_id: int, email_id: int, smtp_id: int, entry_id: int
) -> Mailbox | None:
    """One address property group: its SMTP address, else its native one (an Exchange DN)."""
    name = p.value(name_id)
    addr_type = str(p.value(type_id) or "SMTP").upper()
    native = p.value(email_id)
    native = native.strip() if isinstance(native, str) else ""
    address = p.value(smtp_id)
    if not (isinstance(address, str) and address.strip()) and addr_type == "SMTP":
        address = native
    if not (isinstance(address, str) and address.strip()):
        entry = p.value(entry_id)
        one_off = parse_one_off(entry) if isinstance(entry, bytes) else None
        if one_off is not None and one_off[1].upper() == "SMTP":
            address = one_off[2]
            name = name or one_off[0]
    address = address.strip() if isinstance(address, str) else ""
    if not isinstance(name, str) or not name.strip():
        name = address or native
    if not name and not address:
        return None
    return Mailbox(clean_text(name.strip()), clean_text(address), "" if address else clean_text(native))


def parse_one_off(entry: bytes) -> tuple[str, str, str] | None:
    """(name, address type, address) of a one-off EntryID ([MS-OXCDATA] 2.2.5.1), else None."""
    if len(entry) < 24 or entry[4:20] != _ONE_OFF_PROVIDER:
        return None
    flags = int.from_bytes(entry[22:24], "little")
    rest = entry[24:]
    if flags & 0x8000:  # MAPI_ONE_OFF_UNICODE
        fields = rest.decode("utf-16-le", "replace").split("\0")
    else:
        fields = rest.decode("latin-1").split("\0")
    if len(fields) < 3:
        return None
    return fields[0], fields[1], fields[2]


def _reply_to(p: Any) -> list[Mailbox]:
    entries = p.value(ids.REPLY_RECIPIENT_ENTRIES)
    out: list[Mailbox] = []
    if isinstance(entries, bytes) and len(entries) >= 8:
        count = int.from_bytes(entries[0:4], "little")
        pos = 8
        for _ in range(min(count, 2048)):
            if pos + 4 > len(entries):
                break
            size = int.from_bytes(entries[pos : pos + 4], "little")
            one_off = parse_one_off(entries[pos + 4 : pos + 4 + size])
            if one_off is not None and one_off[2]:
                out.append(Mailbox(one_off[0] or one_off[2], one_off[2]))
            pos += 4 + size
            pos += -pos % 4
    return out


def _address(box: Mailbox) -> Address | Group | str:
    """An Address for the header registry: IDNA domain, display name dropped when it is the address.

    Without an SMTP address, the native one (an Exchange DN) stands as a local part without
    domain, as msgconvert writes it; without any address, the name is an empty group.
    """
    name, addr = _unfold(box.name), _unfold(box.address or box.native)
    if not addr:
        return Group(display_name=name, addresses=())
    local, at, domain = addr.rpartition("@")
    if not at:
        local, domain = addr, ""
    if domain and not domain.isascii():
        with contextlib.suppress(UnicodeError):
            domain = domain.encode("idna").decode("ascii")
    shown = "" if name == addr else name
    try:
        return Address(display_name=shown, username=local, domain=domain)
    except (ValueError, TypeError, IndexError):
        return email.utils.formataddr((shown, addr))


def _unfold(text: str) -> str:
    """Text for one header field: line breaks from the message become spaces, as a reader unfolds
    them, so that no value ends its field early or starts one of its own (``Bcc:``)."""
    return _LINE_BREAKS.sub(" ", text) if text else text


_LINE_BREAKS = re.compile(r"[\r\n]+")


def _set_field(entity: EmailMessage, name: str, value: Any) -> None:
    if isinstance(value, str):
        value = _unfold(value)
    elif isinstance(value, list):
        value = [_address(box) for box in value]
    elif isinstance(value, _dt.datetime):
        value = email.utils.format_datetime(value)
    try:
        entity[name] = value
        # As the generator will write it: 8-bit text in a field whose syntax has no encoding for
        # it (a Message-ID is ASCII only) fails there, so it fails here and takes the fallback.
        entity.policy.fold_binary(name, entity[name])
    except (ValueError, TypeError, IndexError, AttributeError):
        # A value the header registry refuses (a bare name without an address…): as plain text.
        del entity[name]
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        if text.isascii():
            entity[name] = text
        else:  # RFC 2047 words, as they are: the field's own parser would decode them again
            entity.set_raw(name, email.header.Header(text, "utf-8").encode())


def _set_kept(entity: EmailMessage, name: str, value: str) -> None:
    """A field from the transport headers, as it was; 8-bit values are encoded for 7-bit output."""
    if value.isascii():
        entity.set_raw(name, value)
    else:
        entity[name] = re.sub(r"\r?\n[ \t]", " ", value)


# --- the transport headers ---------------------------------------------------------------


def _transport(msg: Message) -> EmailMessage | None:
    block = msg.props.value(ids.TRANSPORT_MESSAGE_HEADERS)
    if not isinstance(block, str) or not block.strip():
        return None
    block = block.lstrip("\r\n")
    if not block.endswith(("\n\n", "\r\n\r\n")):
        block = block.rstrip("\r\n") + "\n\n"
    parsed: EmailMessage = Parser(policy=email.policy.default).parsestr(block, headersonly=True)
    return parsed


def _kept_fields(source: EmailMessage | None, ours: dict[str, Any]) -> list[tuple[str, str]]:
    """The transport header fields to write again as they were, in their order."""
    if source is None:
        return []
    values = {name.lower(): value for name, value in ours.items()}
    same = {name for name in _KEPT_IF_SAME if name in values and _same(source, name, values[name])}
    kept: list[tuple[str, str]] = []
    for name, value in source.raw_items():
        low = name.lower()
        if low.startswith(_DROPPED_PREFIXES) or (low in _FROM_PROPERTIES and low not in same):
            continue
        kept.append((name, str(value)))
    return kept


def _same(source: EmailMessage, name: str, value: Any) -> bool:
    """Whether the transport header field says what the property holds (read as the reader reads it)."""
    if len(source.get_all(name) or []) != 1:
        return False
    try:
        if isinstance(value, list):
            if any(not box.address for box in value):
                return True  # the source's field has what the properties lack: an SMTP address
            return bool(hdr.addresses(source, name)[0] == [(box.name, box.address) for box in value])
        if isinstance(value, _dt.datetime):
            given = hdr.date(source, name)
            return given is not None and int(given.timestamp()) == int(value.timestamp())
        if name == "subject":
            return bool(hdr.text(source, name) == value)
        if name == "references":
            return bool(hdr.message_ids(source, name) == value)
        return bool(hdr.message_id(source, name) == value)
    except Exception:
        return False


def _named_headers(msg: Message, taken: set[str]) -> list[tuple[str, str]]:
    """PS_INTERNET_HEADERS properties (``--header``, X- fields read from mail) not written yet."""
    out = []
    for pid, prop in msg.props.items():
        if not (isinstance(pid, NamedId) and pid.guid == PS_INTERNET_HEADERS and pid.name):
            continue
        low = pid.name.lower()
        if low in taken or low.startswith(_DROPPED_PREFIXES) or not isinstance(prop.value, str):
            continue
        if not re.fullmatch(r"[!-9;-~]+", low) or "\n" in prop.value or "\r" in prop.value:
            continue
        out.append(("-".join(w.capitalize() for w in low.split("-")), prop.value))
        taken.add(low)
    return out


def _unconverted(msg: Message, can_store: bool) -> list[str]:
    """What the MIME message cannot carry, named so it is not lost without a word."""
    notes = []
    for index, att in enumerate(msg.attachments):
        if _convertible(att, can_store):
            continue
        what = "an OLE object" if att.custom is not None else "a link to a file"
        path = att.props.value(mp.ATTACH_LONG_PATHNAME) or att.props.value(mp.ATTACH_PATHNAME)
        where = f" {path}" if isinstance(path, str) and path else ""
        notes.append(f'attachment {index} "{clean_text(att.name)}" is {what}{where}')
    return notes


def _convertible(att: Attachment, can_store: bool) -> bool:
    if att.embedded is not None:
        return True
    if att.custom is not None:
        return can_store
    return att.method in (ids.ATTACH_BY_VALUE, 0) or att.data is not None


# --- bodies --------------------------------------------------------------------------------


def _bodies(msg: Message) -> tuple[str | None, bytes | None, str | None, bytes | None]:
    """(plain text, HTML bytes, their charset, RTF that is not encapsulated HTML)."""
    from msgsess.oxmsg import html as html_body
    from msgsess.oxmsg import rtf as rtf_body

    p = msg.props
    text = p.value(ids.BODY)
    text = text if isinstance(text, str) else None
    html, charset = _html(msg)
    rtf: bytes | None = None
    blob = p.value(ids.RTF_COMPRESSED)
    if html is None and isinstance(blob, bytes):
        try:
            raw = rtf_body.decompress(blob)
        except ValueError:
            raw = None
        if raw is not None:
            from_rtf = rtf_body.html_from_rtf(raw)
            if from_rtf is not None:
                html, charset = from_rtf.encode("utf-8"), "utf-8"
            else:
                rtf = raw
                if text is None:
                    text = rtf_body.rtf_to_text(raw)
    if text is None and html is not None:
        text = html_body.html_to_text(html.decode(python_codec(charset) or "utf-8", "replace"))
    return text, html, charset, rtf


def _html(msg: Message) -> tuple[bytes | None, str | None]:
    value = msg.props.value(ids.HTML)
    if isinstance(value, str):
        return value.encode("utf-8"), "utf-8"
    if not isinstance(value, bytes) or not value:
        return None, None
    cpid = int_value(msg.props, ids.INTERNET_CODEPAGE, 0)
    candidates = [CODEPAGE_CHARSETS.get(cpid)]
    meta = _META_CHARSET.search(value[:4096])
    if meta is not None:
        candidates.append(meta.group(1).decode("ascii").lower())
    candidates += ["utf-8", "windows-1252"]
    for charset in candidates:
        codec = python_codec(charset)
        if codec is None:
            continue
        try:
            value.decode(codec)
        except UnicodeDecodeError:
            continue
        return value, charset
    return value, "iso-8859-1"


def _text_part(text: str, subtype: str) -> MIMEPart:
    part = MIMEPart(policy=POLICY)
    charset = "us-ascii" if text.isascii() else "utf-8"
    part.set_content(text, subtype, charset=charset)
    return part


def _text_bytes_part(data: bytes, subtype: str, charset: str | None) -> MIMEPart:
    """Text kept as the bytes it is stored in (HTML with a <meta> charset stays true to it).

    ASCII with short lines goes as it is, other text quoted-printable with its line breaks
    kept as line breaks, anything with NULs or lone CRs in base64.
    """
    part = MIMEPart(policy=POLICY)
    part["Content-Type"] = f"text/{subtype}"
    if charset:
        part.set_param("charset", charset)
    lines = re.split(rb"\r\n|\n", data)
    if b"\0" in data or any(b"\r" in line for line in lines):
        part["Content-Transfer-Encoding"] = "base64"
        part.set_payload(base64.encodebytes(data).decode("ascii"))
    elif data.isascii() and all(len(line) <= 998 for line in lines):
        part["Content-Transfer-Encoding"] = "7bit"
        part.set_payload("\n".join(line.decode("ascii") for line in lines))
    else:
        part["Content-Transfer-Encoding"] = "quoted-printable"
        encoded = binascii.b2a_qp(b"\n".join(lines), quotetabs=False, istext=True, header=False)
        part.set_payload(encoded.decode("ascii"))
    return part


def _message_part(mime: str, data: bytes, name: str) -> MIMEPart:
    """A message/* attachment (an attached .eml, a delivery report) with its bytes as they are."""
    part = MIMEPart(policy=POLICY)
    part["Content-Type"] = mime
    if mime == "message/rfc822":
        inner = _RawMessage(policy=POLICY)
        inner.raw = data
        part.set_payload([inner])
    else:
        raw = _RawEntity(policy=POLICY)
        raw.raw_body = data
        part = raw
        part["Content-Type"] = mime
    part["Content-Disposition"] = "attachment"
    if name:
        part.set_param("filename", name, header="Content-Disposition")
    return part


def _seven_bit(data: bytes) -> bool:
    return data.isascii() and b"\0" not in data and all(len(line) <= 998 for line in data.splitlines())


def _wrap(subtype: str, parts: list[MIMEPart]) -> MIMEPart:
    outer = MIMEPart(policy=POLICY)
    outer["Content-Type"] = f"multipart/{subtype}"
    for part in parts:
        outer.attach(part)
    return outer


def _adopt(entity: EmailMessage, part: MIMEPart) -> None:
    """Move a part's content and Content-* fields onto the message itself."""
    for name, value in part.raw_items():
        entity.set_raw(name, value)
    entity.set_payload(part.get_payload())


def _split_attachments(msg: Message, html: str | None) -> tuple[list[Attachment], list[Attachment]]:
    """(inline attachments the HTML shows, attachments of their own)."""
    if html is None:
        return [], list(msg.attachments)
    wanted = {m.group(1).strip("<>").lower() for m in _CID_REF.finditer(html)}
    related, attached = [], []
    for att in msg.attachments:
        cid = att.props.value(ids.ATTACH_CONTENT_ID)
        cid = _unfold(cid) if isinstance(cid, str) else cid
        shown = isinstance(cid, str) and cid.strip("<>").lower() in wanted
        if att.embedded is None and att.custom is None and (shown or is_inline(att)):
            related.append(att)
        else:
            attached.append(att)
    return related, attached


def _mime_type(att: Attachment) -> str:
    from msgsess.composer import guess_mime

    mime = att.props.value(ids.ATTACH_MIME_TAG)
    if isinstance(mime, str) and re.fullmatch(r"[\w.+-]+/[\w.+-]+", mime.strip()):
        return mime.strip().lower()
    return guess_mime(att.name or "")


def _saved_params(att: Attachment, mime: str) -> dict[str, str]:
    """Parameters of the Content-Type the attachment came with (charset, method…) while it has that type."""
    saved = att.props.value(mp.CONTENT_TYPE)
    if not isinstance(saved, str):
        return {}
    head = EmailMessage(policy=email.policy.default)
    try:
        head["Content-Type"] = saved
        if head.get_content_type() != mime:
            return {}
        params = dict(head["Content-Type"].params)
    except Exception:
        return {}
    params.pop("name", None)
    params.pop("boundary", None)
    return {k: str(v) for k, v in params.items()}


def _first_time(p: Any, *pids: int) -> _dt.datetime | None:
    for pid in pids:
        value = p.value(pid)
        if isinstance(value, t.FileTime) and (when := value.to_datetime()) is not None:
            return when
    return None


# --- S/MIME --------------------------------------------------------------------------------


def _smime_attachment(msg: Message, mime: str) -> Attachment | None:
    cls = str(msg.props.value(ids.MESSAGE_CLASS, ""))
    if not cls.upper().startswith(mp.MESSAGE_CLASS_SMIME.upper()) or len(msg.attachments) != 1:
        return None
    att = msg.attachments[0]
    if att.data is None:
        return None
    tag = str(att.props.value(ids.ATTACH_MIME_TAG, "")).lower()
    return att if tag.startswith(mime) else None


def _signed_entity(msg: Message) -> tuple[bytes, bytes, bytes] | None:
    """(header block, body, line end) of a clear-signed message's signed entity ([MS-OXOSMIME] 2.1.3.2)."""
    att = _smime_attachment(msg, "multipart/signed")
    if att is None or att.data is None:
        return None
    data = att.data
    m = re.search(rb"\r?\n\r?\n", data)
    if m is None or not re.match(rb"[!-9;-~]+:", data):
        return None
    head = data[: m.start()]
    if not re.search(rb"(?im)^content-type:\s*multipart/signed", head):
        return None
    return head, data[m.end() :], b"\r\n" if m.group(0).startswith(b"\r") else b"\n"


def _parse_head(head: bytes) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for line in re.split(rb"\r?\n(?![ \t])", head):
        name, sep, value = line.partition(b":")
        if sep and name.strip():
            text = value.decode("ascii", "surrogateescape").lstrip(" \t")
            fields.append((name.decode("ascii", "replace").strip(), re.sub(r"\r?\n", "\n", text)))
    return fields


def _opaque_smime(msg: Message) -> Attachment | None:
    """The CMS blob of an opaque-signed or encrypted message ([MS-OXOSMIME] 2.1.3.1)."""
    for mime in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
        att = _smime_attachment(msg, mime)
        if att is not None:
            return att
    return None


def _smime_type(att: Attachment) -> str:
    params = _saved_params(att, str(att.props.value(ids.ATTACH_MIME_TAG, "")).lower())
    if params.get("smime-type"):
        return params["smime-type"]
    head = (att.data or b"")[:64]
    return (
        "signed-data"
        if _OID_SIGNED in head
        else "enveloped-data"
        if _OID_ENVELOPED in head
        else "signed-data"
    )
