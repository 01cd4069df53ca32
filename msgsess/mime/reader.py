"""MIME mail -> message model ([MS-OXCMAIL] 2.2, [MS-OXOSMIME] 2.1.3, [MS-OXTNEF]), pure.

Parsed with the standard library's ``email`` (policy ``default``, bytes in). Mail is
read the way Outlook stores received mail: a received message is sent and read, a
draft (``X-Unsent: 1``) is unsent; the envelope goes to the sender, sent-representing
and recipient properties; the whole header block to PR_TRANSPORT_MESSAGE_HEADERS;
the text and HTML bodies (found as ``email``'s ``get_body`` finds them) to PR_BODY,
PR_HTML and the RTF that encapsulates the HTML; every other part to an attachment,
``message/rfc822`` parts to embedded messages, TNEF to the properties it carries.

Bad input never raises: what ``email`` reports as defects, and what had to be
guessed, comes back as warnings. Only bytes that are not a mail message at all are
refused, with one :class:`~msgsess.errors.CorruptFile`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import email.policy
import email.utils
import functools
import hashlib
import mimetypes
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from msgsess.composer.addresses import flat_entry_list, new_recipient, one_off_entry_id, set_address_group
from msgsess.composer.attachments import set_file_props
from msgsess.composer.message import conversation_index
from msgsess.errors import CorruptFile
from msgsess.mime import headers as hdr
from msgsess.mime import props as mp
from msgsess.mime import raw as rawmime
from msgsess.mime.text import (
    clean_text,
    codepage_of,
    crlf,
    decode_bytes,
    fix_header_text,
    split_uuencoded,
    unflow,
)
from msgsess.mime.tnef import TnefError, read_tnef
from msgsess.model import Attachment, Message, refresh_derived, set_subject
from msgsess.oxmsg import layout
from msgsess.props import ids
from msgsess.props import types as t


class _Policy(email.policy.EmailPolicy):
    """``email``'s default policy, remembering parsed header values.

    The default policy parses a header again each time it is read, and ``email`` itself reads
    Content-Type four times while parsing; mail repeats the same values (``text/plain;
    charset=utf-8``) across messages. Header objects are immutable, so sharing them is safe.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name"):
            return value
        return _parsed_header(self.header_factory, name, value)


@functools.lru_cache(maxsize=256)
def _parsed_header(factory: Any, name: str, value: str) -> Any:
    return factory(name, "".join(_LINE_BREAKS.split(value)))


_LINE_BREAKS = re.compile(r"\n|\r")
POLICY = _Policy()
#: Embedded messages nest at most as deep as a .msg can hold them ([MS-OXMSG]; msgsess's limit).
MAX_DEPTH = layout.MAX_EMBEDDING_DEPTH
#: Recipients and attachments a .msg holds at most ([MS-OXMSG] 2.2.1, 2.2.2).
MAX_OBJECTS = layout.MAX_OBJECTS
#: X- header fields kept as PS_INTERNET_HEADERS properties, at most.
MAX_NAMED_HEADERS = 64

_CFB_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: ``boundary=----=_NextPart…`` without quotes: '=' may not stand unquoted ([RFC 2045] 5.1), but
#: Outlook Express and others wrote it so, and every mail reader takes it whole.
_UNQUOTED_BOUNDARY = re.compile(rb"(?i)(boundary\s*=\s*)([^\s\";][^\s;]*=[^\s;]*)")
_FROM_LINE = re.compile(rb"From [^\r\n]*\r?\n")
_FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")
#: Fields of which one makes a header block a mail header (others may come along).
_MAIL_FIELDS = frozenset(
    {
        "from", "to", "cc", "bcc", "subject", "date", "message-id", "received", "return-path",
        "sender", "reply-to", "mime-version", "content-type", "in-reply-to", "references",
        "delivered-to", "x-unsent", "resent-from", "resent-to", "importance",
    }
)  # fmt: skip
_MAIL_PREFIXES = ("x-", "content-", "list-", "resent-", "dkim-", "arc-", "authentication-")
_CID_REF = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)
_URL_REF = re.compile(r"""\b(?:src|background|href)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_SMIME_SIGNATURES = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature"})
_SMIME_OPAQUE = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
_RTF_TYPES = frozenset({"text/rtf", "application/rtf", "text/richtext"})
#: Extensions for attachments that have no name ("ATT00001.txt", as Outlook names them).
_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".htm",
    "text/calendar": ".ics",
    "text/rfc822-headers": ".txt",
    "message/rfc822": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "application/pgp-signature": ".asc",
    "application/pgp-encrypted": ".asc",
    "application/pkcs7-signature": ".p7s",
    "application/octet-stream": ".dat",
}
#: Properties TNEF may not override: the MIME envelope says them for the received message
#: ([MS-OXCMAIL] 2.4.3: the Date header wins over attDateSent, and so on).
_ENVELOPE = frozenset(
    {
        ids.CLIENT_SUBMIT_TIME, ids.MESSAGE_DELIVERY_TIME, ids.TRANSPORT_MESSAGE_HEADERS,
        ids.INTERNET_MESSAGE_ID, ids.MESSAGE_FLAGS, ids.DISPLAY_TO, ids.DISPLAY_CC, ids.DISPLAY_BCC,
        ids.SENDER_NAME, ids.SENDER_EMAIL_ADDRESS, ids.SENDER_ADDRESS_TYPE, ids.SENDER_ENTRY_ID,
        ids.SENDER_SEARCH_KEY, ids.SENDER_SMTP_ADDRESS, ids.SENT_REPRESENTING_NAME,
        ids.SENT_REPRESENTING_EMAIL_ADDRESS, ids.SENT_REPRESENTING_ADDRESS_TYPE,
        ids.SENT_REPRESENTING_ENTRY_ID, ids.SENT_REPRESENTING_SEARCH_KEY,
        ids.SENT_REPRESENTING_SMTP_ADDRESS, ids.SUBJECT, ids.SUBJECT_PREFIX, ids.NORMALIZED_SUBJECT,
        ids.STORE_SUPPORT_MASK, ids.HAS_ATTACHMENTS, ids.MESSAGE_SIZE, ids.SEARCH_KEY,
        ids.INTERNET_REFERENCES, ids.IN_REPLY_TO_ID, ids.REPLY_RECIPIENT_ENTRIES,
        ids.REPLY_RECIPIENT_NAMES, ids.CREATION_TIME, ids.LAST_MODIFICATION_TIME,
    }
)  # fmt: skip
_BODY_PROPS = (ids.BODY, ids.HTML, ids.RTF_COMPRESSED, ids.RTF_IN_SYNC, ids.NATIVE_BODY)


def eml_to_message(data: bytes, *, label: str = "message") -> tuple[Message, list[str]]:
    """The message a MIME mail message holds, and warnings about what was damaged or guessed.

    ``label`` names the input in the error raised for bytes that are not mail at all.
    """
    refuse_non_mail(data, label)
    data = data.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n")
    reader = _Reader()
    parsed = _parse(data)
    if _lost_boundaries(parsed):
        repaired = _UNQUOTED_BOUNDARY.sub(rb'\1"\2"', data)
        reparsed = _parse(repaired)
        if repaired != data and _lost_boundaries(reparsed) < _lost_boundaries(parsed):
            reader.warn("", "a multipart boundary with '=' in it was not quoted; read as if it were")
            data, parsed = repaired, reparsed
    msg = reader.message(parsed, data, depth=0, where="")
    return msg, reader.warnings


def _parse(data: bytes) -> EmailMessage:
    parsed = BytesParser(policy=POLICY).parsebytes(data)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _lost_boundaries(entity: EmailMessage) -> int:
    """Multiparts whose boundary ``email`` never found (their content is left unsplit)."""
    return sum(
        1
        for part in _walk_parts(entity)
        if _ctype(part).partition("/")[0] == "multipart" and not part.is_multipart()
    )


def refuse_non_mail(data: bytes, label: str) -> None:
    """Raise CorruptFile for bytes that are not a mail message at all (one line, located at ``label``)."""
    try:
        _refuse(data)
    except CorruptFile as exc:
        raise exc.at(label) from None


def _refuse(data: bytes) -> None:
    hint = "give an RFC 5322 / MIME message (.eml)"
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data.strip():
        raise CorruptFile("is empty, not a mail message", hint=hint)
    if data.startswith(_CFB_SIGNATURE):
        raise CorruptFile(
            "is a compound file (an Outlook .msg?), not MIME mail",
            hint="convert .msg files to .eml with msgsess export",
        )
    start = data.lstrip(b"\r\n")
    m = _FROM_LINE.match(start)
    if m is not None:
        start = start[m.end() :]
    head = rawmime.split_head(start)[0]
    if not _FIELD.match(head):
        raise CorruptFile("does not start with a header field, so it is not a mail message", hint=hint)
    for line in head.splitlines():
        field = _FIELD.match(line)
        if field is None:
            continue
        name = field.group(0)[:-1].strip().decode("ascii").lower()
        if name in _MAIL_FIELDS or name.startswith(_MAIL_PREFIXES):
            return
    raise CorruptFile("has no mail header field (From, To, Subject, Date…)", hint=hint)


class _Reader:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, where: str, text: str) -> None:
        line = f"{where}: {text}" if where else text
        if line not in self.warnings:
            self.warnings.append(line)

    # --- a message ----------------------------------------------------------------------

    def message(self, entity: EmailMessage, raw: bytes | None, depth: int, where: str) -> Message:
        msg = Message()
        self.defects(entity, where)
        self.envelope(msg, entity, raw, where)
        ctype = _ctype(entity)
        if ctype == "multipart/signed" and _param(entity, "protocol") in _SMIME_SIGNATURES:
            self.signed(msg, entity, raw, where)
        elif ctype in _SMIME_OPAQUE or (
            ctype == "application/octet-stream" and (_filename(entity) or "").lower().endswith(".p7m")
        ):
            self.opaque(msg, entity)
        else:
            self.content(msg, entity, raw, depth, where)
        if len(msg.attachments) > MAX_OBJECTS:
            self.warn(
                where,
                f"{len(msg.attachments)} attachments; a .msg holds {MAX_OBJECTS}, the rest are left out",
            )
            del msg.attachments[MAX_OBJECTS:]
        refresh_derived(msg)
        return msg

    def defects(self, entity: EmailMessage, where: str) -> None:
        for index, part in enumerate(_walk_parts(entity)):
            for defect in part.defects:
                doc = (type(defect).__doc__ or type(defect).__name__).strip().splitlines()[0].rstrip(".")
                place = where if index == 0 else f"{where} part {index}".strip()
                self.warn(place, f"{doc[0].lower()}{doc[1:]}")

    def envelope(self, msg: Message, entity: EmailMessage, raw: bytes | None, where: str) -> None:
        p = msg.props
        p.set(ids.MESSAGE_CLASS, t.PT_UNICODE, "IPM.Note")
        draft = hdr.is_draft(entity)
        sent = hdr.date(entity)
        if sent is None and hdr.raw(entity, "Date") is not None:
            self.warn(where, f"Date: {hdr.raw(entity, 'Date')!r} is no date; the message has no sent time")
        delivered = hdr.received_time(entity) or sent
        stamp = _filetime(delivered) if delivered is not None else None
        p.set(ids.MESSAGE_FLAGS, t.PT_LONG, ids.MSGFLAG_UNSENT if draft else ids.MSGFLAG_READ)
        if not draft:
            if sent is not None:
                p.set(ids.CLIENT_SUBMIT_TIME, t.PT_SYSTIME, _filetime(sent))
            if delivered is not None:
                p.set(ids.MESSAGE_DELIVERY_TIME, t.PT_SYSTIME, _filetime(delivered))
        if stamp is not None:
            changed = _filetime(sent) if draft and sent is not None else stamp
            p.set(ids.CREATION_TIME, t.PT_SYSTIME, changed, ids.PROPATTR_READABLE)
            p.set(ids.LAST_MODIFICATION_TIME, t.PT_SYSTIME, changed, ids.PROPATTR_READABLE)
        p.set(ids.IMPORTANCE, t.PT_LONG, _first(hdr.importance(entity), 1))
        p.set(ids.PRIORITY, t.PT_LONG, _first(hdr.priority(entity), 0))
        p.set(ids.SENSITIVITY, t.PT_LONG, _first(hdr.sensitivity(entity), 0))
        p.set(ids.ALTERNATE_RECIPIENT_ALLOWED, t.PT_BOOLEAN, True)
        p.set(
            ids.READ_RECEIPT_REQUESTED,
            t.PT_BOOLEAN,
            hdr.raw(entity, "Disposition-Notification-To") is not None,
        )
        p.set(
            ids.ORIGINATOR_DELIVERY_REPORT_REQUESTED,
            t.PT_BOOLEAN,
            hdr.raw(entity, "Return-Receipt-To") is not None,
        )
        p.set(ids.DELETE_AFTER_SUBMIT, t.PT_BOOLEAN, False)
        subject = hdr.text(entity, "Subject")
        if subject:
            set_subject(msg, subject)
        topic = hdr.text(entity, "Thread-Topic")
        if topic:
            p.set(ids.CONVERSATION_TOPIC, t.PT_UNICODE, topic)
        self.people(msg, entity, where)
        for pid, value in (
            (ids.INTERNET_MESSAGE_ID, hdr.message_id(entity, "Message-ID")),
            (ids.IN_REPLY_TO_ID, hdr.message_id(entity, "In-Reply-To")),
            (ids.INTERNET_REFERENCES, hdr.message_ids(entity, "References")),
        ):
            if value:
                p.set(pid, t.PT_UNICODE, value)
        categories = hdr.keywords(entity)
        if categories:
            p.set(mp.KEYWORDS, t.PT_MV_UNICODE, categories)
        block = _header_block(entity)
        if block.strip():
            p.set(ids.TRANSPORT_MESSAGE_HEADERS, t.PT_UNICODE, block)
        self.named_headers(msg, entity)
        digest = hashlib.sha256(raw if raw is not None else block.encode("utf-8", "surrogatepass")).digest()
        p.set(ids.SEARCH_KEY, t.PT_BINARY, digest[:16])
        p.set(
            ids.CONVERSATION_INDEX,
            t.PT_BINARY,
            _thread_index(entity) or conversation_index(stamp or t.FileTime(0), digest[16:32]),
        )
        p.set(ids.INTERNET_CODEPAGE, t.PT_LONG, 65001)

    def people(self, msg: Message, entity: EmailMessage, where: str) -> None:
        p = msg.props
        found: dict[str, list[tuple[str, str]]] = {}
        for field in ("From", "Sender", "To", "Cc", "Bcc", "Reply-To"):
            found[field], problems = hdr.addresses(entity, field)
            for problem in problems:
                self.warn(where, problem)
        froms, senders = found["From"], found["Sender"]
        if len(froms) > 1:
            self.warn(
                where, f"From: {len(froms)} addresses; the first is the sender (all stay in the headers)"
            )
        principal = froms[0] if froms else senders[0] if senders else None
        agent = senders[0] if senders else principal
        if principal is not None:
            set_address_group(p, "from", *principal)
        if agent is not None:
            set_address_group(p, "sender", *agent)
        for field, kind in (("To", ids.MAPI_TO), ("Cc", ids.MAPI_CC), ("Bcc", ids.MAPI_BCC)):
            for name, addr in found[field]:
                msg.recipients.append(new_recipient(kind, name, addr))
        if len(msg.recipients) > MAX_OBJECTS:
            self.warn(
                where,
                f"{len(msg.recipients)} recipients; a .msg holds {MAX_OBJECTS}, the rest stay in the headers",
            )
            del msg.recipients[MAX_OBJECTS:]
        reply = found["Reply-To"]
        if reply:
            p.set(ids.REPLY_RECIPIENT_NAMES, t.PT_UNICODE, "; ".join(name for name, _ in reply))
            p.set(
                ids.REPLY_RECIPIENT_ENTRIES,
                t.PT_BINARY,
                flat_entry_list([one_off_entry_id(name, "SMTP", addr) for name, addr in reply]),
            )

    def named_headers(self, msg: Message, entity: EmailMessage) -> None:
        """X- fields as PS_INTERNET_HEADERS properties, as Outlook keeps them ([MS-OXCMAIL] 2.2.3.2.20)."""
        seen: set[str] = set()
        for name, _value in entity.raw_items():
            low = name.strip().lower()
            if not low.startswith("x-") or low in seen or len(seen) >= MAX_NAMED_HEADERS:
                continue
            if not re.fullmatch(r"[!-9;-~]+", low):
                continue
            seen.add(low)
            text = hdr.text(entity, name)
            if text:
                msg.props.set(mp.internet_header(low), t.PT_UNICODE, text)

    # --- the content ----------------------------------------------------------------------

    def content(self, msg: Message, entity: EmailMessage, raw: bytes | None, depth: int, where: str) -> None:
        text_part, html_part, _related = _find_bodies(entity)
        # RTF is the body when there is no HTML (alone, or beside a text alternative).
        rtf_part = _find_rtf(entity) if html_part is None else None
        if text_part is None and html_part is None and rtf_part is None:
            # A multipart whose parts could not be split: its text is the body rather than lost.
            broken = next(
                (p for _path, p in _leaves(entity) if _ctype(p).partition("/")[0] == "multipart"), None
            )
            if broken is not None:
                self.warn(
                    where, "a multipart's parts could not be found; its content is kept as the text body"
                )
                text_part = broken
        text = html = None
        html_bytes: bytes | None = None
        cpid = 65001
        uu_files: list[Attachment] = []
        if text_part is not None:
            text, uu_files = self.text_body(text_part, where)
        if html_part is not None:
            payload = _payload(html_part)
            decoded = decode_bytes(payload, _param(html_part, "charset") or None)
            if decoded.problem:
                self.warn(where, f"HTML body: {decoded.problem}")
            html = clean_text(decoded.text)
            known = codepage_of(decoded.charset)
            if decoded.problem is None and known is not None and html == decoded.text:
                html_bytes, cpid = payload, known
            else:
                html_bytes = html.encode("utf-8")
        rtf = _payload(rtf_part) if rtf_part is not None else None
        set_bodies(msg, text, html, html_bytes, cpid, rtf)
        shown = _references(html) if html is not None else set()
        bodies = {id(p) for p in (text_part, html_part, rtf_part) if p is not None}
        for path, part in _leaves(entity):
            if id(part) not in bodies:
                self.leaf(msg, part, path, entity, raw, depth, where, shown)
        msg.attachments.extend(uu_files)
        _finish_names(msg.attachments)

    def text_body(self, part: EmailMessage, where: str) -> tuple[str, list[Attachment]]:
        payload = _payload(part)
        payload, files = split_uuencoded(payload)
        decoded = decode_bytes(payload, _param(part, "charset") or None)
        if decoded.problem:
            self.warn(where, f"text body: {decoded.problem}")
        text = decoded.text
        if _param(part, "format") == "flowed":
            text = unflow(text, delsp=_param(part, "delsp") == "yes")
        atts = []
        for file in files:
            att = Attachment()
            _base_props(att)
            set_file_props(att, file.name, file.data, _guess(file.name), set())
            atts.append(att)
        return clean_text(crlf(text)), atts

    def leaf(
        self,
        msg: Message,
        part: EmailMessage,
        path: list[int],
        root: EmailMessage,
        raw: bytes | None,
        depth: int,
        where: str,
        shown: set[str],
    ) -> None:
        ctype = _ctype(part)
        place = f"{where} part {'.'.join(str(i + 1) for i in path)}".strip()
        is_tnef = ctype in _TNEF_TYPES or (_filename(part) or "").lower() == "winmail.dat"
        if is_tnef and self.tnef(msg, part, place, depth):
            return
        if ctype in ("message/rfc822", "message/global") and isinstance(part.get_payload(), list):
            inner_raw = _inner_raw(raw, root, path, part)
            if depth + 1 <= MAX_DEPTH:
                inner = part.get_payload(0)
                if isinstance(inner, EmailMessage):
                    embedded = self.message(inner, inner_raw, depth + 1, f"{place} (embedded message)")
                    msg.attachments.append(_embedded(part, embedded))
                    return
            self.warn(
                place, f"embedded messages nest deeper than {MAX_DEPTH}; this one is kept as an .eml file"
            )
            if inner_raw is None:
                inner_raw = _leaf_bytes(part, path, root, None)
            msg.attachments.append(self.file(part, inner_raw, shown))
            return
        data = _leaf_bytes(part, path, root, raw)
        msg.attachments.append(self.file(part, data, shown))

    def file(self, part: EmailMessage, data: bytes, shown: set[str]) -> Attachment:
        att = Attachment()
        _base_props(att)
        ctype = _ctype(part)
        name = _file_name(part)
        set_file_props(att, name, data, ctype, set())
        ap = att.props
        if not name:
            for pid in (ids.ATTACH_LONG_FILENAME, ids.ATTACH_FILENAME, ids.DISPLAY_NAME):
                ap.pop(pid, None)
        cid = (part.get("Content-ID") or "").strip()
        cid = clean_text(fix_header_text(cid)).strip().strip("<>").strip()
        if cid:
            ap.set(ids.ATTACH_CONTENT_ID, t.PT_UNICODE, cid)
        location = hdr.text(part, "Content-Location")
        if location:
            ap.set(ids.ATTACH_CONTENT_LOCATION, t.PT_UNICODE, location)
        where_shown = location.lower().rstrip("/").rsplit("/", 1)[-1] if location else ""
        if (cid and cid.lower() in shown) or (
            location and (location.lower() in shown or where_shown in shown)
        ):
            ap.set(ids.ATTACHMENT_HIDDEN, t.PT_BOOLEAN, True)
            ap.set(ids.ATTACH_FLAGS, t.PT_LONG, 0x4)  # attRenderedInBody ([MS-OXCMSG] 2.2.2.18)
        else:
            ap.set(ids.ATTACHMENT_HIDDEN, t.PT_BOOLEAN, False)
        for param, pid in (
            ("creation-date", ids.CREATION_TIME),
            ("modification-date", ids.LAST_MODIFICATION_TIME),
        ):
            value = _disposition(part)[1].get(param)
            when = hdr.parse_date(value) if value else None
            if when is not None:
                ap.set(pid, t.PT_SYSTIME, _filetime(when))
        if set(_params(part)) - {"name"}:
            value = hdr.raw(part, "Content-Type")
            if value:
                ap.set(mp.CONTENT_TYPE, t.PT_UNICODE, clean_text(fix_header_text(value)))
        return att

    def tnef(self, msg: Message, part: EmailMessage, where: str, depth: int) -> bool:
        """Merge a winmail.dat into the message; False (kept as a file) when it cannot be read."""
        try:
            inner, warnings = read_tnef(_payload(part), depth=depth)
        except TnefError as exc:
            self.warn(where, f"winmail.dat could not be read ({exc}); kept as an attachment")
            return False
        for warning in warnings:
            self.warn(where, warning)
        p = msg.props
        rich = {pid for pid in (ids.HTML, ids.RTF_COMPRESSED) if pid in inner.props}
        if rich:
            for pid in _BODY_PROPS:
                if pid != ids.BODY or ids.BODY in inner.props:
                    p.pop(pid, None)
        for key, prop in inner.props.items():
            if key not in _ENVELOPE and not (key == ids.BODY and not rich and ids.BODY in p):
                p[key] = prop
        if not msg.recipients:
            msg.recipients.extend(inner.recipients)
        for att in inner.attachments:
            _base_props(att, keep=True)
        msg.attachments.extend(inner.attachments)
        return True

    # --- S/MIME ([MS-OXOSMIME] 2.1.3) -------------------------------------------------------

    def signed(self, msg: Message, entity: EmailMessage, raw: bytes | None, where: str) -> None:
        """Clear-signed: class …MultipartSigned, body from the signed part, the entity as smime.p7m."""
        msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, mp.MESSAGE_CLASS_SIGNED)
        parts = entity.get_payload()
        if isinstance(parts, list) and parts and isinstance(parts[0], EmailMessage):
            text_part, html_part, _related = _find_bodies(parts[0])
            text = self.text_body(text_part, where)[0] if text_part is not None else None
            html = None
            if html_part is not None:
                html = clean_text(
                    decode_bytes(_payload(html_part), _param(html_part, "charset") or None).text
                )
            set_bodies(msg, text, html, html.encode("utf-8") if html is not None else None, 65001, None)
        if raw is not None:
            head, body = rawmime.split_head(_strip_from_line(raw))
            newline = b"\r\n" if b"\r\n" in head else b"\n"
            fields = [f for f in re.split(rb"\r?\n(?![ \t])", head) if f.lower().startswith(b"content-")]
            data = newline.join(fields) + newline + newline + body
        else:
            self.warn(where, "the signed part was rebuilt, not copied: its signature may no longer verify")
            data = entity.as_bytes(policy=POLICY.clone(linesep="\r\n"))
            data = data[data.find(b"Content-Type") :] if b"Content-Type" in data else data
        msg.attachments.append(_smime_attachment(data, "multipart/signed"))

    def opaque(self, msg: Message, entity: EmailMessage) -> None:
        """Opaque-signed or encrypted: class IPM.Note.SMIME, no body, the CMS blob as smime.p7m."""
        msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, mp.MESSAGE_CLASS_SMIME)
        att = _smime_attachment(_payload(entity), "application/pkcs7-mime")
        value = hdr.raw(entity, "Content-Type")
        if value:
            att.props.set(mp.CONTENT_TYPE, t.PT_UNICODE, clean_text(fix_header_text(value)))
        msg.attachments.append(att)


# --- bodies ---------------------------------------------------------------------------------


def set_bodies(
    msg: Message, text: str | None, html: str | None, html_bytes: bytes | None, cpid: int, rtf: bytes | None
) -> None:
    """PR_BODY, PR_HTML and the compressed RTF as Outlook keeps a received message's bodies.

    HTML is also encapsulated in RTF ([MS-OXRTFEX]); an RTF body that encapsulates HTML
    gives its HTML back; the plain text is derived when the mail has none.
    """
    from msgsess.oxmsg import html as html_body
    from msgsess.oxmsg import rtf as rtf_body

    p = msg.props
    for pid in _BODY_PROPS:
        p.pop(pid, None)
    if html is not None and not html.strip():
        html = None  # an empty body is no body
    if html is not None and html_bytes is not None:
        p.set(ids.INTERNET_CODEPAGE, t.PT_LONG, cpid)
        p.set(ids.HTML, t.PT_BINARY, html_bytes)
        p.set(ids.RTF_COMPRESSED, t.PT_BINARY, rtf_body.compress(rtf_body.html_to_rtf(html)))
        p.set(ids.NATIVE_BODY, t.PT_LONG, 3)
        p.set(ids.RTF_IN_SYNC, t.PT_BOOLEAN, True)
        text = text if text is not None else html_body.html_to_text(html)
    elif rtf is not None:
        p.set(ids.RTF_COMPRESSED, t.PT_BINARY, rtf_body.compress(rtf))
        p.set(ids.RTF_IN_SYNC, t.PT_BOOLEAN, True)
        from_html = rtf_body.html_from_rtf(rtf)
        if from_html is not None:
            p.set(ids.HTML, t.PT_BINARY, from_html.encode("utf-8"))
            p.set(ids.INTERNET_CODEPAGE, t.PT_LONG, 65001)
        p.set(ids.NATIVE_BODY, t.PT_LONG, 3 if from_html is not None else 2)
        text = text if text is not None else rtf_body.rtf_to_text(rtf)
    elif text:
        p.set(ids.NATIVE_BODY, t.PT_LONG, 1)
    if text:
        p.set(ids.BODY, t.PT_UNICODE, clean_text(text))


def _find_bodies(
    entity: EmailMessage,
) -> tuple[EmailMessage | None, EmailMessage | None, EmailMessage | None]:
    """(text part, HTML part, the multipart/related whose root the HTML is): ``get_body``'s rules.

    ``email`` looks for a body through multipart/alternative and /mixed, into the root of a
    multipart/related; a part with a file name is an attachment here, even when inline.
    """
    text = next((p for p, _r in _body_walk(entity, None) if _ctype(p) == "text/plain"), None)
    html, related = next(
        ((p, r) for p, r in _body_walk(entity, None) if _ctype(p) == "text/html"), (None, None)
    )
    return text, html, related


def _is_body_candidate(part: EmailMessage) -> bool:
    """Not an attachment: no ``Content-Disposition: attachment`` and no file name."""
    return _disposition(part)[0] != "attachment" and _filename(part) is None


def _content_type(part: EmailMessage) -> tuple[str, dict[str, str]]:
    """Content type and parameters (RFC 2231 decoded), parsed once.

    ``email`` parses a header again on every access, and asks for the content type many
    times; this follows its ``get_content_type`` rules on one parse.
    """
    cached: tuple[str, dict[str, str]] | None = getattr(part, "_msgsess_ctype", None)
    if cached is None:
        header = part.get("Content-Type")
        if header is None:
            ctype, params = part.get_default_type(), {}
        else:
            ctype = str(header).split(";", 1)[0].strip().lower()
            if ctype.count("/") != 1:
                ctype = "text/plain"
            found = getattr(header, "params", None) or {}
            params = {str(k).lower(): str(v) for k, v in found.items()}
        cached = (ctype, params)
        part._msgsess_ctype = cached  # type: ignore[attr-defined]
    return cached


def _ctype(part: EmailMessage) -> str:
    return _content_type(part)[0]


def _params(part: EmailMessage) -> dict[str, str]:
    return _content_type(part)[1]


def _disposition(part: EmailMessage) -> tuple[str, dict[str, str]]:
    """Content-Disposition (lower case, '' when absent) and its parameters, parsed once."""
    cached: tuple[str, dict[str, str]] | None = getattr(part, "_msgsess_disposition", None)
    if cached is None:
        header = part.get("Content-Disposition")
        if header is None:
            cached = ("", {})
        else:
            found = getattr(header, "params", None) or {}
            kind = str(getattr(header, "content_disposition", "") or "").lower()
            cached = (kind, {str(k).lower(): str(v) for k, v in found.items()})
        part._msgsess_disposition = cached  # type: ignore[attr-defined]
    return cached


def _filename(part: EmailMessage) -> str | None:
    """``get_filename()`` on the parsed-once headers: Content-Disposition's filename, else the type's name."""
    name = _disposition(part)[1].get("filename")
    if name is None:
        name = _params(part).get("name")
    return None if name is None else name.strip()


def _body_walk(
    part: EmailMessage, related: EmailMessage | None
) -> Iterator[tuple[EmailMessage, EmailMessage | None]]:
    """Parts that may be a body, in ``email``'s order, with the multipart/related they are the root of."""
    if not _is_body_candidate(part):
        return
    maintype, subtype = _ctype(part).partition("/")[0], _ctype(part).partition("/")[2]
    if maintype == "text":
        yield part, related
        return
    if maintype != "multipart" or not isinstance(part.get_payload(), list):
        return
    children = [c for c in part.get_payload() if isinstance(c, EmailMessage)]
    if subtype != "related":
        for child in children:
            yield from _body_walk(child, related)
        return
    start = _params(part).get("start")
    root = next((c for c in children if start and c.get("Content-ID") == start), None)
    if root is None and children:
        root = children[0]
    if root is not None:
        yield from _body_walk(root, part)


def _find_rtf(entity: EmailMessage) -> EmailMessage | None:
    for candidate, _related in _body_walk(entity, None):
        if _ctype(candidate) in _RTF_TYPES:
            return candidate
    for path_part in _walk_parts(entity):
        if _ctype(path_part) in _RTF_TYPES and _is_body_candidate(path_part):
            return path_part
    return None


def _references(html: str) -> set[str]:
    """What the HTML shows: cid: references, and the URLs and file names of its src/href, lower-cased."""
    found = {m.group(1).strip().lower() for m in _CID_REF.finditer(html)}
    for m in _URL_REF.finditer(html):
        url = m.group(1).strip().lower()
        found.add(url)
        found.add(url.rstrip("/").rsplit("/", 1)[-1])
    return found


# --- walking parts ------------------------------------------------------------------------


def _walk_parts(entity: EmailMessage) -> Iterator[EmailMessage]:
    """Every part of this message (not into embedded messages), the message itself first."""
    yield entity
    if _ctype(entity).partition("/")[0] == "multipart" and isinstance(entity.get_payload(), list):
        for child in entity.get_payload():
            if isinstance(child, EmailMessage):
                yield from _walk_parts(child)


def _leaves(entity: EmailMessage, path: list[int] | None = None) -> Iterator[tuple[list[int], EmailMessage]]:
    """(child index path, part) of every part that is not a multipart, in document order."""
    path = path or []
    payload = entity.get_payload()
    if _ctype(entity).partition("/")[0] == "multipart" and isinstance(payload, list):
        for index, child in enumerate(payload):
            if isinstance(child, EmailMessage):
                yield from _leaves(child, [*path, index])
        return
    if _ctype(entity).partition("/")[0] == "multipart" and not str(payload or "").strip():
        return  # a multipart with nothing in it
    yield path, entity


def _payload(part: EmailMessage) -> bytes:
    """A leaf's content, transfer encoding undone (base64, quoted-printable, uuencode)."""
    try:
        data = part.get_payload(decode=True)
    except (ValueError, binascii.Error, TypeError):
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("ascii", "surrogateescape")
    return b""


def _leaf_bytes(part: EmailMessage, path: list[int], root: EmailMessage, raw: bytes | None) -> bytes:
    """A leaf's bytes; a message/* part that ``email`` parsed into headers (delivery-status) whole."""
    if not isinstance(part.get_payload(), list):
        return _payload(part)
    found = rawmime.entity_at(_strip_from_line(raw), root, path) if raw is not None else None
    if found is not None:
        return _undo_transfer_encoding(part, rawmime.split_head(found)[1])
    return b"".join(p.as_bytes(policy=POLICY) for p in part.get_payload() if isinstance(p, EmailMessage))


def _inner_raw(raw: bytes | None, root: EmailMessage, path: list[int], part: EmailMessage) -> bytes | None:
    """The source bytes of the message inside a message/rfc822 part, when they can be found."""
    if raw is None:
        return None
    found = rawmime.entity_at(_strip_from_line(raw), root, path)
    if found is None:
        return None
    return _undo_transfer_encoding(part, rawmime.split_head(found)[1])


def _undo_transfer_encoding(part: EmailMessage, body: bytes) -> bytes:
    cte = (hdr.raw(part, "Content-Transfer-Encoding") or "").strip().lower()
    try:
        if cte == "base64":
            return base64.b64decode(body)
        if cte == "quoted-printable":
            return binascii.a2b_qp(body)
    except (binascii.Error, ValueError):
        pass
    return body


def _strip_from_line(raw: bytes) -> bytes:
    m = _FROM_LINE.match(raw)
    return raw[m.end() :] if m is not None else raw


# --- attachments --------------------------------------------------------------------------


def _base_props(att: Attachment, *, keep: bool = False) -> None:
    set_ = att.props.setdefault_value if keep else att.props.set
    set_(ids.OBJECT_TYPE, t.PT_LONG, ids.MAPI_ATTACH)
    set_(ids.RENDERING_POSITION, t.PT_LONG, -1, ids.DEFAULT_FLAGS | ids.PROPATTR_MANDATORY)


def _file_name(part: EmailMessage) -> str:
    """Content-Disposition filename (RFC 2231/2047), else Content-Type name, else Content-Location's."""
    try:
        name = _filename(part) or ""
    except (ValueError, LookupError):
        name = ""
    if not isinstance(name, str):
        name = str(name)
    name = clean_text(fix_header_text(name)).strip()
    if not name:
        location = (hdr.raw(part, "Content-Location") or "").strip()
        name = location.rstrip("/").rsplit("/", 1)[-1].split("?")[0] if location else ""
    return name.replace("\r", "").replace("\n", "").replace("\\", "/").rsplit("/", 1)[-1].strip()


def _finish_names(attachments: list[Attachment]) -> None:
    """Unique 8.3 names, and Outlook's kind of name for attachments that have none: ATT00001.txt…"""
    from msgsess.composer.attachments import short_name

    taken: set[str] = set()
    count = 0
    for att in attachments:
        if att.embedded is not None:
            continue
        ap = att.props
        long_name = (
            ap.value(ids.ATTACH_LONG_FILENAME) or ap.value(ids.DISPLAY_NAME) or ap.value(ids.ATTACH_FILENAME)
        )
        if not long_name:
            count += 1
            mime = str(ap.value(ids.ATTACH_MIME_TAG, "application/octet-stream"))
            long_name = f"ATT{count:05d}{_extension(mime)}"
            data = ap.value(ids.ATTACH_DATA, b"")
            set_file_props(att, long_name, data if isinstance(data, bytes) else b"", mime, set())
        if ap.value(ids.ATTACH_LONG_FILENAME) or not ap.value(ids.ATTACH_FILENAME):
            ap.set(ids.ATTACH_FILENAME, t.PT_UNICODE, short_name(str(long_name), taken))
        else:
            taken.add(str(ap.value(ids.ATTACH_FILENAME)).upper())


def _extension(mime: str) -> str:
    return _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime, strict=False) or ".dat"


def _guess(name: str) -> str:
    from msgsess.composer.attachments import guess_mime

    return guess_mime(name)


def _embedded(part: EmailMessage, inner: Message) -> Attachment:
    att = Attachment(embedded=inner)
    _base_props(att)
    ap = att.props
    ap.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG, ids.DEFAULT_FLAGS | 1)
    name = _file_name(part) or str(inner.props.value(ids.SUBJECT, "")) or "Untitled"
    ap.set(ids.DISPLAY_NAME, t.PT_UNICODE, name)
    ap.set(ids.ATTACH_MIME_TAG, t.PT_UNICODE, "message/rfc822")
    ap.set(ids.ATTACHMENT_HIDDEN, t.PT_BOOLEAN, False)
    return att


def _smime_attachment(data: bytes, mime: str) -> Attachment:
    att = Attachment()
    _base_props(att)
    set_file_props(att, mp.SMIME_NAME, data, mime, set())
    att.props.set(ids.ATTACHMENT_HIDDEN, t.PT_BOOLEAN, False)
    return att


# --- small helpers --------------------------------------------------------------------------


def _filetime(when: _dt.datetime) -> t.FileTime:
    return t.FileTime.from_datetime(when)


def _param(part: EmailMessage, name: str) -> str:
    """A Content-Type parameter as lower-case text ('' when absent)."""
    return _params(part).get(name, "").strip().lower()


def _first(value: int | None, default: int) -> int:
    return default if value is None else value


def _thread_index(entity: EmailMessage) -> bytes | None:
    value = hdr.raw(entity, "Thread-Index")
    if not value:
        return None
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if len(data) >= 22 else None


def _header_block(entity: EmailMessage) -> str:
    """The header fields as received, CRLF line ends, ending in an empty line (as Outlook keeps them)."""
    lines = []
    for name, value in entity.raw_items():
        text = fix_header_text(str(value)).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
        lines.append(f"{name}: {text}\r\n")
    return clean_text("".join(lines) + "\r\n") if lines else ""
