"""msgsess.props.printable: text from files shown without anything a terminal acts on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msgsess.props.printable import has_surrogates, printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain Ωмega 日本 😀 e\u0301", "plain Ωмega 日本 😀 e\u0301"),  # any script, emoji, combining marks
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\x1b]52;c;SGk=\x07", "\\x1b]52;c;SGk=\\x07"),
        ("\x1b[2J\x00\x7f", "\\x1b[2J\\x00\\x7f"),
        ("\x85\x9b", "\\u0085\\u009b"),  # C1 controls (NEL, CSI)
        ("abc\u202etxt.exe\u2066", "abc\\u202etxt.exe\\u2066"),  # bidirectional controls
        ("line\u2028sep", "line\\u2028sep"),
        ("A\ud800Z", "A\\ud800Z"),
        ("A\udc81Z", "A\\udc81Z"),
    ],
)
def test_what_is_escaped(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_bytes_a_code_page_does_not_define_are_shown_as_bytes() -> None:
    text = b"caf\xe9 \x81".decode("cp1252", "surrogateescape")
    assert printable(text, eight_bit=True) == "café \\x81"
    assert printable(text) == "café \\udc81"  # read from UTF-16 it would be a code unit
    assert has_surrogates(text) and not has_surrogates("café")


@given(st.text(st.characters(exclude_categories=[])))  # surrogates too
def test_the_result_is_one_line_of_valid_utf8_without_controls(text: str) -> None:
    shown = printable(text)
    shown.encode("utf-8")  # no surrogate left
    assert "\n" not in shown and "\r" not in shown
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
