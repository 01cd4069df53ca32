"""Windows code pages <-> Python codecs, and which code page 8-bit strings use."""

from __future__ import annotations

import codecs

from msgsess.errors import InvalidParameter

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
