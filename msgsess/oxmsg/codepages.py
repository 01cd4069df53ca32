"""Windows code pages <-> Python codecs, and which code page 8-bit strings use."""

from __future__ import annotations

import codecs
import re

from msgsess.errors import InvalidParameter, MsgsessError

_SPECIAL: dict[int, str] = {
    65001: "utf-8",
    65000: "utf-7",
    1200: "utf-16-le",
    1201: "utf-16-be",
    20127: "ascii",
    20866: "koi8-r",
    21866: "koi8-u",
    10000: "mac-roman",
    10007: "mac-cyrillic",
    50220: "iso2022-jp",
    50221: "iso2022-jp",
    50222: "iso2022-jp",
    50225: "iso2022-kr",
    51932: "euc-jp",
    51949: "euc-kr",
    52936: "hz",
    54936: "gb18030",
    936: "gbk",
    20936: "gb2312",
    1361: "johab",
}
_SPECIAL.update({28590 + n: f"iso8859-{n}" for n in range(1, 16) if n != 12})

#: Internet (MIME) code pages are never used for 8-bit MAPI properties; these map
#: them to the Windows code page of the same language. Outlook writes Japanese ANSI
#: files with PR_INTERNET_CPID 50220 and cp932 strings ([oxmsg-facts] §4).
_ANSI_FOR_INTERNET: dict[int, int] = {
    50220: 932,
    50221: 932,
    50222: 932,
    51932: 932,
    20932: 932,
    50225: 949,
    51949: 949,
    52936: 936,
    20936: 936,
    28591: 1252,
    28605: 1252,
    28592: 1250,
    28595: 1251,
    20866: 1251,
    21866: 1251,
    28597: 1253,
    28599: 1254,
    28598: 1255,
    28596: 1256,
    28594: 1257,
    20127: 1252,
}


def codec(codepage: int) -> str:
    """The Python codec for a Windows code page; InvalidParameter if there is none."""
    name = _SPECIAL.get(codepage, f"cp{codepage}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InvalidParameter(
            f"code page {codepage} is not supported",
            hint="use a Windows code page such as 1252, 1251, 932 or 65001",
        ) from None


#: Charset names whose Windows code page is not the one the codec table above would give back:
#: Windows writes Shift_JIS as 932, GB2312 as 936, Big5 as 950, EUC-KR as 949, UTF-16 as 1200.
_NAMED: dict[str, int] = {
    "shift_jis": 932,
    "gb2312": 936,
    "big5": 950,
    "big5hkscs": 950,
    "euc_kr": 949,
    "utf-16": 1200,
    "iso2022_jp": 50220,
}
_NUMBERED = re.compile(r"(?:cp|windows|ibm|ms)[-_ ]?([0-9]+)", re.IGNORECASE)
#: Names a completion offers; any codec name Python knows is accepted.
COMMON_NAMES = (
    "1252",
    "1250",
    "1251",
    "1253",
    "1254",
    "1255",
    "1256",
    "1257",
    "1258",
    "874",
    "932",
    "936",
    "949",
    "950",
    "65001",
    "windows-1252",
    "windows-1251",
    "koi8-r",
    "koi8-u",
    "iso-8859-1",
    "iso-8859-15",
    "shift_jis",
    "euc-jp",
    "gb2312",
    "gbk",
    "big5",
    "euc-kr",
    "utf-8",
)


def _by_codec() -> dict[str, int]:
    table: dict[str, int] = {}
    for number, name in sorted(_SPECIAL.items()):
        table.setdefault(codecs.lookup(name).name, number)
    table.update(_NAMED)
    return table


def parse_codepage(text: str) -> int:
    """A code page given by number (``1252``) or by name (``cp1252``, ``windows-1252``,
    ``koi8-r``, ``shift_jis``, any charset name Python's codecs know): its Windows number.

    Names map to the code page Windows uses for that charset (Shift_JIS is 932). Whether the
    code page suits what it is for (8-bit ANSI strings) is the caller's check.
    """
    word = text.strip()
    if word.isdigit():
        return int(word)
    numbered = _NUMBERED.fullmatch(word)
    if numbered:
        return int(numbered.group(1))
    hint = "give a number such as 1252 or 932, or a name such as windows-1252, koi8-r or shift_jis"
    try:
        name = codecs.lookup(word).name
    except (LookupError, ValueError):
        raise InvalidParameter(f"unknown code page {text!r}", hint=hint) from None
    number = _by_codec().get(name)
    if number is None:
        numbered = _NUMBERED.fullmatch(name)
        if numbered is None:
            raise InvalidParameter(f"{text!r} ({name}) has no Windows code page number", hint=hint)
        number = int(numbered.group(1))
    return number


def parse_ansi_codepage(text: str) -> int:
    """:func:`parse_codepage` for the code page ANSI strings are written in.

    The name ``utf-8`` is refused: whoever asks for UTF-8 wants Unicode, which is what a file
    without ``--ansi`` holds. The number 65001 stays possible for 8-bit strings in UTF-8.
    """
    number = parse_codepage(text)
    if number == 65001 and not text.strip().isdigit():
        raise InvalidParameter(
            f"code page {text.strip()!r} is Unicode, not an ANSI code page",
            hint="leave out --ansi to write Unicode strings (65001 writes 8-bit UTF-8 strings, "
            "which few readers expect)",
        )
    return number


def ansi_codepage(message_codepage: int | None, internet_cpid: int | None, fallback: int | None) -> int:
    """Code page of a file's 8-bit strings, in the order [MS-OXCMSG] and practice suggest.

    PR_MESSAGE_CODEPAGE, else PR_INTERNET_CPID (mapped from MIME charsets to their
    Windows code page), else the caller's choice, else 1252.
    """
    return explain_ansi_codepage(message_codepage, internet_cpid, fallback)[0]


def explain_ansi_codepage(
    message_codepage: int | None, internet_cpid: int | None, fallback: int | None
) -> tuple[int, str]:
    """:func:`ansi_codepage` and where the choice came from, for reports.

    The reason is ``"PR_MESSAGE_CODEPAGE 932"``, ``"PR_INTERNET_CPID 50220"``,
    ``"the code page given"`` or ``"the default"``.
    """
    for label, candidate in (("PR_MESSAGE_CODEPAGE", message_codepage), ("PR_INTERNET_CPID", internet_cpid)):
        if candidate:
            windows = _ANSI_FOR_INTERNET.get(candidate, candidate)
            try:
                codec(windows)
            except InvalidParameter:
                continue
            return windows, f"{label} {candidate}"
    if fallback:
        return fallback, "the code page given"
    return 1252, "the default"


def body_codec(codepage: int) -> str:
    """:func:`codec` for text inside a body (PidTagHtml, RTF's ``\\ansicpg`` and ``\\fcharset``):
    ``ValueError`` if there is none, as for any other undecodable body; 0 (``\\fcharset0``
    without a code page) is ANSI, read as Latin-1."""
    if codepage == 0:
        return "latin-1"
    try:
        return codec(codepage)
    except InvalidParameter:
        raise ValueError(f"code page {codepage} has no codec") from None


#: Code pages that are not 8-bit: UTF-16 and UTF-32 in either byte order, and UTF-7.
NOT_8BIT = frozenset({1200, 1201, 12000, 12001, 65000})
#: 7-bit stateful code pages: ISO-2022-JP/KR/CN (escape sequences) and HZ (``~{`` … ``~}``).
STATEFUL = frozenset({50220, 50221, 50222, 50225, 50227, 50229, 52936})
#: Non-ASCII text a stateful codec would write with escape sequences (whichever it can hold).
_STATE_SAMPLE = ("é", "Ж", "あ", "한", "中")


def check_codepage(codepage: int) -> None:
    """Refuse a code page that 8-bit (PtypString8) strings cannot be written in.

    Besides code pages without a codec: UTF-16/UTF-32/UTF-7 and any code page that does not
    write "A" as the byte 0x41 (EBCDIC…): ANSI strings are ASCII-compatible. 65001 (UTF-8) is fine.
    7-bit stateful code pages (ISO-2022-*, HZ: escape sequences in the strings) are refused too.
    """
    hint = "give e.g. 1252, 1251, 932 or 65001"
    stateful = InvalidParameter(
        f"code page {codepage} is a 7-bit stateful code page (ISO-2022 or HZ): ANSI strings "
        "would hold escape sequences",
        hint="use 932 (Japanese), 949 (Korean) or 936 (Chinese), or leave out --ansi",
    )
    if codepage in STATEFUL:
        raise stateful
    if codepage in NOT_8BIT:
        raise InvalidParameter(
            f"code page {codepage} is not an 8-bit code page, which ANSI strings need",
            hint=f"{hint}, or leave out --ansi for Unicode strings",
        )
    try:
        name = codecs.lookup(codec(codepage)).name
        ascii_compatible = "A".encode(name) == b"A"
    except (LookupError, MsgsessError, UnicodeError):
        raise InvalidParameter(f"code page {codepage} is not one msgsess can write", hint=hint) from None
    if not ascii_compatible:
        raise InvalidParameter(
            f"code page {codepage} does not write ASCII as ASCII, which ANSI strings need", hint=hint
        )
    for sample in _STATE_SAMPLE:
        try:
            encoded = sample.encode(name)
        except UnicodeError:
            continue
        if b"\x1b" in encoded or b"~{" in encoded:
            raise stateful
