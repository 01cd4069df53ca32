"""Property types: names both ways, the FILETIME value, raw values ([MS-OXCDATA] 2.11.1)."""

from __future__ import annotations

import datetime as dt

import pytest

from msgsess.props import types as t


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (t.PT_LONG, "PT_LONG"),
        (t.PT_UNICODE, "PT_UNICODE"),
        (t.PT_MV_LONG, "PT_MV_LONG"),
        (t.PT_MV_UNICODE, "PT_MV_UNICODE"),
        (t.PT_BINARY, "PT_BINARY"),
        (t.PT_SYSTIME, "PT_SYSTIME"),
    ],
)
def test_type_names_go_both_ways(code: int, name: str) -> None:
    assert t.type_name(code) == name
    assert t.parse_type_name(name) == code
    assert t.parse_type_name(name.lower()) == code


def test_other_spellings_of_types() -> None:
    assert t.parse_type_name("PtypInteger32") == t.PT_LONG
    assert t.parse_type_name("PtypMultipleString") == t.PT_MV_UNICODE
    assert t.parse_type_name("PT_I4") == t.PT_LONG == t.parse_type_name(" pt_int ")
    assert t.parse_type_name("PT_MV_I2") == t.PT_MV_SHORT
    assert t.parse_type_name("0x0003") == t.PT_LONG
    assert t.type_name(0x1234) == "0x1234" and t.parse_type_name("0x1234") == 0x1234
    for bad in ("PT_NOPE", "0x1FFFF", "0xZZ", ""):
        assert t.parse_type_name(bad) is None


def test_type_predicates() -> None:
    assert t.is_mv(t.PT_MV_BINARY) and not t.is_mv(t.PT_BINARY)
    assert t.base_type(t.PT_MV_LONG) == t.PT_LONG
    assert t.is_string(t.PT_STRING8) and t.is_string(t.PT_MV_UNICODE) and not t.is_string(t.PT_BINARY)
    assert t.is_fixed(t.PT_LONG) and t.is_fixed(t.PT_SYSTIME)
    assert not t.is_fixed(t.PT_UNICODE) and not t.is_fixed(t.PT_BINARY) and not t.is_fixed(t.PT_MV_LONG)


def test_filetime_keeps_every_tick_and_converts_to_utc() -> None:
    when = dt.datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    ft = t.FileTime.from_datetime(when)
    assert ft.to_datetime() == when and ft.to_datetime().tzinfo == dt.UTC
    assert ft.isoformat() == "2024-05-01T07:30:15.123456Z"
    assert t.FileTime(int(ft) + 7).isoformat() == "2024-05-01T07:30:15.1234567Z"  # the 100-ns digit
    assert t.FileTime.from_unix(0).isoformat() == "1970-01-01T00:00:00Z"
    assert t.FileTime(0).isoformat() == "1601-01-01T00:00:00Z"
    assert repr(t.FileTime.from_unix(0)) == "FileTime('1970-01-01T00:00:00Z')"
    with pytest.raises(ValueError, match="naive"):
        t.FileTime.from_datetime(dt.datetime(2024, 5, 1))


def test_a_filetime_beyond_datetime_shows_its_ticks() -> None:
    huge = t.FileTime(2**64 - 1)
    assert huge.to_datetime() is None and huge.isoformat() == str(2**64 - 1)


def test_raw_values_and_currency() -> None:
    assert t.RawValue(b"\x01") == t.RawValue(b"\x01", inline=False)
    assert str(t.currency("1.23456")) == "1.2346"
