"""Attachments: files and bytes by value, embedded messages, inline images ([MS-OXCMSG] 2.2.2)."""

from __future__ import annotations

import binascii
import functools
import re
from collections.abc import Mapping

from msgsess.composer.context import Context
from msgsess.errors import InvalidParameter
from msgsess.model import Attachment, Message
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.storage import StreamSource, stream_size

TYPE_CHECKING = False
if TYPE_CHECKING:
    import mimetypes
    from typing import Any

#: Types Python's table lacks or gives otherwise.
_EXTRA_TYPES = {
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
}
_COMPRESSED = {
    "gzip": "application/gzip",
    "bzip2": "application/x-bzip2",
    "xz": "application/x-xz",
    "compress": "application/x-compress",
    "br": "application/x-brotli",
}


@functools.cache
def _mime_types() -> mimetypes.MimeTypes:
    """Python's built-in table only (not the host's /etc/mime.types): the same name gives the
    same type on every machine, as reproducible builds need. Made on first use (``add`` only
    checks a spec and never needs it)."""
    import mimetypes

    table = mimetypes.MimeTypes(filenames=())
    for ext, mime in _EXTRA_TYPES.items():
        table.add_type(mime, ext)
    return table


def guess_mime(name: str) -> str:
    """The MIME type of a file name; a compressed file (``.tar.gz``) is its compression's type."""
    mime, encoding = _mime_types().guess_type(name, strict=False)
    if encoding is not None:
        return _COMPRESSED.get(encoding, "application/octet-stream")
    return mime or "application/octet-stream"


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


def set_file_props(
    att: Attachment, name: str, data: bytes | StreamSource, mime: str, taken: set[str]
) -> None:
    """Make ``att`` a by-value attachment holding ``data`` under ``name`` (8.3 name unique in ``taken``).

    ``data`` may be a :class:`~msgsess.storage.StreamSource` (a session blob ``close`` copies in
    chunks): the encoder passes it through to the compound-file writer unread.
    """
    ap = att.props
    ap.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE, ids.DEFAULT_FLAGS | 1)
    ap.set(ids.ATTACH_DATA, t.PT_BINARY, data)
    ap.set(ids.ATTACH_SIZE, t.PT_LONG, stream_size(data))
    ap.set(ids.ATTACH_LONG_FILENAME, t.PT_UNICODE, name)
    ap.set(ids.ATTACH_FILENAME, t.PT_UNICODE, short_name(name, taken))
    ap.set(ids.DISPLAY_NAME, t.PT_UNICODE, name)
    ext = name.rpartition(".")[2] if "." in name else ""
    if ext:
        ap.set(ids.ATTACH_EXTENSION, t.PT_UNICODE, "." + ext)
    ap.set(ids.ATTACH_MIME_TAG, t.PT_UNICODE, mime)


def apply(ctx: Context, msg: Message) -> None:
    """Put the spec's attachments on the message."""
    specs = ctx.spec.get("attachments")
    if specs is None:
        return
    if not isinstance(specs, list):
        raise ctx.fail("attachments", "expected a list")
    taken = {str(a.props.value(ids.ATTACH_FILENAME, "")).upper() for a in msg.attachments}
    for index, att_spec in enumerate(specs):
        if index < ctx.from_index.get("attachments", 0):
            continue  # checked when it was added
        if not isinstance(att_spec, dict):
            raise ctx.fail(f"attachments[{index}]", "expected an object")
        msg.attachments.append(attachment(ctx, att_spec, f"attachments[{index}]", taken))


def attachment(ctx: Context, spec: Mapping[str, Any], field: str, taken: set[str]) -> Attachment:
    att = Attachment()
    ap = att.props
    sources = [k for k in ("file", "data", "blob", "message", "msg", "msg_blob") if spec.get(k) is not None]
    if len(sources) != 1:
        raise ctx.fail(field, "give exactly one of file, data, message or msg")
    source = sources[0]
    ap.set(ids.OBJECT_TYPE, t.PT_LONG, ids.MAPI_ATTACH)
    ap.set(ids.RENDERING_POSITION, t.PT_LONG, -1, ids.DEFAULT_FLAGS | ids.PROPATTR_MANDATORY)
    if ctx.unicode:
        ap.set(ids.STORE_SUPPORT_MASK, t.PT_LONG, 0x00040E79, ids.PROPATTR_READABLE)
    name = spec.get("name")
    if name is not None and not isinstance(name, str):
        raise ctx.fail(f"{field}.name", "expected text")
    if source in ("message", "msg", "msg_blob"):
        if ctx.embedded is None:
            raise ctx.fail(field, "embedded messages need a session or a loader")
        inner = ctx.embedded(spec)
        att.embedded = inner
        ap.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG, ids.DEFAULT_FLAGS | 1)
        ap.set(ids.DISPLAY_NAME, t.PT_UNICODE, name or str(inner.props.value(ids.SUBJECT, "")))
        if inner.props.value(ids.MESSAGE_CLASS):
            ap.set(ids.ATTACH_MIME_TAG, t.PT_UNICODE, "message/rfc822")
    else:
        data = attachment_bytes(ctx, spec, source, field)
        if not name:
            file_name = str(spec.get("file") or "")
            name = file_name.replace("\\", "/").rsplit("/", 1)[-1] or f"attachment{len(taken) + 1}"
        set_file_props(att, name, data, str(spec.get("mime") or guess_mime(name)), taken)
    cid = spec.get("content_id")
    if cid is not None:
        if not isinstance(cid, str) or not cid.strip("<> "):
            raise ctx.fail(f"{field}.content_id", "expected a non-empty content id")
        ap.set(ids.ATTACH_CONTENT_ID, t.PT_UNICODE, cid.strip().strip("<>"))
        ap.set(ids.ATTACH_FLAGS, t.PT_LONG, ids.ATT_RENDERED_IN_BODY)
    hidden = spec.get("hidden", cid is not None)
    if not isinstance(hidden, bool):
        raise ctx.fail(f"{field}.hidden", "expected true or false")
    ap.set(ids.ATTACHMENT_HIDDEN, t.PT_BOOLEAN, hidden)
    ctx.overrides(ap, spec.get("properties"), f"{field}.properties")
    return att


def attachment_bytes(ctx: Context, spec: Mapping[str, Any], source: str, field: str) -> bytes | StreamSource:
    if source == "data":
        text = spec["data"]
        if not isinstance(text, str):
            raise ctx.fail(f"{field}.data", "expected base64 text")
        try:
            import base64

            return base64.b64decode(text.removeprefix("base64:"), validate=True)
        except (binascii.Error, ValueError):
            raise ctx.fail(f"{field}.data", "is not valid base64") from None
    if source == "blob" and ctx.read_blob is not None:
        return ctx.read_blob(str(spec["blob"]))
    raise ctx.fail(
        f"{field}.{source}",
        "attachment files are read when the message is added",
        hint='add it through a session, or give the bytes as base64 in "data"',
    )
