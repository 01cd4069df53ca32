"""The value syntax: text and JSON -> model values and back."""

from __future__ import annotations

import datetime as dt
import json
import math
import struct
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msgsess.errors import InvalidParameter, NotFound
from msgsess.props import types as t
from msgsess.props.binary import pack_inline, unpack_inline
from msgsess.props.values import infer_type, parse_json, parse_text, to_json, to_text

GUID = uuid.UUID("00062008-0000-0000-C000-000000000046")


def text(ptype: int, value: str, **kwargs: Any) -> Any:
    return parse_text(ptype, value, prop="PidTagTest", **kwargs)


def from_json(ptype: int, value: Any, **kwargs: Any) -> Any:
    return parse_json(ptype, value, prop="PidTagTest", **kwargs)


def read_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


# --- text syntax, accepted -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ptype", "given", "expected"),
    [
        (t.PT_SHORT, "-32768", -32768),
        (t.PT_SHORT, "65535", -1),  # unsigned range accepted, model is signed
        (t.PT_SHORT, "0x7FFF", 32767),
        (t.PT_LONG, "1", 1),
        (t.PT_LONG, " 42 ", 42),
        (t.PT_LONG, "+7", 7),
        (t.PT_LONG, "007", 7),
        (t.PT_LONG, "0x1F", 31),
        (t.PT_LONG, "0X1f", 31),
        (t.PT_LONG, "-0x10", -16),
        (t.PT_LONG, "4294967295", -1),
        (t.PT_LONG, "-2147483648", -(2**31)),
        (t.PT_ERROR, "0x80004005", -2147467259),
        (t.PT_I8, "18446744073709551615", -1),
        (t.PT_I8, "-9223372036854775808", -(2**63)),
        (t.PT_BOOLEAN, "true", True),
        (t.PT_BOOLEAN, "Yes", True),
        (t.PT_BOOLEAN, "ON", True),
        (t.PT_BOOLEAN, "1", True),
        (t.PT_BOOLEAN, "false", False),
        (t.PT_BOOLEAN, "no", False),
        (t.PT_BOOLEAN, "off", False),
        (t.PT_BOOLEAN, "0", False),
        (t.PT_DOUBLE, "1.5", 1.5),
        (t.PT_DOUBLE, "-2e-3", -0.002),
        (t.PT_DOUBLE, ".5", 0.5),
        (t.PT_DOUBLE, "3", 3.0),
        (t.PT_DOUBLE, "-inf", -math.inf),
        (t.PT_FLOAT, "0.5", 0.5),
        (t.PT_FLOAT, "0.1", struct.unpack("<f", struct.pack("<f", 0.1))[0]),
        (t.PT_CURRENCY, "12.3456", Decimal("12.3456")),
        (t.PT_CURRENCY, "-1", Decimal(-1)),
        (t.PT_CURRENCY, "1.50000", Decimal("1.5")),
        (t.PT_CURRENCY, "922337203685477.5807", Decimal("922337203685477.5807")),
        (t.PT_CURRENCY, "-922337203685477.5808", Decimal("-922337203685477.5808")),
        (t.PT_CLSID, "{00062008-0000-0000-C000-000000000046}", GUID),
        (t.PT_CLSID, "00062008-0000-0000-c000-000000000046", GUID),
        (t.PT_UNICODE, "  spaces kept\n", "  spaces kept\n"),
        (t.PT_STRING8, "ANSI is a Unicode model string", "ANSI is a Unicode model string"),
        (t.PT_UNICODE, "", ""),
        (t.PT_BINARY, "hex:0a0B", b"\x0a\x0b"),
        (t.PT_BINARY, "HEX:0a 0b", b"\x0a\x0b"),
        (t.PT_BINARY, "0a0b", b"\x0a\x0b"),
        (t.PT_BINARY, "0x0a0b", b"\x0a\x0b"),
        (t.PT_BINARY, "", b""),
        (t.PT_BINARY, "base64:AAEC", b"\x00\x01\x02"),
        (t.PT_BINARY, "Base64:AA EC", b"\x00\x01\x02"),
        (t.PT_MV_UNICODE, '["red", "green"]', ["red", "green"]),
        (t.PT_MV_STRING8, '["a"]', ["a"]),
        (t.PT_MV_UNICODE, "[]", []),
        (t.PT_MV_LONG, '[1, "0x10", -1]', [1, 16, -1]),
        (t.PT_MV_BINARY, '["hex:00", "base64:AQ=="]', [b"\x00", b"\x01"]),
        (t.PT_MV_CLSID, '["{00062008-0000-0000-C000-000000000046}"]', [GUID]),
        (t.PT_MV_CURRENCY, '[1, "2.5", 0.25]', [Decimal(1), Decimal("2.5"), Decimal("0.25")]),
        (t.PT_MV_DOUBLE, "[1, 2.5]", [1.0, 2.5]),
    ],
)
def test_parse_text(ptype: int, given: str, expected: Any) -> None:
    value = text(ptype, given)
    assert value == expected
    assert type(value) is type(expected)


def test_parse_text_model_types() -> None:
    assert isinstance(text(t.PT_SYSTIME, "2024-05-01T00:00:00Z"), t.FileTime)
    assert isinstance(text(t.PT_CURRENCY, "1"), Decimal)
    assert text(t.PT_CURRENCY, "1.5").as_tuple().exponent == -4  # quantized like types.currency


# --- SYSTIME ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2024-05-01T12:00:00Z", dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)),
        ("2024-05-01t12:00:00z", dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)),
        ("2024-05-01 12:00Z", dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)),
        ("2024-05-01T12:00:00+02:00", dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)),
        ("2024-05-01T12:00:00+0200", dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)),
        ("2024-05-01T12:00:00-05", dt.datetime(2024, 5, 1, 17, tzinfo=dt.UTC)),
        ("2024-05-01T00:30:00+01:00", dt.datetime(2024, 4, 30, 23, 30, tzinfo=dt.UTC)),
        ("2024-05-01", dt.datetime(2024, 5, 1, tzinfo=dt.UTC)),  # a date alone: midnight UTC
        ("1601-01-01T00:00:00Z", dt.datetime(1601, 1, 1, tzinfo=dt.UTC)),
        ("2024-05-01T12:00:00.5Z", dt.datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=dt.UTC)),
        ("2024-05-01T12:00:00,25Z", dt.datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)),
    ],
)
def test_systime_iso(given: str, expected: dt.datetime) -> None:
    assert text(t.PT_SYSTIME, given) == t.FileTime.from_datetime(expected)


def test_systime_seventh_digit_is_kept() -> None:
    value = text(t.PT_SYSTIME, "2024-05-01T12:00:00.1234567Z")
    base = t.FileTime.from_datetime(dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC))
    assert value == base + 1_234_567
    assert value.isoformat() == "2024-05-01T12:00:00.1234567Z"
    # Trailing zeros past the 7th digit are harmless.
    assert text(t.PT_SYSTIME, "2024-05-01T12:00:00.123456700Z") == value


def test_systime_ticks() -> None:
    assert text(t.PT_SYSTIME, "0") == t.FileTime(0)
    assert text(t.PT_SYSTIME, "133590000000000000") == t.FileTime(133590000000000000)
    assert text(t.PT_SYSTIME, "0xFFFFFFFFFFFFFFFF") == t.FileTime(2**64 - 1)
    assert from_json(t.PT_SYSTIME, 116444736000000000) == t.FileTime.from_unix(0)


@given(
    when=st.datetimes(min_value=dt.datetime(1602, 1, 1), max_value=dt.datetime(9998, 12, 31)),
    seventh=st.integers(0, 9),
    offset_minutes=st.integers(-(23 * 60 + 59), 23 * 60 + 59),
)
def test_systime_matches_datetime_arithmetic(when: dt.datetime, seventh: int, offset_minutes: int) -> None:
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    iso = f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond:06d}{seventh}{sign}{hours:02d}:{minutes:02d}"
    expected = t.FileTime.from_datetime(when.replace(tzinfo=zone)) + seventh
    assert text(t.PT_SYSTIME, iso) == expected


def test_naive_systime_is_refused_with_advice() -> None:
    with pytest.raises(InvalidParameter) as info:
        text(t.PT_SYSTIME, "2024-05-01T12:00:00")
    assert str(info.value) == "property PidTagTest (PT_SYSTIME): '2024-05-01T12:00:00' has no UTC offset"
    assert info.value.hint is not None
    assert "give an offset such as Z or +02:00" in info.value.hint


@pytest.mark.parametrize(
    ("given", "what"),
    [
        ("yesterday", "is not a date-time"),
        ("2024-13-01", "is not a valid date-time (month must be in 1..12)"),
        ("2024-02-30T00:00:00Z", "is not a valid date-time (day is out of range for month)"),
        ("2024-05-01T24:00:00Z", "is not a valid date-time (hour must be in 0..23)"),
        ("2024-05-01T12:00:60Z", "is not a valid date-time (second must be in 0..59)"),
        ("2024-05-01T12:00:00+24:00", "has an invalid UTC offset"),
        ("2024-05-01T12:00:00.12345678Z", "has more than 7 fraction digits"),
        ("2024-05-01Z", "is not a date-time"),
        ("1600-12-31T23:59:59Z", "is out of range for PT_SYSTIME"),
        ("1601-01-01T00:30:00+01:00", "is out of range for PT_SYSTIME"),
        ("-1", "is out of range for PT_SYSTIME"),
        ("18446744073709551616", "is out of range for PT_SYSTIME"),
    ],
)
def test_bad_systime(given: str, what: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        text(t.PT_SYSTIME, given)
    assert str(info.value) == f"property PidTagTest (PT_SYSTIME): {given!r} {what}"


# --- APPTIME ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1899-12-30T00:00:00", 0.0),
        ("1899-12-30", 0.0),
        ("2024-05-01T12:00:00", 45413.5),  # Excel/OLE serial 45413 is 2024-05-01
        ("2024-05-01T12:00:00Z", 45413.5),
        ("2024-05-01T14:00:00+02:00", 45413.5),
        ("1900-01-01T06:00:00", 2.25),
        ("1899-12-29T06:00:00", -1.25),  # OLE dates count the time forward before 1899-12-30
        ("45413.5", 45413.5),
        ("-1.25", -1.25),
    ],
)
def test_apptime(given: str, expected: float) -> None:
    assert text(t.PT_APPTIME, given) == expected


def test_apptime_text_shows_the_date() -> None:
    assert to_text(t.PT_APPTIME, 45413.5) == "2024-05-01T12:00:00"
    assert to_text(t.PT_APPTIME, -1.25) == "1899-12-29T06:00:00"
    assert to_text(t.PT_APPTIME, 1e20) == "1e+20"


# --- BINARY from files -----------------------------------------------------------------------


def test_binary_from_file(tmp_path: Path) -> None:
    data = bytes(range(256)) * 3
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert text(t.PT_BINARY, f"@{path}", read_file=read_bytes) == data
    assert from_json(t.PT_BINARY, f"@{path}", read_file=read_bytes) == data
    assert text(t.PT_MV_BINARY, json.dumps([f"@{path}", "hex:ff"]), read_file=read_bytes) == [data, b"\xff"]


def test_binary_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="reads a file, which is not possible here"):
        text(t.PT_BINARY, "@somewhere")
    missing = tmp_path / "missing.bin"
    with pytest.raises(NotFound) as info:
        text(t.PT_BINARY, f"@{missing}", read_file=read_bytes)
    assert str(info.value) == f"property PidTagTest (PT_BINARY): file {str(missing)!r} not found"
    with pytest.raises(InvalidParameter, match="cannot read"):
        text(t.PT_BINARY, f"@{tmp_path}", read_file=read_bytes)
    with pytest.raises(InvalidParameter, match="names no file"):
        text(t.PT_BINARY, "@", read_file=read_bytes)


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ptype", "given", "message", "hint"),
    [
        (
            t.PT_LONG,
            "high",
            "property PidTagTest (PT_LONG): 'high' is not an integer",
            "give a decimal or 0x-hex integer",
        ),
        (
            t.PT_LONG,
            "1.0",
            "property PidTagTest (PT_LONG): '1.0' is not an integer",
            "give a decimal or 0x-hex integer",
        ),
        (
            t.PT_LONG,
            "1_000",
            "property PidTagTest (PT_LONG): '1_000' is not an integer",
            "give a decimal or 0x-hex integer",
        ),
        (
            t.PT_LONG,
            "4294967296",
            "property PidTagTest (PT_LONG): '4294967296' is out of range for PT_LONG",
            "give an integer from -2147483648 to 4294967295",
        ),
        (
            t.PT_SHORT,
            "-32769",
            "property PidTagTest (PT_SHORT): '-32769' is out of range for PT_SHORT",
            "give an integer from -32768 to 65535",
        ),
        (
            t.PT_BOOLEAN,
            "maybe",
            "property PidTagTest (PT_BOOLEAN): 'maybe' is not a boolean",
            "give true/false, yes/no, on/off or 1/0",
        ),
        (
            t.PT_DOUBLE,
            "1,5",
            "property PidTagTest (PT_DOUBLE): '1,5' is not a number",
            "give a decimal number such as 1.5 or 2e-3",
        ),
        (
            t.PT_DOUBLE,
            "1e999",
            "property PidTagTest (PT_DOUBLE): '1e999' is out of range for PT_DOUBLE",
            "give a number within ±1.7e308",
        ),
        (
            t.PT_FLOAT,
            "1e39",
            "property PidTagTest (PT_FLOAT): '1e39' is out of range for PT_FLOAT",
            "give a number within ±3.4e38, or use PT_DOUBLE",
        ),
        (
            t.PT_CURRENCY,
            "1.23456",
            "property PidTagTest (PT_CURRENCY): '1.23456' has more than 4 fraction digits",
            "give a decimal number with at most 4 fraction digits, such as 12.3456",
        ),
        (
            t.PT_CURRENCY,
            "1e3",
            "property PidTagTest (PT_CURRENCY): '1e3' is not a currency amount",
            "give a decimal number with at most 4 fraction digits, such as 12.3456",
        ),
        (
            t.PT_CURRENCY,
            "922337203685477.5808",
            "property PidTagTest (PT_CURRENCY): '922337203685477.5808' is out of range for PT_CURRENCY",
            "give an amount from -922337203685477.5808 to 922337203685477.5807",
        ),
        (
            t.PT_CLSID,
            "{00062008-0000-0000-C000-000000000046",
            "property PidTagTest (PT_CLSID): '{00062008-0000-0000-C000-000000000046' is not a GUID",
            "give a GUID such as {00062008-0000-0000-C000-000000000046}",
        ),
        (
            t.PT_BINARY,
            "0a0",
            "property PidTagTest (PT_BINARY): '0a0' is not hex, base64 or @file",
            "give hex:0a0b…, plain hex, base64:… or @file",
        ),
        (
            t.PT_BINARY,
            "base64:A",
            "property PidTagTest (PT_BINARY): 'base64:A' is not valid base64",
            "give hex:0a0b…, plain hex, base64:… or @file",
        ),
        (
            t.PT_MV_UNICODE,
            "red",
            "property PidTagTest (PT_MV_UNICODE): 'red' is not a JSON array",
            """give a JSON array such as '["red", "green"]'""",
        ),
        (
            t.PT_MV_UNICODE,
            '{"a": 1}',
            """property PidTagTest (PT_MV_UNICODE): '{"a": 1}' is not a JSON array""",
            """give a JSON array such as '["red", "green"]'""",
        ),
        (
            t.PT_MV_LONG,
            '[1, "a"]',
            "property PidTagTest (PT_MV_LONG) item 2: 'a' is not an integer",
            "give a decimal or 0x-hex integer",
        ),
        (
            t.PT_MV_UNICODE,
            '["a", 3]',
            "property PidTagTest (PT_MV_UNICODE) item 2: 3 is not a string",
            "give a JSON string",
        ),
        (
            t.PT_UNICODE,
            "a\0b",
            "property PidTagTest (PT_UNICODE): 'a\\x00b' contains a NUL character",
            "MAPI strings end at the first NUL; remove it",
        ),
        (
            t.PT_OBJECT,
            "x",
            "property PidTagTest (PT_OBJECT): 'x' cannot be given as a value",
            "attach a file or an embedded message instead",
        ),
    ],
)
def test_text_errors(ptype: int, given: str, message: str, hint: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        text(ptype, given)
    assert str(info.value) == message
    assert info.value.hint == hint
    assert info.value.exit_code == 3


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(InvalidParameter) as info:
        text(t.PT_LONG, "x" * 500)
    assert str(info.value) == f"property PidTagTest (PT_LONG): '{'x' * 39}…' is not an integer"
    # The property is where the problem is, not part of it: callers add their places outside it.
    assert info.value.where == ("property PidTagTest (PT_LONG)",)
    assert info.value.message == f"'{'x' * 39}…' is not an integer"


def test_surrogates_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="unpaired surrogate"):
        from_json(t.PT_UNICODE, json.loads('"\\ud800"'))


# --- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ptype", "given", "expected"),
    [
        (t.PT_LONG, 5, 5),
        (t.PT_LONG, "0x10", 16),
        (t.PT_LONG, 4294967295, -1),
        (t.PT_BOOLEAN, True, True),
        (t.PT_BOOLEAN, 0, False),
        (t.PT_BOOLEAN, "yes", True),
        (t.PT_DOUBLE, 2, 2.0),
        (t.PT_DOUBLE, "NaN", math.nan),
        (t.PT_DOUBLE, "Infinity", math.inf),
        (t.PT_APPTIME, 45413, 45413.0),
        (t.PT_APPTIME, "2024-05-01T12:00:00", 45413.5),
        (t.PT_CURRENCY, "1.25", Decimal("1.25")),
        (t.PT_CURRENCY, 3, Decimal(3)),
        (t.PT_CURRENCY, 0.1, Decimal("0.1")),
        (t.PT_SYSTIME, "2024-05-01", t.FileTime.from_datetime(dt.datetime(2024, 5, 1, tzinfo=dt.UTC))),
        (t.PT_SYSTIME, 5, t.FileTime(5)),
        (t.PT_CLSID, "{00062008-0000-0000-C000-000000000046}", GUID),
        (t.PT_BINARY, "base64:AAE=", b"\x00\x01"),
        (t.PT_UNICODE, "1", "1"),
        (t.PT_MV_UNICODE, ["red", "green"], ["red", "green"]),
        (t.PT_MV_SYSTIME, ["1601-01-01T00:00:00Z", 1], [t.FileTime(0), t.FileTime(1)]),
        (t.PT_SVREID, {"raw": "hex:0102"}, t.RawValue(b"\x01\x02")),
        (t.PT_NULL, {"raw": "base64:"}, t.RawValue(b"", inline=True)),
        (t.PT_UNICODE, {"raw": "hex:41", "inline": False}, t.RawValue(b"A")),
        (t.MV_FLAG | t.PT_BOOLEAN, {"raw": "hex:01"}, t.RawValue(b"\x01")),
    ],
)
def test_parse_json(ptype: int, given: Any, expected: Any) -> None:
    value = from_json(ptype, given)
    if isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == expected
        assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("ptype", "given", "message"),
    [
        (t.PT_LONG, True, "property PidTagTest (PT_LONG): true is not an integer"),
        (t.PT_LONG, 1.5, "property PidTagTest (PT_LONG): 1.5 is not an integer"),
        (t.PT_LONG, None, "property PidTagTest (PT_LONG): null is not an integer"),
        (t.PT_I8, 2**64, "property PidTagTest (PT_I8): 18446744073709551616 is out of range for PT_I8"),
        (t.PT_BOOLEAN, 2, "property PidTagTest (PT_BOOLEAN): 2 is not a boolean"),
        (t.PT_DOUBLE, [1], "property PidTagTest (PT_DOUBLE): [1] is not a number"),
        (
            t.PT_DOUBLE,
            10**400,
            f"property PidTagTest (PT_DOUBLE): {'1' + '0' * 38}… is out of range for PT_DOUBLE",
        ),
        (t.PT_CURRENCY, False, "property PidTagTest (PT_CURRENCY): false is not a currency amount"),
        (t.PT_CURRENCY, 0.00001, "property PidTagTest (PT_CURRENCY): 1e-05 has more than 4 fraction digits"),
        (t.PT_SYSTIME, -1, "property PidTagTest (PT_SYSTIME): -1 is out of range for PT_SYSTIME"),
        (t.PT_SYSTIME, 1.5, "property PidTagTest (PT_SYSTIME): 1.5 is not a date-time"),
        (t.PT_CLSID, 5, "property PidTagTest (PT_CLSID): 5 is not a GUID string"),
        (t.PT_BINARY, [1, 2], "property PidTagTest (PT_BINARY): [1, 2] is not a binary string"),
        (t.PT_UNICODE, 5, "property PidTagTest (PT_UNICODE): 5 is not a string"),
        (t.PT_MV_LONG, 5, "property PidTagTest (PT_MV_LONG): 5 is not a JSON array"),
        (t.PT_SVREID, "0102", "property PidTagTest (0x00FB): '0102' cannot be given for type 0x00FB"),
        (t.PT_BINARY, {"raw": 5}, 'property PidTagTest (PT_BINARY): {"raw": 5} is not a raw value'),
        (
            t.PT_BINARY,
            {"raw": "", "x": 1},
            'property PidTagTest (PT_BINARY): {"raw": "", "x": 1} is not a raw value',
        ),
    ],
)
def test_json_errors(ptype: int, given: Any, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        from_json(ptype, given)
    assert str(info.value) == message


# --- to_json / to_text -----------------------------------------------------------------------


def test_to_json_forms() -> None:
    assert to_json(t.PT_SYSTIME, t.FileTime(0)) == "1601-01-01T00:00:00Z"
    assert to_json(t.PT_SYSTIME, t.FileTime(2**64 - 1)) == str(2**64 - 1)
    assert to_json(t.PT_CURRENCY, Decimal("1.5000")) == "1.5000"
    assert to_json(t.PT_CURRENCY, Decimal("1E+3")) == "1000"
    assert to_json(t.PT_CLSID, GUID) == "{00062008-0000-0000-C000-000000000046}"
    assert to_json(t.PT_BINARY, b"\x00\x01") == "base64:AAE="
    assert to_json(t.PT_FLOAT, text(t.PT_FLOAT, "0.1")) == 0.1
    assert to_json(t.PT_DOUBLE, math.inf) == "Infinity"
    assert to_json(t.PT_DOUBLE, -math.inf) == "-Infinity"
    assert to_json(t.PT_DOUBLE, math.nan) == "NaN"
    assert to_json(t.PT_MV_CLSID, [GUID]) == ["{00062008-0000-0000-C000-000000000046}"]
    assert to_json(t.PT_SVREID, t.RawValue(b"\x01")) == {"raw": "base64:AQ=="}
    assert to_json(t.PT_SVREID, t.RawValue(b"\x01", inline=True)) == {"raw": "base64:AQ==", "inline": True}
    assert to_json(t.PT_NULL, t.RawValue(b"")) == {"raw": "base64:", "inline": False}
    assert to_json(t.PT_SVREID, b"\x01") == {"raw": "base64:AQ=="}
    with pytest.raises(InvalidParameter, match="must be kept as raw bytes"):
        to_json(t.PT_SVREID, 5)


def test_nan_round_trips() -> None:
    assert math.isnan(from_json(t.PT_DOUBLE, to_json(t.PT_DOUBLE, math.nan)))
    assert math.isnan(from_json(t.PT_FLOAT, to_json(t.PT_FLOAT, math.nan)))


def test_to_text() -> None:
    assert to_text(t.PT_LONG, -1) == "-1"
    assert to_text(t.PT_ERROR, -2147467259) == "0x80004005"
    assert to_text(t.PT_BOOLEAN, True) == "true"
    assert to_text(t.PT_DOUBLE, 1.5) == "1.5"
    assert to_text(t.PT_FLOAT, text(t.PT_FLOAT, "0.1")) == "0.1"
    assert to_text(t.PT_CURRENCY, Decimal("2.5000")) == "2.5000"
    assert to_text(t.PT_SYSTIME, t.FileTime(1)) == "1601-01-01T00:00:00.0000001Z"
    assert to_text(t.PT_CLSID, GUID) == "{00062008-0000-0000-C000-000000000046}"
    assert to_text(t.PT_UNICODE, "line 1\r\nline 2") == "line 1\\nline 2"
    assert to_text(t.PT_UNICODE, "x" * 100) == "x" * 79 + "…"
    assert to_text(t.PT_UNICODE, "x" * 100, width=0) == "x" * 100
    assert to_text(t.PT_MV_UNICODE, ["red", "grün"]) == '["red", "grün"]'
    assert to_text(t.PT_BINARY, b"\x0a\x0b") == "hex:0a0b"
    long_binary = to_text(t.PT_BINARY, bytes(1000))
    assert long_binary.endswith("… (1000 bytes)")
    assert len(long_binary) == 80
    assert to_text(t.PT_SVREID, t.RawValue(b"\xff")) == "raw:ff"


def test_short_text_forms_parse_back() -> None:
    for ptype, value in [
        (t.PT_LONG, -5),
        (t.PT_BOOLEAN, False),
        (t.PT_DOUBLE, 0.3),
        (t.PT_CURRENCY, Decimal("-7.125")),
        (t.PT_SYSTIME, t.FileTime(133590000001234567)),
        (t.PT_CLSID, GUID),
        (t.PT_BINARY, b"\x01\x02"),
        (t.PT_MV_LONG, [1, 2]),
        (t.PT_UNICODE, "plain"),
    ]:
        assert text(ptype, to_text(ptype, value)) == value


# --- infer_type ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, t.PT_BOOLEAN),
        (1, t.PT_LONG),
        (-(2**31), t.PT_LONG),
        (2**31, t.PT_I8),
        (2**64 - 1, t.PT_I8),
        (1.5, t.PT_DOUBLE),
        ("x", t.PT_UNICODE),
        (Decimal("1.5"), t.PT_CURRENCY),
        (t.FileTime(5), t.PT_SYSTIME),
        (GUID, t.PT_CLSID),
        (b"x", t.PT_BINARY),
        (["a", "b"], t.PT_MV_UNICODE),
        ([], t.PT_MV_UNICODE),
        ([1, 2], t.PT_MV_LONG),
        ([1, 2**40], t.PT_MV_I8),
        ([1, 2.5], t.PT_MV_DOUBLE),
        ([b"a"], t.PT_MV_BINARY),
    ],
)
def test_infer_type(value: Any, expected: int) -> None:
    assert infer_type(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "cannot tell the property type of null"),
        ({"a": 1}, 'cannot tell the property type of {"a": 1}'),
        (2**64, "18446744073709551616 is too large for a 64-bit integer"),
        (["a", 1], 'cannot tell the property type of ["a", 1]: its items differ in type'),
        ([True], "there is no multi-valued form of PT_BOOLEAN for [true]"),
    ],
)
def test_infer_type_errors(value: Any, message: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        infer_type(value)
    assert str(info.value) == message


def test_inferred_type_parses_the_value() -> None:
    for value in [True, 7, 2**40, 2.5, "x", ["a"], [1, 2], [1.5]]:
        ptype = infer_type(value)
        assert from_json(ptype, value) == value


# --- round trips (hypothesis) ----------------------------------------------------------------

_STRINGS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"))
_FLOAT32 = st.floats(width=32, allow_nan=False)
_DOUBLES = st.floats(allow_nan=False)
_CURRENCY = st.integers(-(2**63), 2**63 - 1).map(lambda n: Decimal(n).scaleb(-4))

SCALARS: dict[int, st.SearchStrategy[Any]] = {
    t.PT_SHORT: st.integers(-(2**15), 2**15 - 1),
    t.PT_LONG: st.integers(-(2**31), 2**31 - 1),
    t.PT_ERROR: st.integers(-(2**31), 2**31 - 1),
    t.PT_I8: st.integers(-(2**63), 2**63 - 1),
    t.PT_BOOLEAN: st.booleans(),
    t.PT_FLOAT: _FLOAT32,
    t.PT_DOUBLE: _DOUBLES,
    t.PT_APPTIME: _DOUBLES,
    t.PT_CURRENCY: _CURRENCY,
    t.PT_SYSTIME: st.integers(0, 2**64 - 1).map(t.FileTime),
    t.PT_CLSID: st.uuids(),
    t.PT_BINARY: st.binary(),
    t.PT_UNICODE: _STRINGS,
}
ALL_TYPES: dict[int, st.SearchStrategy[Any]] = {
    **SCALARS,
    **{mv: st.lists(SCALARS[t.base_type(mv)], max_size=5) for mv in t.MV_TYPES if mv != t.PT_MV_STRING8},
}


def _through_json(value: Any) -> Any:
    """What a real JSON document gives back: the value must survive strict serialization."""
    return json.loads(json.dumps(value, allow_nan=False))


@pytest.mark.parametrize("ptype", sorted(ALL_TYPES), ids=t.type_name)
def test_json_round_trip(ptype: int) -> None:
    @given(ALL_TYPES[ptype])
    def check(value: Any) -> None:
        assert from_json(ptype, _through_json(to_json(ptype, value))) == value

    check()


@pytest.mark.parametrize("ptype", sorted(ALL_TYPES), ids=t.type_name)
def test_text_round_trip(ptype: int) -> None:
    """The JSON form, written on a command line, parses to the same value."""

    @given(ALL_TYPES[ptype])
    def check(value: Any) -> None:
        form = to_json(ptype, value)
        written = form if isinstance(form, str) and ptype in SCALARS else json.dumps(form, allow_nan=False)
        assert text(ptype, written) == value

    check()


@given(
    st.sampled_from([t.PT_SVREID, t.PT_SRESTRICT, t.PT_ACTIONS, t.PT_NULL, t.MV_FLAG | t.PT_BOOLEAN]),
    st.binary(),
    st.booleans(),
)
def test_raw_round_trip(ptype: int, data: bytes, inline: bool) -> None:
    value = t.RawValue(data, inline=inline)
    assert from_json(ptype, _through_json(to_json(ptype, value))) == value


@pytest.mark.parametrize("ptype", sorted(t.FIXED_SIZES.keys() & SCALARS.keys()), ids=t.type_name)
def test_parsed_fixed_values_survive_the_binary_codec(ptype: int) -> None:
    """What the text syntax yields is exactly what a file stores and gives back."""

    @given(SCALARS[ptype])
    def check(value: Any) -> None:
        parsed = text(ptype, json.dumps(to_json(ptype, value)).strip('"'))
        assert unpack_inline(ptype, pack_inline(ptype, parsed)) == parsed

    check()


# --- issue 9, item 9: integers with thousands of digits and arrays nested thousands deep -----


@pytest.mark.parametrize("ptype", [t.PT_LONG, t.PT_I8, t.PT_SHORT, t.PT_SYSTIME, t.PT_MV_LONG])
@pytest.mark.parametrize("digits", ["9" * 5000, "0x" + "f" * 5000, "-" + "1" * 101])
def test_integer_text_of_thousands_of_digits_is_out_of_range(ptype: int, digits: str) -> None:
    given_text = f"[{digits}]" if ptype in t.MV_TYPES else digits
    with pytest.raises(InvalidParameter) as info:
        text(ptype, given_text)  # before: internal ValueError (int() takes at most 4300 digits)
    if ptype not in t.MV_TYPES:  # an MV's JSON text fails as JSON
        assert "is out of range" in str(info.value)


def test_arrays_nested_thousands_deep_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="nests arrays too deeply"):
        text(t.PT_MV_LONG, "[" * 3000 + "]" * 3000)  # before: internal RecursionError
