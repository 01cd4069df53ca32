"""values.parse_property: the one value syntax behind --set, set and JSON properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from msgsess.errors import InvalidParameter
from msgsess.props import types as t
from msgsess.props.values import parse_json, parse_property, to_json


def _read(files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    def read(path: str) -> bytes:
        try:
            return files[path]
        except KeyError:
            raise FileNotFoundError(path) from None

    return read


def test_known_types_read_text_in_their_syntax_and_strings_take_any_text() -> None:
    assert parse_property("PidTagSubject", "5", text=True)[1:] == (t.PT_UNICODE, "5")
    assert parse_property("PidTagSubject", '["a"]', text=True)[1:] == (t.PT_UNICODE, '["a"]')
    assert parse_property("PidTagImportance", "0x1", text=True)[1:] == (t.PT_LONG, 1)
    assert parse_property("PidNameKeywords", '["a", "b"]', text=True)[1:] == (t.PT_MV_UNICODE, ["a", "b"])


def test_unknown_types_take_the_json_type_of_the_text() -> None:
    cases = {
        "5": (t.PT_LONG, 5),
        "-5000000000": (t.PT_I8, -5000000000),
        "1.5": (t.PT_DOUBLE, 1.5),
        "false": (t.PT_BOOLEAN, False),
        '["a", "b"]': (t.PT_MV_UNICODE, ["a", "b"]),
        "[1, 2.5]": (t.PT_MV_DOUBLE, [1.0, 2.5]),
        '"5"': (t.PT_UNICODE, "5"),
        "007": (t.PT_UNICODE, "007"),  # no JSON number: text
        "null": (t.PT_UNICODE, "null"),
        "{not json": (t.PT_UNICODE, "{not json"),
        '{"a": 1}': (t.PT_UNICODE, '{"a": 1}'),  # an object that is no typed or raw value: text
        "plain": (t.PT_UNICODE, "plain"),
    }
    for text, expected in cases.items():
        assert parse_property("PS_PUBLIC_STRINGS:X", text, text=True)[1:] == expected, text
        assert parse_property("0x6FF0", text, text=True)[1:] == expected, text


def test_typed_and_raw_objects_work_as_text_and_as_json() -> None:
    for value, text in (({"type": "PT_I8", "value": 5}, True), ({"type": "PT_I8", "value": 5}, False)):
        given = '{"type": "PT_I8", "value": 5}' if text else value
        assert parse_property("PS_PUBLIC_STRINGS:X", given, text=text)[1:] == (t.PT_I8, 5)
    raw = parse_property("PidTagSubject", '{"raw": "base64:AAE="}', text=True)[2]
    assert isinstance(raw, t.RawValue) and raw.data == b"\0\1"
    with pytest.raises(InvalidParameter, match="--type PT_LONG and the value's type PT_I8 differ"):
        parse_property("0x6FF0", '{"type": "PT_I8", "value": 5}', text=True, type_name="PT_LONG")
    with pytest.raises(InvalidParameter, match="PidTagSubject is PT_UNICODE; type PT_LONG does not fit"):
        parse_property("PidTagSubject", {"type": "PT_LONG", "value": 5}, text=False)
    with pytest.raises(InvalidParameter, match="unknown property type 'PT_NOPE'"):
        parse_property("PidTagSubject", {"type": "PT_NOPE", "value": 5}, text=False)


def test_enumerations_are_checked_for_their_own_type_only() -> None:
    with pytest.raises(InvalidParameter, match=r"5 is not one of 0 \(low\), 1 \(normal\), 2 \(high\)"):
        parse_property("PidTagImportance", "5", text=True)
    with pytest.raises(InvalidParameter, match="is not one of 0 \\(normal\\)"):
        parse_property("PR_SENSITIVITY", 4, text=False)
    with pytest.raises(InvalidParameter, match="is not one of"):
        parse_property("PidLidTaskStatus", "9", text=True)
    assert parse_property("PidTagPriority", "-1", text=True)[2] == -1
    # A hex tag forcing another type is another property as far as the tables go.
    assert parse_property("0x00170014", "5", text=True)[1:] == (t.PT_I8, 5)


def test_at_reads_files_for_text_and_binary_and_at_at_escapes() -> None:
    read = _read({"body.txt": "\ufeffHéllo\r\n".encode(), "data.bin": b"\1\2", "latin.txt": b"\xe9"})
    assert parse_property("PidTagBody", "@body.txt", text=True, read_file=read)[2] == "Héllo\r\n"
    assert parse_property("PidTagBody", "@body.txt", text=False, read_file=read)[2] == "Héllo\r\n"
    assert parse_property("PidTagBody", "@@body.txt", text=True, read_file=read)[2] == "@body.txt"
    assert parse_property("PidTagConversationIndex", "@data.bin", text=True, read_file=read)[2] == b"\1\2"
    assert parse_property("PidNameKeywords", '["@@a", "@body.txt"]', text=True, read_file=read)[2] == [
        "@a",
        "Héllo\r\n",
    ]
    with pytest.raises(InvalidParameter, match="not UTF-8 text"):
        parse_property("PidTagBody", "@latin.txt", text=True, read_file=read)
    with pytest.raises(InvalidParameter, match="reads a file, which is not possible here") as info:
        parse_property("PidTagBody", "@body.txt", text=True)  # no reader: close never reads files
    assert "with @@ for a leading @" in (info.value.hint or "")


def test_text_starting_with_at_survives_json() -> None:
    for text in ("@", "@home", "@@x", "plain"):
        form = to_json(t.PT_UNICODE, text)
        assert parse_json(t.PT_UNICODE, form, prop="P") == text
    assert to_json(t.PT_MV_UNICODE, ["@a", "b"]) == ["@@a", "b"]


def test_json_door_huge_number_and_text_door_hint(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_property("PS_PUBLIC_STRINGS:X", "123456789012345678901234567890", text=True)
    assert "quote it" in (info.value.hint or "")
