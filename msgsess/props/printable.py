"""Text from files made safe to show to a person: nothing a terminal acts on, always valid UTF-8.

A ``.msg`` file may hold anything in its strings: escape sequences that set a terminal's title
or clipboard (OSC 52), clear the screen, or forge whole lines of output with a newline; bytes its
code page does not define; unpaired UTF-16 surrogates. The decoder keeps the last two as lone
surrogates in the ``str`` (U+DC80..U+DCFF for an 8-bit byte, ``surrogateescape``; any surrogate for
a UTF-16 code unit, ``surrogatepass``), so that an unchanged edit writes them back byte for byte.

Every human-readable output passes such text through :func:`printable`: control characters
become ``\\x1b``, ``\\n``, ``\\t``…, an undefined 8-bit byte ``\\xf8``, an unpaired surrogate
``\\ud800``, and the characters that reorder a line on screen (bidirectional controls, line and
paragraph separators) ``\\u202e``. Everything else -- any script, emoji -- stays as it is.
``--json`` is not escaped this way: it shows undecodable strings as ``{"invalid": hex}``
(``msgsess.dump``).
"""

from __future__ import annotations

import re

__all__ = ["has_surrogates", "printable"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Bidirectional controls (Trojan Source), LINE SEPARATOR and PARAGRAPH SEPARATOR.
_REORDER = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_REORDER}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate: bytes or code units that were no text."""
    return _SURROGATE.search(text) is not None


def printable(text: str, *, eight_bit: bool = False) -> str:
    """``text`` with control characters, undecodable bytes and reordering characters escaped.

    ``eight_bit``: the text was decoded from 8-bit code-page bytes, so U+DC80..U+DCFF stand for
    bytes the code page does not define (shown ``\\xNN``); otherwise they are unpaired UTF-16
    surrogates (``\\udcNN``).
    """
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(lambda match: _escape(match.group(), eight_bit), text)


def _escape(char: str, eight_bit: bool) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if eight_bit and 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"
