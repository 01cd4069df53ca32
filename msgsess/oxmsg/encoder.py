"""Message model -> storage tree ([MS-OXMSG] 2.1-2.4).

The encoder writes what the model holds and nothing more, except what the
file format itself demands of the string mode: Unicode files carry
STORE_UNICODE_OK and PT_UNICODE strings; ANSI files PT_STRING8 in one code
page recorded in PR_MESSAGE_CODEPAGE. Defaults a user expects live in
``msgsess.composer``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, cast

from msgsess.errors import InvalidParameter, MsgsessError, TooBig, Unconvertible
from msgsess.model import Attachment, Message, Property, PropertyBag
from msgsess.oxmsg import codepages, layout
from msgsess.oxmsg.layout import NAMEID
from msgsess.oxmsg.nameid import FIRST_NAMED_ID, NameMap
from msgsess.props import binary, ids
from msgsess.props import types as t
from msgsess.props.keys import NamedId, PropId
from msgsess.props.printable import has_surrogates
from msgsess.storage import Entry, Storage, StreamSource, stream_size

#: What Outlook writes in PidTagStoreSupportMask of Unicode files ([oxmsg-facts] §9).
OUTLOOK_STORE_MASK = 0x00040E79
#: Largest value a variable-length property entry's 32-bit Size can announce ([MS-OXMSG] 2.4.2.2).
MAX_VALUE_SIZE = 0xFFFFFFFF

_TOP, _EMBEDDED, _OBJECT = "top", "embedded", "object"


class _Context:
    def __init__(
        self, unicode: bool, codepage: int, label: str, convert: bool, warn: Callable[[str], None]
    ) -> None:
        self.label = label
        self.warn = warn
        #: Whether every level is written in the given mode; if not, a decoded embedded message
        #: keeps the string mode and code page it was read with ([MS-OXMSG] 2.2.2.1).
        self.convert = convert
        self.names = NameMap()
        self.set_mode(unicode, codepage)
        #: How the message being encoded was read: Unicode or not (None: a new message), and the
        #: code page of an ANSI one (its undecodable bytes are kept as U+DC80..U+DCFF escapes).
        self.source_unicode: bool | None = None
        self.source_codepage: int | None = None

    def set_mode(self, unicode: bool, codepage: int) -> None:
        """Write the strings of the message being encoded as Unicode or in this code page."""
        self.unicode = unicode
        self.codepage = codepage
        self.codec = "utf-16-le" if unicode else codepages.codec(codepage)
        #: The code page strings are written in; None for Unicode.
        self.target_codepage = None if unicode else codepage

    def keeps_unnamed(self, pid: int, where: str) -> bool:
        """Whether a 0x8000+ id that its file's name map did not define can be written as it is.

        Its name is unknown, so it cannot be mapped again; it is written with its own id, as
        unnamed as it was, when no named property of the new map takes that id. Otherwise it
        would alias one, so it is left out with a warning naming it.
        """
        if pid - FIRST_NAMED_ID >= len(self.names.ids):
            return True
        self.warn(
            f"{self.label}: property 0x{pid:04X}{where} has a named-property id that the file's name "
            "map does not define, and that id now names another property; it is left out"
        )
        return False

    def encode_text(self, text: str, pid: PropId, where: str, stored: int | None = None) -> bytes:
        """A string's bytes; ``stored`` is the type its file stored it as (None: set since)."""
        if has_surrogates(text):
            self.refuse_conversion(text, pid, where, stored)
        if self.unicode:
            return _utf16_le(text, "surrogatepass")[0]
        try:
            return text.encode(self.codec, "surrogateescape")
        except UnicodeEncodeError as exc:
            bad = exc.object[exc.start]
            raise Unconvertible(
                f"{_describe(pid)}{where} has {bad!r} (U+{ord(bad):04X}), "
                f"which code page {self.codepage} cannot hold",
                hint="close with --unicode, or choose a code page that has it with --codepage",
            ) from None

    def refuse_conversion(self, text: str, pid: PropId, where: str, stored: int | None) -> None:
        """Text that is no text can only be written back the way it was read.

        The decoder keeps bytes a code page does not define as U+DC80..U+DCFF and unpaired
        UTF-16 surrogates as they are, so that an unchanged file round-trips byte for byte;
        converted to another string mode or code page they would become wrong text or invalid
        UTF-16, so that is refused.
        """
        eight_bit = self.source_unicode is False or (
            stored is not None and t.base_type(stored) == t.PT_STRING8
        )
        if eight_bit:
            kept = self.source_unicode is False and self.source_codepage == self.target_codepage
        else:
            kept = self.unicode and self.source_unicode is True
        if kept:
            return
        code = ord(next(char for char in text if "\ud800" <= char <= "\udfff"))
        if eight_bit and 0xDC80 <= code <= 0xDCFF:
            page = f"code page {self.source_codepage}" if self.source_codepage else "its code page"
            raise Unconvertible(
                f"{_describe(pid)}{where} has byte 0x{code - 0xDC00:02X}, which {page} "
                "does not define, so its text is unknown and cannot be converted",
                hint="give the file's real code page with `msgsess edit --codepage CP`, "
                "or keep the file's string mode (close without --unicode or --ansi)",
            )
        raise Unconvertible(
            f"{_describe(pid)}{where} has an unpaired UTF-16 surrogate 0x{code:04X}, "
            "which is no text and can only be written back as Unicode",
            hint="close without --ansi, or set the property to new text",
        )


def _describe(pid: PropId, ptype: int | None = None) -> str:
    # The registry loads the property tables: only pay for that on the error path.
    from msgsess.props import registry

    return registry.describe(pid, ptype)


def encode(
    msg: Message,
    *,
    unicode: bool = True,
    codepage: int = 1252,
    template: bool | None = False,
    label: str = "message",
    convert: bool = False,
    warn: Callable[[str], None] | None = None,
) -> Storage:
    """Encode a message (and everything embedded in it) as a ``.msg`` storage tree.

    ``template``: True writes an Outlook template (.oft CLSID), False a message, None
    keeps the root CLSID the message was read with (an edited template stays one).
    Errors are located at ``label`` (a session id, a file name).

    ``unicode``/``codepage`` is the string mode of the message and of the messages embedded in
    it; an embedded message decoded from a file keeps its own mode and code page (an ANSI one in
    a Unicode file stays ANSI, as its PidTagStoreSupportMask says) unless ``convert`` is true.
    ``warn(text)`` hears of what is written otherwise than it was read (a property left out);
    the message is written all the same.
    """
    ctx = _Context(unicode, codepage, label, convert, warn or (lambda text: None))
    try:
        return _encode(msg, ctx, template)
    except MsgsessError as exc:  # what errors.located does, without a generator per message
        exc.at(label)
        raise


def _encode(msg: Message, ctx: _Context, template: bool | None) -> Storage:
    # Named ids are per file, shared with embedded messages ([MS-OXMSG] 2.2.3):
    # register them all first, in a stable order, so the map is complete.
    for level in _bags(msg):
        ctx.names.add_all(pid for pid in level if isinstance(pid, NamedId))
    root = _encode_message(msg, ctx, _TOP, depth=0)
    root.entries[NAMEID] = ctx.names.to_storage()
    if template:
        root.clsid = layout.CLSID_TEMPLATE
    elif (
        msg.clsid is not None and any(msg.clsid) and (template is None or msg.clsid != layout.CLSID_TEMPLATE)
    ):
        # Keep an edited file's own CLSID, except a template's when a message is asked for.
        root.clsid = msg.clsid
    else:
        root.clsid = layout.CLSID_MAIL_MESSAGE
    return root


def _bags(msg: Message) -> list[PropertyBag]:
    bags = [msg.props]
    bags.extend(r.props for r in msg.recipients)
    for att in msg.attachments:
        bags.append(att.props)
        if att.embedded is not None:
            bags.extend(_bags(att.embedded))
    return bags


def _string_mode_props(msg: Message, ctx: _Context) -> PropertyBag:
    """The message's properties with the string-mode markers the format requires ([MS-OXMSG] 2.1.1.1)."""
    props = PropertyBag(msg.props)
    mask = props.get(ids.STORE_SUPPORT_MASK)
    if ctx.unicode:
        if mask is None:
            props[ids.STORE_SUPPORT_MASK] = Property(t.PT_LONG, OUTLOOK_STORE_MASK, ids.PROPATTR_READABLE)
        elif not isinstance(mask.value, int) or not mask.value & ids.STORE_UNICODE_OK:
            value = (mask.value if isinstance(mask.value, int) else 0) | ids.STORE_UNICODE_OK
            props[ids.STORE_SUPPORT_MASK] = Property(t.PT_LONG, value, mask.flags)
    else:
        if mask is not None:
            value = (mask.value if isinstance(mask.value, int) else 0) & ~ids.STORE_UNICODE_OK
            if value:
                props[ids.STORE_SUPPORT_MASK] = Property(t.PT_LONG, value, mask.flags)
            else:
                del props[ids.STORE_SUPPORT_MASK]
        # Record the code page ([oxmsg-facts] §4: readers guess without it), except on a
        # file read in this very code page, whose properties stay exactly as they were.
        if not (msg.source_unicode is False and msg.source_codepage == ctx.codepage):
            props.set(ids.MESSAGE_CODEPAGE, t.PT_LONG, ctx.codepage)
            props.setdefault_value(ids.INTERNET_CODEPAGE, t.PT_LONG, ctx.codepage)
    return props


def _encode_message(msg: Message, ctx: _Context, level: str, depth: int) -> Storage:
    outer = (ctx.unicode, ctx.codepage, ctx.source_unicode, ctx.source_codepage)
    if level != _TOP and not ctx.convert and msg.source_unicode is not None:
        ctx.set_mode(msg.source_unicode, msg.source_codepage or ctx.codepage)
    ctx.source_unicode = msg.source_unicode
    ctx.source_codepage = msg.source_codepage if msg.source_unicode is False else None
    try:
        return _encode_message_body(msg, ctx, level, depth)
    finally:
        ctx.set_mode(*outer[:2])
        ctx.source_unicode, ctx.source_codepage = outer[2:]


def _encode_message_body(msg: Message, ctx: _Context, level: str, depth: int) -> Storage:
    if len(msg.recipients) > layout.MAX_OBJECTS or len(msg.attachments) > layout.MAX_OBJECTS:
        raise TooBig(
            f"{len(msg.recipients)} recipients and {len(msg.attachments)} attachments; "
            f"a .msg holds at most {layout.MAX_OBJECTS} of each",
            hint="split the message",
        )
    node = Storage()
    props = _string_mode_props(msg, ctx)
    n_rcpt, n_att = len(msg.recipients), len(msg.attachments)
    if level == _TOP:
        header = layout.TOP_HEADER.pack(n_rcpt, n_att, n_rcpt, n_att)
    else:
        header = layout.EMBEDDED_HEADER.pack(n_rcpt, n_att, n_rcpt, n_att)
    node.entries[layout.PROPERTIES] = _encode_props(props, node, ctx, header, "")
    for index, rcpt in enumerate(msg.recipients):
        sub = Storage()
        where = f" of recipient {index}"
        sub.entries[layout.PROPERTIES] = _encode_props(rcpt.props, sub, ctx, bytes(8), where)
        _add_extra(sub, rcpt.extra)
        node.entries[layout.recip_storage(index)] = sub
    for index, att in enumerate(msg.attachments):
        node.entries[layout.attach_storage(index)] = _encode_attachment(att, index, ctx, depth)
    _add_extra(node, msg.extra)
    return node


def _encode_attachment(att: Attachment, index: int, ctx: _Context, depth: int) -> Storage:
    sub = Storage()
    where = f" of attachment {index}"
    props = PropertyBag(att.props)
    reserved = 0
    object_flags = ids.DEFAULT_FLAGS
    if att.embedded is not None or att.custom is not None:
        old = props.pop(ids.ATTACH_DATA, None)
        if old is not None and old.type == t.PT_OBJECT:
            object_flags = old.flags
        if att.embedded is not None:
            if depth >= layout.MAX_EMBEDDING_DEPTH:
                raise TooBig(
                    f"embedded messages nested more than {layout.MAX_EMBEDDING_DEPTH} deep",
                    hint="nest fewer messages; msgsess could not read the file back",
                )
            props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG)
            sub.entries[layout.ATTACH_OBJECT] = _encode_message(att.embedded, ctx, _EMBEDDED, depth + 1)
            reserved = layout.RESERVED_EMBEDDED
        else:
            assert att.custom is not None
            sub.entries[layout.ATTACH_OBJECT] = att.custom
            reserved = layout.RESERVED_CUSTOM
    mask = props.get(ids.STORE_SUPPORT_MASK)
    if mask is not None:
        bit = ids.STORE_UNICODE_OK
        old_mask = mask.value if isinstance(mask.value, int) else 0
        mask_value = old_mask | bit if ctx.unicode else old_mask & ~bit
        props[ids.STORE_SUPPORT_MASK] = Property(t.PT_LONG, mask_value, mask.flags)
    entries = _encode_props(props, sub, ctx, bytes(8), where)
    if reserved:
        object_tag = (ids.ATTACH_DATA << 16) | t.PT_OBJECT
        entries += layout.VAR_ENTRY.pack(object_tag, object_flags, layout.OBJECT_SIZE, reserved)
    sub.entries[layout.PROPERTIES] = entries
    _add_extra(sub, att.extra)
    return sub


def _add_extra(node: Storage, extra: dict[str, Entry]) -> None:
    """Carry over entries no property accounts for, unless the encoder wrote that name itself."""
    if not extra:
        return
    taken = {name.upper() for name in node.entries}
    for name, entry in extra.items():
        if name.upper() not in taken:
            node.entries[name] = entry


def _number(
    props: PropertyBag, ctx: _Context, where: str
) -> tuple[list[int], dict[int, Property], dict[int, PropId]]:
    """The ids a bag's properties are written under, in order; the property of each id; and
    the named ones' identities by id (for errors). Unnamed 0x8000+ ids the new map took are
    left out."""
    if not ctx.names.ids:
        # No named property in the whole file: every key is a tagged id, its own number, unique
        # as a dict key, and no 0x8000+ id can alias a named one; the bag is its own index.
        return cast("list[int]", sorted(props)), cast("dict[int, Property]", props), {}
    by_number: dict[int, Property] = {}
    named: dict[int, PropId] = {}
    id_for = ctx.names.id_for
    for pid, prop in props.items():
        if isinstance(pid, NamedId):
            number = id_for(pid)
            if prop.type == _PT_OBJECT:
                continue  # written by the attachment encoder, with its storage
            if number in named:
                # e.g. two Internet-header names differing only in case: one property in MAPI.
                raise InvalidParameter(
                    f"{_describe(named[number])} and {_describe(pid)}{where} are the same property",
                    hint="keep one of them",
                )
            named[number] = pid
        elif pid >= FIRST_NAMED_ID and not ctx.keeps_unnamed(pid, where):
            continue
        else:
            number = pid
        by_number[number] = prop
    return sorted(by_number), by_number, named


def _encode_props(props: PropertyBag, node: Storage, ctx: _Context, header: bytes, where: str) -> bytes:
    order, by_number, named = _number(props, ctx, where)
    out = [header]
    append = out.append
    entries = node.entries
    wire = _WIRE[ctx.unicode]
    plain_strings = ctx.source_codepage is None
    for number in order:
        prop = _item(by_number, number)  # the dict's own lookup: the bag may be a PropertyBag
        # The kinds most properties are, inline, each tested first by the type of its value;
        # every other through the general steps below.
        value = prop.value
        kind = type(value)
        if kind is str:
            if plain_strings and prop.stored is None and wire.get(prop.type) == _PT_UNICODE:
                # The usual string of a Unicode file, set in this session (no text a file held
                # that encode_text may have to refuse): what encode_text and _encode_one do.
                tag = ((number & 0xFFFF) << 16) | _PT_UNICODE
                text = _utf16_le(value, "surrogatepass")[0]
                entries[_STREAM_NAMES.get(tag) or _stream_name(tag)] = text
                if len(text) + 2 > MAX_VALUE_SIZE:
                    _too_big(named.get(number, number), prop.type, len(text) + 2, where)
                append(_VAR_ENTRY(tag, prop.flags, len(text) + 2, 0))
                continue
        elif kind is bytes:
            if prop.type == _PT_BINARY:
                tag = ((number & 0xFFFF) << 16) | _PT_BINARY
                entries[_STREAM_NAMES.get(tag) or _stream_name(tag)] = value
                if len(value) > MAX_VALUE_SIZE:
                    _too_big(named.get(number, number), prop.type, len(value), where)
                append(_VAR_ENTRY(tag, prop.flags, len(value), 0))
                continue
        elif kind in _CACHEABLE:
            key = (number, prop.type, prop.flags, value)
            entry = _PACKED.get(key)
            if entry is not None:
                append(entry)
                continue
        ptype = wire.get(prop.type, prop.type)
        if ptype == _PT_OBJECT:
            continue  # written by the attachment encoder, with its storage
        if ptype in _FIXED and kind in _CACHEABLE:
            entry = layout.ENTRY.pack(
                ((number & 0xFFFF) << 16) | ptype, prop.flags, binary.pack_inline(ptype, value)
            )
            if len(_PACKED) >= _PACKED_MAX:
                _PACKED.clear()
            _PACKED[key] = entry
            append(entry)
        else:
            append(_encode_one(number, prop, named.get(number, number), node, ctx, where))
    return b"".join(out)


_VAR_ENTRY = layout.VAR_ENTRY.pack
_PT_OBJECT, _PT_UNICODE, _PT_BINARY = t.PT_OBJECT, t.PT_UNICODE, t.PT_BINARY
_utf16_le = t.utf16_le
_item = dict.__getitem__


def _terminator(ptype: int) -> int:
    """What a single string's Size field counts beyond its stream ([MS-OXMSG] 2.4.2.2)."""
    return 2 if ptype == t.PT_UNICODE else 1 if ptype == t.PT_STRING8 else 0


def _wire_type(ptype: int, unicode: bool) -> int:
    if t.is_string(ptype):
        single = t.PT_UNICODE if unicode else t.PT_STRING8
        return t.MV_FLAG | single if t.is_mv(ptype) else single
    return ptype


#: The type each string type is written as, in a Unicode file and in an ANSI one.
_WIRE = {
    unicode: {
        ptype: _wire_type(ptype, unicode)
        for ptype in (*t.STRING_TYPES, *(t.MV_FLAG | s for s in t.STRING_TYPES))
    }
    for unicode in (True, False)
}
#: Types whose value is the 8-byte field of the entry itself.
_FIXED = frozenset(ptype for ptype in t.TYPE_NAMES if t.is_fixed(ptype))
#: (id, model type, flags, value) -> the 16-byte entry of a fixed-length integer or boolean value.
#: Most are the same in every message (flags, masks, code pages, times of one close), so packing
#: one is a lookup, tried before anything else is asked of the property. Only values of the
#: types in _CACHEABLE are looked up or stored: floats stay out (0.0 == -0.0, yet their bytes
#: differ), and so no value of another type can equal a key. Emptied when it gets large.
_PACKED: dict[tuple[int, int, int, int], bytes] = {}
_PACKED_MAX = 4096
_CACHEABLE = (int, bool, t.FileTime)


def _encode_one(number: int, prop: Property, pid: PropId, node: Storage, ctx: _Context, where: str) -> bytes:
    """One property entry (its value stream, if any, put into ``node``): the general path of
    :func:`_encode_props`, which handles fixed values and plain strings itself."""
    ptype = _WIRE[ctx.unicode].get(prop.type, prop.type)
    tag = ((number & 0xFFFF) << 16) | ptype
    value: Any = prop.value
    flags = prop.flags
    try:
        if isinstance(value, t.RawValue):
            if value.inline:
                return layout.ENTRY.pack(tag, flags, value.data[:8].ljust(8, b"\0"))
            node.entries[layout.value_stream(tag)] = value.data
            return layout.VAR_ENTRY.pack(tag, flags, len(value.data) + _terminator(ptype), 0)
        if t.is_fixed(ptype):
            return layout.ENTRY.pack(tag, flags, binary.pack_inline(ptype, value))
        if not t.is_mv(ptype):
            data = _single_stream(ptype, prop, pid, ctx, where)
            node.entries[_stream_name(tag)] = data
            size = stream_size(data) + _terminator(ptype)
            if size > MAX_VALUE_SIZE:
                return _too_big(pid, prop.type, size, where)
            return layout.VAR_ENTRY.pack(tag, flags, size, 0)
        base = t.base_type(ptype)
        if base in (t.PT_UNICODE, t.PT_STRING8, t.PT_BINARY):
            lengths = bytearray()
            terminator = b"\0\0" if base == t.PT_UNICODE else b"\0" if base == t.PT_STRING8 else b""
            for index, item in enumerate(value):
                if base == t.PT_BINARY:
                    data = bytes(item)
                    lengths += layout.MV_BINARY_LENGTH.pack(len(data), 0)
                else:
                    data = ctx.encode_text(str(item), pid, where, prop.stored) + terminator
                    lengths += layout.U32.pack(len(data))
                node.entries[layout.mv_value_stream(tag, index)] = data
            node.entries[layout.value_stream(tag)] = bytes(lengths)
            return layout.VAR_ENTRY.pack(tag, flags, len(lengths), 0)
        data = binary.pack_fixed_mv(ptype, list(value))
        node.entries[layout.value_stream(tag)] = data
        return layout.VAR_ENTRY.pack(tag, flags, len(data), 0)
    except (TypeError, ValueError, OverflowError, AttributeError) as exc:
        raise InvalidParameter(
            f"{_describe(pid, prop.type)}{where}: value {value!r:.60} does not fit "
            f"{t.type_name(prop.type)} ({exc})"
        ) from None


#: tag -> the name of its value stream (``__substg1.0_0037001F``): names repeat in every message.
_STREAM_NAMES: dict[int, str] = {}


def _stream_name(tag: int) -> str:
    name = _STREAM_NAMES.get(tag)
    if name is None:
        if len(_STREAM_NAMES) >= _PACKED_MAX:
            _STREAM_NAMES.clear()
        name = _STREAM_NAMES[tag] = layout.value_stream(tag)
    return name


def _too_big(pid: PropId, ptype: int, size: int, where: str) -> NoReturn:
    raise TooBig(
        f"{_describe(pid, ptype)}{where} is {size} bytes; a .msg value holds less than 4 GiB",
        hint="split the data",
    )


def _single_stream(
    ptype: int, prop: Property, pid: PropId, ctx: _Context, where: str
) -> bytes | StreamSource:
    value = prop.value
    if ptype in (t.PT_UNICODE, t.PT_STRING8):
        return ctx.encode_text(str(value), pid, where, prop.stored)
    if ptype == t.PT_CLSID:
        return bytes(value.bytes_le)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return value if isinstance(value, bytes) else bytes(value)
    if ptype == t.PT_BINARY and isinstance(value, StreamSource):
        return value  # passed through: the writer reads it in chunks, nothing holds it whole
    raise TypeError(f"expected bytes for {t.type_name(ptype)}")
