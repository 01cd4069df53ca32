"""What is in a message, as JSON-ready data (``dump --json``) or as an outline for reading (``dump``).

Every property of every level -- message, recipients, attachments, embedded
messages to any depth -- with its name from the tables, tag, type (as the file
stores it: PT_STRING8 in an ANSI file), value and property-stream flags.
Attachment bytes are shown as size and SHA-256 unless ``full=True``. Key order is
stable: properties sorted by tag, tagged ones before named ones.

Strings a file holds that are no text -- bytes its code page does not define, an
unpaired UTF-16 surrogate -- are ``{"invalid": HEX, "text": …}`` in JSON (the bytes
as stored, and the text with U+FFFD in their place), and escaped (``\\xf8``,
``\\ud800``) in the readable rows, like control characters (``msgsess.props.printable``).

Data only: ``msgsess.cli`` lays the outline out as plain lines or as a rich tree of tables.
"""

from __future__ import annotations

from collections import namedtuple

from msgsess.model import int_value
from msgsess.oxmsg import codepages
from msgsess.props import ids, registry, values
from msgsess.props import types as t
from msgsess.props.keys import NamedId
from msgsess.props.printable import has_surrogates, printable
from msgsess.records import Frozen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NamedTuple

    from msgsess.model import Message, Property, PropertyBag
    from msgsess.props.keys import PropId

__all__ = ["Level", "Row", "dump_message", "outline", "rows"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _sort_key(pid: PropId) -> tuple[int, int, str]:
    if isinstance(pid, NamedId):
        return (1, pid.lid if pid.lid is not None else -1, f"{pid.guid}:{pid.name or ''}")
    return (0, pid, "")


class _Strings(Frozen):
    """How one message level stored its strings: ANSI or not, and the codec of 8-bit strings."""

    __slots__ = _fields = ("ansi", "codec8")
    ansi: bool
    codec8: str

    def __init__(self, ansi: bool, codec8: str) -> None:
        object.__setattr__(self, "ansi", ansi)
        object.__setattr__(self, "codec8", codec8)

    @classmethod
    def of(cls, msg: Message) -> _Strings:
        ansi = msg.source_unicode is False
        codepage = msg.source_codepage if ansi else None
        if codepage is None:
            # 8-bit strings in a Unicode message: the code page the decoder chose for them.
            codepage = codepages.ansi_codepage(
                int_value(msg.props, ids.MESSAGE_CODEPAGE, 0) or None,
                int_value(msg.props, ids.INTERNET_CODEPAGE, 0) or None,
                None,
            )
        return cls(ansi, codepages.codec(codepage))

    def stored_type(self, prop: Property) -> int:
        """The type as the file stores it: the model keeps every string as PT_UNICODE."""
        if prop.stored is not None:
            return prop.stored
        if self.ansi and t.is_string(prop.type):
            return t.PT_MV_STRING8 if t.is_mv(prop.type) else t.PT_STRING8
        return prop.type

    def eight_bit(self, prop: Property) -> bool:
        return t.base_type(self.stored_type(prop)) == t.PT_STRING8

    def text_json(self, text: str, eight_bit: bool, *, value: bool = True) -> Any:
        """A string as JSON; one that is no text as its stored bytes and a readable form.

        A ``value`` is given as ``add --json`` would read it back (``values.to_json``: a leading
        ``@`` doubled); a name as it is.
        """
        if not has_surrogates(text):
            return values.to_json(t.PT_UNICODE, text) if value else text
        if eight_bit:
            try:
                data = text.encode(self.codec8, "surrogateescape")
                return {"invalid": data.hex(), "text": data.decode(self.codec8, "replace")}
            except UnicodeError:  # decoded in another code page than this message names
                pass
        data = text.encode("utf-16-le", "surrogatepass")
        return {"invalid": data.hex(), "text": data.decode("utf-16-le", "replace")}


def _named_json(pid: NamedId, strings: _Strings) -> dict[str, Any]:
    out: dict[str, Any] = {"set": pid.set_name()}
    if pid.lid is not None:
        out["lid"] = f"0x{pid.lid:04X}"
    else:
        out["name"] = strings.text_json(pid.name or "", False, value=False)
    return out


def _value(prop: Property, full: bool, strings: _Strings) -> Any:
    value = prop.value
    if not full:
        data: bytes | None = None
        if isinstance(value, t.RawValue) and not value.inline:
            data = value.data
        elif prop.type == t.PT_BINARY and isinstance(value, bytes):
            data = value
        if data is not None:
            import hashlib  # dump --json only: the outline for reading has no digests

            return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if prop.type == t.PT_OBJECT:
        return None
    if t.is_string(prop.type) and not isinstance(value, t.RawValue):
        eight_bit = strings.eight_bit(prop)
        if t.is_mv(prop.type):
            return [strings.text_json(str(item), eight_bit) for item in value]
        return strings.text_json(str(value), eight_bit)
    return values.to_json(prop.type, value)


def _prop_json(pid: PropId, prop: Property, full: bool, strings: _Strings) -> dict[str, Any]:
    out: dict[str, Any] = {"name": strings.text_json(registry.describe(pid, prop.type), False, value=False)}
    stored = strings.stored_type(prop)
    if isinstance(pid, NamedId):
        out["named"] = _named_json(pid, strings)
    else:
        out["tag"] = f"0x{(pid << 16) | stored:08X}"
    out["type"] = t.type_name(stored)
    out["flags"] = prop.flags
    out["value"] = _value(prop, full, strings)
    return out


def _props_json(bag: PropertyBag, full: bool, strings: _Strings) -> list[dict[str, Any]]:
    return [_prop_json(pid, bag[pid], full, strings) for pid in sorted(bag, key=_sort_key)]


def _extra_json(extra: dict[str, Any]) -> list[str]:
    return sorted(extra)


def dump_message(msg: Message, *, full: bool = False) -> dict[str, Any]:
    """Every property of a message and everything below it, as JSON-ready data.

    Types and tags are shown as the file stores them (PT_STRING8 in an ANSI file).
    """
    strings = _Strings.of(msg)
    out: dict[str, Any] = {
        "unicode": msg.source_unicode,
        "codepage": msg.source_codepage,
        "properties": _props_json(msg.props, full, strings),
        "recipients": [],
        "attachments": [],
    }
    for index, rcpt in enumerate(msg.recipients):
        entry: dict[str, Any] = {"index": index, "properties": _props_json(rcpt.props, full, strings)}
        if rcpt.extra:
            entry["unparsed"] = _extra_json(rcpt.extra)
        out["recipients"].append(entry)
    for index, att in enumerate(msg.attachments):
        # A damaged file may store the method as another type: then it is no method (the property
        # itself is listed with its raw value).
        method = att.props.value(ids.ATTACH_METHOD)
        aentry: dict[str, Any] = {
            "index": index,
            "method": method if _is_int(method) else None,
            "properties": _props_json(att.props, full, strings),
        }
        if att.embedded is not None:
            aentry["embedded"] = dump_message(att.embedded, full=full)
        if att.custom is not None:
            aentry["custom_storage"] = sorted(path for path, _ in att.custom.walk())
        if att.extra:
            aentry["unparsed"] = _extra_json(att.extra)
        out["attachments"].append(aentry)
    if msg.extra:
        out["unparsed"] = _extra_json(msg.extra)
    return out


# --------------------------------------------------------------------------- readable form


if TYPE_CHECKING:

    class Row(NamedTuple):
        """One property as a person reads it; every field is safe to print (see module docstring)."""

        name: str
        tag: str
        type: str
        flags: str
        value: str

else:  # the same named tuple without importing typing
    Row = namedtuple("Row", ["name", "tag", "type", "flags", "value"])
    Row.__doc__ = "One property as a person reads it; every field is safe to print (see module docstring)."


def rows(bag: PropertyBag, msg: Message, *, width: int = 100) -> list[Row]:
    """The properties of one bag of ``msg`` (its own, a recipient's or an attachment's), sorted.

    ``width`` cuts long values (0: no limit).
    """
    strings = _Strings.of(msg)
    out = []
    for pid in sorted(bag, key=_sort_key):
        prop = bag[pid]
        stored = strings.stored_type(prop)
        name = registry.describe(pid, prop.type)
        if isinstance(pid, NamedId):
            # No tag: its id is the file's own. Set and LID, unless the name says just that.
            tag = "named" if name == str(pid) else str(pid)
        else:
            tag = f"0x{(pid << 16) | stored:08X}"
        if prop.type == t.PT_OBJECT:
            text = "(storage)"
        else:
            try:
                text = values.to_text(prop.type, prop.value, width=width)
            except Exception:  # a value that cannot be shown must not hide the rest
                text = repr(prop.value)[:width] if width else repr(prop.value)
        out.append(
            Row(
                printable(name),
                printable(tag),
                t.type_name(stored),
                f"0x{prop.flags:X}",
                printable(text, eight_bit=strings.eight_bit(prop)),
            )
        )
    return out


def _label(text: str, msg: Message) -> str:
    """Text of ``msg`` for a heading (an attachment's name), safe to print."""
    return printable(text, eight_bit=msg.source_unicode is False)


def _extra_names(extra: dict[str, Any]) -> str:
    """Entries no property accounts for, by name, safe to print."""
    return ", ".join(printable(name) for name in sorted(extra))


class Level(Frozen):
    """A heading of the readable form, the properties under it, and the levels below it.

    ``rows`` is None for a heading that is a line alone (a custom storage, unparsed entries);
    every text is safe to print.
    """

    __slots__ = _fields = __match_args__ = ("heading", "rows", "below")
    heading: str
    rows: tuple[Row, ...] | None
    below: tuple[Level, ...]

    def __init__(self, heading: str, rows: tuple[Row, ...] | None, below: tuple[Level, ...] = ()) -> None:
        object.__setattr__(self, "heading", heading)
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "below", below)


def outline(msg: Message, *, width: int = 100, heading: str = "message") -> Level:
    """``msg`` as a person reads it: its properties, then each recipient and each attachment
    (an embedded message below its attachment, to any depth). ``width`` cuts long values, as
    in :func:`rows`."""
    below: list[Level] = []
    for index, rcpt in enumerate(msg.recipients):
        below.append(Level(f"recipient {index}", tuple(rows(rcpt.props, msg, width=width))))
    for index, att in enumerate(msg.attachments):
        parts: list[Level] = []
        if att.embedded is not None:
            parts.append(outline(att.embedded, width=width, heading="embedded message"))
        if att.custom is not None:
            parts.append(Level(f"custom storage ({att.custom.count()} entries)", None))
        if att.extra:
            parts.append(Level("unparsed: " + _extra_names(att.extra), None))
        title = f"attachment {index}: {_label(att.name, msg) or '(no name)'}"
        below.append(Level(title, tuple(rows(att.props, msg, width=width)), tuple(parts)))
    if msg.extra:
        below.append(Level("unparsed: " + _extra_names(msg.extra), None))
    return Level(heading, tuple(rows(msg.props, msg, width=width)), tuple(below))
