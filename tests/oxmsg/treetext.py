"""Render a ``Storage`` tree as readable text, for golden tests and for eyes.

Independent of the codec: property streams are parsed here with ``struct``
from the layout of [MS-OXMSG] 2.4, so a golden file shows what the bytes say,
not what msgsess thinks they say.

One line per entry, indented by depth; storages end in ``/``. Streams show
their size and a short preview (strings decoded, small binaries in hex). Each
``__properties_version1.0`` shows its header fields and one line per 16-byte
entry: tag, flags, and the inline value (raw 8 bytes, plus the number for
integer types) or the Size and Reserved fields of a stream-stored property.
"""

from __future__ import annotations

import struct
import uuid

from msgsess.storage import Storage

PROPERTIES = "__properties_version1.0"
EMBEDDED = "__substg1.0_3701000D"

# Single-valued types stored inline in the entry ([MS-OXMSG] 2.4.2.1).
_INLINE = {0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007, 0x000A, 0x000B, 0x0014, 0x0040}
_INT_FORMATS = {0x0002: "<h", 0x0003: "<i", 0x000A: "<I", 0x000B: "<?", 0x0014: "<q", 0x0040: "<Q"}
_FLOAT_FORMATS = {0x0004: "<f", 0x0005: "<d", 0x0007: "<d"}


def _clsid(raw: bytes) -> str:
    return "{" + str(uuid.UUID(bytes_le=raw)).upper() + "}" if any(raw) else "0"


def _header(data: bytes, size: int) -> str:
    if size == 8:
        return f"header 8: reserved {data[:8].hex()}"
    next_r, next_a, n_r, n_a = struct.unpack_from("<IIII", data, 8)
    text = f"header {size}: next recipient {next_r}, next attachment {next_a}"
    text += f", recipients {n_r}, attachments {n_a}"
    if any(data[:8]) or (size == 32 and any(data[24:32])):
        text += " (reserved bytes not zero!)"
    return text


def _entry(raw: bytes) -> str:
    tag, flags = struct.unpack_from("<II", raw)
    ptype = tag & 0xFFFF
    field = raw[8:16]
    if ptype in _INLINE:
        text = f"{tag:08X} flags {flags:X} value {field.hex(' ')}"
        if ptype in _INT_FORMATS:
            fmt = _INT_FORMATS[ptype]
            (number,) = struct.unpack_from(fmt, field)
            text += f" = {int(number)}" if ptype != 0x0014 and ptype != 0x0040 else ""
        elif ptype in _FLOAT_FORMATS:
            (number,) = struct.unpack_from(_FLOAT_FORMATS[ptype], field)
            text += f" = {number!r}"
        return text
    size, reserved = struct.unpack_from("<II", field)
    return f"{tag:08X} flags {flags:X} size {size} reserved {reserved}"


def _preview(name: str, data: bytes) -> str:
    suffix = name.rpartition("_")[2]
    kind = suffix[4:8] if len(suffix) >= 8 else ""
    if kind == "001F" and "-" not in suffix:
        text = data.decode("utf-16-le", "replace")
    elif kind == "001E" and "-" not in suffix:
        text = data.decode("latin-1")
    elif kind == "101F" and "-" in suffix:
        text = data.decode("utf-16-le", "replace")
    elif kind == "101E" and "-" in suffix:
        text = data.decode("latin-1")
    elif len(data) <= 48:
        return data.hex(" ") if data else ""
    else:
        return ""
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def render(tree: Storage) -> str:
    """The tree as text, root CLSID first, children sorted by name."""
    lines = [f"Root Entry  clsid {_clsid(tree.clsid)}"]
    _render(tree, 1, 32, lines)
    return "\n".join(lines) + "\n"


def _render(node: Storage, depth: int, header: int, lines: list[str]) -> None:
    pad = "  " * depth
    for name in sorted(node.entries):
        child = node.entries[name]
        if isinstance(child, Storage):
            extra = f"  clsid {_clsid(child.clsid)}" if any(child.clsid) else ""
            lines.append(f"{pad}{name}/{extra}")
            sub_header = 24 if name == EMBEDDED and PROPERTIES in child.entries else 8
            _render(child, depth + 1, sub_header, lines)
            continue
        if name == PROPERTIES:
            body = len(child) - header
            note = "" if body >= 0 and body % 16 == 0 else f"  (does not fit a {header}-byte header!)"
            lines.append(f"{pad}{name}  {len(child)}{note}")
            lines.append(f"{pad}  {_header(child, header)}")
            entries = [child[off : off + 16] for off in range(header, len(child) - 15, 16)]
            lines.extend(f"{pad}  {_entry(raw)}" for raw in entries)
            continue
        preview = _preview(name, child)
        lines.append(f"{pad}{name}  {len(child)}" + (f"  {preview}" if preview else ""))
