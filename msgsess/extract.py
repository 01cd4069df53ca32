"""The attachments of a message as files: safe names and contents, never touching the disk.

``msgsess extract`` writes what :func:`plan` gives (:mod:`msgsess.savedir` does the writing).
Every name is one path component that is safe on Linux, macOS and Windows alike, whatever the
message says: no separators, no ``..``, no drive letters or device names (``CON``, ``NUL``), no
control or bidirectional-override characters, at most 255 bytes of UTF-8, and unique in the
folder even where the file system ignores case. Contents:

* an attachment by value: its bytes (PidTagAttachDataBinary);
* an embedded message: a standalone ``.msg`` (its storage tree as a top-level message, in its
  own string mode), or a MIME ``.eml``;
* an OLE attachment (method 6): the file an OLE 1 package holds, the one content stream the
  storage holds, or else the storage itself as a compound file;
* attachments by reference or without data have nothing to extract: they are reported skipped.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from msgsess.model import Attachment, Message
from msgsess.props import ids
from msgsess.storage import Storage

__all__ = ["OutFile", "Plan", "Skipped", "plan", "safe_name", "unique_names"]

#: Longest file name most file systems take, in bytes of UTF-8 (ext4, APFS, NTFS in UTF-16 units).
NAME_MAX = 255
#: Characters Windows refuses in names, besides the separators; replaced as control characters are.
_ILLEGAL = re.compile(
    '[\x00-\x1f\x7f-\x9f<>:"|?*\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff]'
)
_SEPARATORS = re.compile(r"[\\/]+")
#: Names Windows keeps for devices, with or without an extension ([MS-FSCC] and Win32 rules).
_DEVICES = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$", "clock$"]
    + [f"{kind}{n}" for kind in ("com", "lpt") for n in [*"123456789", "¹", "²", "³"]]
)
#: Longest extension kept whole when a name must be shortened.
_EXT_MAX = 32
#: Attach methods with no data inside the file: by reference, by web reference.
_BY_REFERENCE = {2: "by reference", 3: "by reference", 4: "by reference", 7: "by web reference"}
_PATHNAMES = (0x370D, 0x3708)  # PidTagAttachLongPathname, PidTagAttachPathname


@dataclass(frozen=True)
class OutFile:
    """One file to write: its safe name and its bytes, or a storage tree (written as a compound file)."""

    number: int
    #: The attachment's own name as the message gives it ("" when it has none).
    name: str
    #: Safe file name: one path component, unique in the folder (case ignored).
    filename: str
    #: "file" (by value), "msg" / "eml" (embedded message), "ole" (storage), "ole-data" (OLE content).
    kind: str
    data: bytes | Storage
    content_id: str | None
    hidden: bool


@dataclass(frozen=True)
class Skipped:
    """An attachment with nothing to extract, and why."""

    number: int
    name: str
    reason: str


@dataclass(frozen=True)
class Plan:
    files: list[OutFile]
    skipped: list[Skipped]


# --- names -----------------------------------------------------------------------------------


def _fit(stem: str, ext: str, limit: int) -> str:
    """``stem + ext`` cut to ``limit`` bytes of UTF-8, the extension kept whole when it is short."""
    if len((stem + ext).encode("utf-8")) <= limit:
        return stem + ext
    if len(ext.encode("utf-8")) > _EXT_MAX:
        stem, ext = stem + ext, ""
    room = limit - len(ext.encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
    return cut.rstrip(" .") + ext


def split_ext(name: str) -> tuple[str, str]:
    """("report", ".pdf") for "report.pdf"; a leading dot (".profile") is no extension."""
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1:
        return name, ""
    return name[:dot], name[dot:]


def safe_name(name: str, fallback: str, *, path: bool = True) -> str:
    """``name`` as one file name that is safe everywhere; ``fallback`` (itself safe) when nothing is left.

    With ``path`` (a file name the message gives) the last component of a path is kept
    (``../../x`` and ``C:\\dir\\x`` give ``x``); otherwise (a subject) separators become ``_``.
    Characters that are control, bidirectional-override or illegal on Windows become ``_``;
    leading and trailing spaces and trailing dots go; a device name gets a ``_`` in front; the
    result is cut to 255 bytes of UTF-8, keeping a short extension.
    """
    text = unicodedata.normalize("NFC", name)
    if path:
        parts = [p for p in _SEPARATORS.split(text) if p.strip(" .")]
        text = parts[-1] if parts else ""
    else:
        text = _SEPARATORS.sub("_", text)
    text = _ILLEGAL.sub("_", text).strip(" ").rstrip(" .")
    if not text.strip("_ ."):
        return fallback
    if text.split(".", 1)[0].rstrip(" ").lower() in _DEVICES:
        text = "_" + text
    stem, ext = split_ext(text)
    return _fit(stem, ext, NAME_MAX)


def fold(name: str) -> str:
    """The form under which two names are the same file on a case-insensitive file system."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _numbered(name: str, number: int) -> str:
    """``report (2).pdf`` for ``report.pdf``, within 255 bytes."""
    stem, ext = split_ext(name)
    if len(ext.encode("utf-8")) > _EXT_MAX:
        stem, ext = name, ""
    suffix = f" ({number})"
    return _fit(stem, "", NAME_MAX - len(suffix) - len(ext.encode("utf-8"))) + suffix + ext


def unique_names(names: Iterable[str]) -> list[str]:
    """Each name, with `` (2)``, `` (3)``… before its extension where an earlier one is the same
    name but for case (or Unicode normalization)."""
    used: set[str] = set()
    out = []
    for name in names:
        candidate = name
        number = 1
        while fold(candidate) in used:
            number += 1
            candidate = _numbered(name, number)
        used.add(fold(candidate))
        out.append(candidate)
    return out


# --- contents --------------------------------------------------------------------------------


def _text(att: Attachment, pid: int) -> str:
    value = att.props.value(pid)
    return value if isinstance(value, str) else ""


def _file_name(att: Attachment) -> str:
    """The name a user saw: the long file name, else the 8.3 one, else the display name."""
    for pid in (ids.ATTACH_LONG_FILENAME, ids.ATTACH_FILENAME, ids.DISPLAY_NAME):
        text = _text(att, pid)
        if text.strip():
            return text
    return ""


def _extension(att: Attachment, default: str) -> str:
    ext = _text(att, ids.ATTACH_EXTENSION).strip()
    if ext and not ext.startswith("."):
        ext = "." + ext
    return ext if 1 < len(ext) <= _EXT_MAX else default


def _with_ext(name: str, ext: str) -> str:
    return name if name.lower().endswith(ext.lower()) else name + ext


_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


def _cstr(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.index(b"\0", pos)
    return data[pos:end], end + 1


def ole_package(native: bytes) -> tuple[str, bytes] | None:
    """The (label, file bytes) an OLE 1 ``Package`` object holds, or None when it is no package.

    Layout of the ``\\x01Ole10Native`` stream of a package: size (u32), type 2 (u16), label and
    source path (NUL-terminated), 0x00030000 for an embedded file (u32), temporary path (u32
    length, then its bytes), data size (u32), data.
    """
    try:
        (size,) = _U32.unpack_from(native, 0)
        (kind,) = _U16.unpack_from(native, 4)
        if kind != 2 or size > len(native) - 4:
            return None
        label, pos = _cstr(native, 6)
        _source, pos = _cstr(native, pos)
        (embedded,) = _U32.unpack_from(native, pos)
        (length,) = _U32.unpack_from(native, pos + 4)
        pos += 8 + length
        (count,) = _U32.unpack_from(native, pos)
        pos += 4
    except (struct.error, ValueError):
        return None
    if embedded != 0x00030000 or pos + count > len(native):
        return None
    return label.decode("latin-1"), native[pos : pos + count]


#: Streams of an OLE storage that describe the object rather than hold it ([MS-OLEDS] 2.3).
def _bookkeeping(name: str) -> bool:
    return name[:1] in ("\x01", "\x02", "\x03", "\x05")


def _ole(att: Attachment, storage: Storage) -> tuple[str, str, bytes | Storage]:
    """(kind, file name or "", contents) of an OLE attachment."""
    name = _file_name(att)
    native = storage.stream("\x01Ole10Native")
    if native is not None:
        package = ole_package(native)
        if package is not None:
            label, data = package
            return "ole-data", name or label, data
        (size,) = _U32.unpack_from(native, 0) if len(native) >= 4 else (0,)
        return "ole-data", name, native[4 : 4 + size] if 4 + size <= len(native) else native[4:]
    content = [(n, e) for n, e in storage.entries.items() if not _bookkeeping(n)]
    if len(content) == 1 and isinstance(content[0][1], bytes):
        return "ole-data", name, content[0][1]
    return "ole", name, storage


def _standalone(msg: Message) -> Storage:
    """An embedded message as the tree of a ``.msg`` file of its own, in its own string mode."""
    from msgsess import oxmsg

    unicode = msg.source_unicode is not False
    return oxmsg.encode(msg, unicode=unicode, codepage=msg.source_codepage or 1252, label="embedded message")


def plan(
    msg: Message, *, embedded: str = "msg", storage_bytes: Callable[[Storage], bytes] | None = None
) -> Plan:
    """What extracting ``msg``'s attachments writes: safe unique names and contents, in table order.

    ``embedded``: ``"msg"`` writes embedded messages as ``.msg`` files, ``"eml"`` as MIME
    ``.eml`` files (:func:`msgsess.mime.message_to_eml`; ``storage_bytes`` turns the OLE objects
    inside them into compound files).
    """
    pending: list[tuple[int, str, str, bytes | Storage, Attachment]] = []
    skipped: list[Skipped] = []
    for number, att in enumerate(msg.attachments):
        fallback = f"attachment {number}"
        if att.embedded is not None:
            title = _file_name(att) or str(att.embedded.props.value(ids.SUBJECT, "") or "")
            if embedded == "eml":
                from msgsess.mime import message_to_eml

                data: bytes | Storage = message_to_eml(att.embedded, storage_bytes=storage_bytes)
                kind, ext = "eml", ".eml"
            else:
                data, kind, ext = _standalone(att.embedded), "msg", ".msg"
            name = safe_name(_with_ext(title, ext), fallback + ext, path=False) if title.strip() else ""
            pending.append((number, kind, name or fallback + ext, data, att))
        elif att.custom is not None:
            kind, name, data = _ole(att, att.custom)
            pending.append((number, kind, safe_name(name, fallback + _extension(att, ".bin")), data, att))
        elif att.method in _BY_REFERENCE:
            target = next((_text(att, pid) for pid in _PATHNAMES if _text(att, pid)), "")
            where = f" to {target}" if target else ""
            skipped.append(Skipped(number, att.name, f"is a link{where} ({_BY_REFERENCE[att.method]})"))
        elif att.data is None:
            skipped.append(Skipped(number, att.name, "holds no data"))
        else:
            name = safe_name(_file_name(att), fallback + _extension(att, ".bin"))
            pending.append((number, "file", name, att.data, att))
    names = unique_names(name for _n, _k, name, _d, _a in pending)
    files = [
        OutFile(
            number=number,
            name=att.name,
            filename=filename,
            kind=kind,
            data=data,
            content_id=_text(att, ids.ATTACH_CONTENT_ID) or None,
            hidden=att.props.value(ids.ATTACHMENT_HIDDEN) is True,
        )
        for (number, kind, _name, data, att), filename in zip(pending, names, strict=True)
    ]
    return Plan(files, skipped)
