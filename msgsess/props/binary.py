"""Typed values <-> the bytes MS-OXMSG stores them as.

Fixed-length values go into the 8-byte value field of a property entry
([MS-OXMSG] 2.4.2.1.1); fixed-length multi-valued ones are packed back to back
in one stream ([MS-OXMSG] 2.1.4.1). Strings are handled by the codec, which
knows whether the file is Unicode or ANSI.
"""

from __future__ import annotations

import struct
import uuid

from msgsess.props import types as t

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_ELEMENT: dict[int, struct.Struct] = {
    t.PT_SHORT: struct.Struct("<h"),
    t.PT_LONG: struct.Struct("<i"),
    t.PT_ERROR: struct.Struct("<i"),
    t.PT_FLOAT: struct.Struct("<f"),
    t.PT_DOUBLE: struct.Struct("<d"),
    t.PT_APPTIME: struct.Struct("<d"),
    t.PT_CURRENCY: struct.Struct("<q"),
    t.PT_I8: struct.Struct("<q"),
    t.PT_SYSTIME: struct.Struct("<Q"),
}
_BITS = {t.PT_SHORT: 16, t.PT_LONG: 32, t.PT_ERROR: 32, t.PT_I8: 64, t.PT_CURRENCY: 64}


def signed(value: int, bits: int) -> int:
    """Wrap an int given in the signed or unsigned range into the signed range."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _element_bytes(base: int, value: Any) -> bytes:
    if base == t.PT_CURRENCY:
        import decimal  # on first use: few files hold a currency

        return _ELEMENT[base].pack(signed(int(decimal.Decimal(value) * decimal.Decimal(10_000)), 64))
    if base in _BITS:
        return _ELEMENT[base].pack(signed(int(value), _BITS[base]))
    if base == t.PT_SYSTIME:
        return _ELEMENT[base].pack(int(value) & 0xFFFFFFFFFFFFFFFF)
    if base == t.PT_CLSID:
        assert isinstance(value, uuid.UUID)
        return value.bytes_le
    return _ELEMENT[base].pack(float(value))


def _element_value(base: int, data: bytes) -> Any:
    if base == t.PT_CLSID:
        return uuid.UUID(bytes_le=bytes(data[:16]))
    (raw,) = _ELEMENT[base].unpack(data)
    if base == t.PT_CURRENCY:
        import decimal  # on first use: few files hold a currency

        return decimal.Decimal(raw) / decimal.Decimal(10_000)
    if base == t.PT_SYSTIME:
        return t.FileTime(raw)
    return raw


def pack_inline(ptype: int, value: Any) -> bytes:
    """The 8-byte value field for a fixed-length single value, unused bytes zero."""
    if isinstance(value, t.RawValue):
        return value.data[:8].ljust(8, b"\0")
    if ptype == t.PT_BOOLEAN:
        return (b"\x01" if value else b"\x00") + bytes(7)
    if ptype in (t.PT_NULL, t.PT_UNSPECIFIED):
        return bytes(8)
    return _element_bytes(ptype, value).ljust(8, b"\0")


def unpack_inline(ptype: int, field: bytes) -> Any:
    """Inverse of :func:`pack_inline`; unknown types come back as RawValue."""
    if ptype == t.PT_BOOLEAN:
        # Only the low byte counts; Outlook writes 01 00 00 00 00 00 00 00.
        return bool(field[0])
    if ptype in _ELEMENT:
        return _element_value(ptype, field[: _ELEMENT[ptype].size])
    return t.RawValue(bytes(field), inline=True)


def element_size(base: int) -> int:
    return 16 if base == t.PT_CLSID else _ELEMENT[base].size


def pack_fixed_mv(ptype: int, values: list[Any]) -> bytes:
    """Values of a fixed-length MV property, back to back ([MS-OXMSG] 2.1.4.1)."""
    base = t.base_type(ptype)
    return b"".join(_element_bytes(base, v) for v in values)


def unpack_fixed_mv(ptype: int, data: bytes) -> list[Any]:
    base = t.base_type(ptype)
    size = element_size(base)
    if len(data) % size:
        raise ValueError(f"stream length {len(data)} is not a multiple of {size}")
    return [_element_value(base, data[i : i + size]) for i in range(0, len(data), size)]
