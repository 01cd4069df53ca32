"""Fixed-length values <-> their bytes in a property entry or an MV stream ([MS-OXMSG] 2.4.2.1, 2.1.4.1)."""

from __future__ import annotations

import decimal
import uuid

import pytest

from msgsess.props import binary
from msgsess.props import types as t

GUID = uuid.UUID("00062008-0000-0000-C000-000000000046")


@pytest.mark.parametrize(
    ("ptype", "value", "field"),
    [
        (t.PT_SHORT, -2, "feff000000000000"),
        (t.PT_LONG, 2, "0200000000000000"),
        (t.PT_LONG, 0xFFFFFFFF, "ffffffff00000000"),  # unsigned given, signed kept
        (t.PT_I8, -1, "ffffffffffffffff"),
        (t.PT_BOOLEAN, True, "0100000000000000"),
        (t.PT_DOUBLE, 1.5, "000000000000f83f"),
        (t.PT_FLOAT, 1.5, "0000c03f00000000"),
        (t.PT_CURRENCY, decimal.Decimal("1.5"), "983a000000000000"),  # 15000 ten-thousandths
        (t.PT_SYSTIME, t.FileTime.from_unix(0), "0080 3ed5 deb1 9d01".replace(" ", "")),
    ],
)
def test_inline_values_are_8_bytes_little_endian(ptype: int, value: object, field: str) -> None:
    packed = binary.pack_inline(ptype, value)
    assert packed.hex() == field
    back = binary.unpack_inline(ptype, packed)
    expected = binary.signed(int(value), 32) if ptype == t.PT_LONG else value  # type: ignore[call-overload]
    assert back == expected


def test_a_boolean_counts_only_its_low_byte_and_unknown_types_stay_raw() -> None:
    assert binary.unpack_inline(t.PT_BOOLEAN, b"\x02" + bytes(7)) is True
    raw = binary.unpack_inline(0x00FB, b"12345678")
    assert raw == t.RawValue(b"12345678", inline=True)
    assert binary.pack_inline(0x00FB, raw) == b"12345678"


def test_signed_wraps_the_unsigned_range() -> None:
    assert binary.signed(0xFFFF, 16) == -1 and binary.signed(0x7FFF, 16) == 0x7FFF
    assert binary.signed(2**63, 64) == -(2**63)


def test_fixed_mv_streams_are_values_back_to_back() -> None:
    assert binary.pack_fixed_mv(t.PT_MV_LONG, [1, -1]).hex() == "01000000ffffffff"
    assert binary.unpack_fixed_mv(t.PT_MV_LONG, bytes.fromhex("01000000ffffffff")) == [1, -1]
    clsids = binary.pack_fixed_mv(t.PT_MV_CLSID, [GUID])
    assert clsids == GUID.bytes_le and binary.unpack_fixed_mv(t.PT_MV_CLSID, clsids) == [GUID]
    assert binary.element_size(t.PT_CLSID) == 16 and binary.element_size(t.PT_SHORT) == 2
    with pytest.raises(ValueError, match="not a multiple of 4"):
        binary.unpack_fixed_mv(t.PT_MV_LONG, b"\x00" * 5)
