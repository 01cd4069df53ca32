"""Text in MIME parts: charsets, code pages, format=flowed, uuencoded blocks (pure).

Mail declares charsets by MIME name; a ``.msg`` records code pages by number
(PR_INTERNET_CPID). Mail also lies about charsets or leaves them out, so
decoding never fails: a declared charset that does not fit falls back to
UTF-8, then Windows-1252, then Latin-1, and says so in a warning.
"""

from __future__ import annotations

import binascii
import codecs
import re
from dataclasses import dataclass

#: MIME charset name (lower case) -> Windows code page, as Outlook records them in PR_INTERNET_CPID.
CHARSET_CODEPAGES: dict[str, int] = {
    "utf-8": 65001,
    "utf8": 65001,
    "utf-7": 65000,
    "unicode-1-1-utf-7": 65000,
    "utf-16": 1200,
    "utf-16le": 1200,
    "utf-16be": 1201,
    "us-ascii": 20127,
    "ascii": 20127,
    "koi8-r": 20866,
    "koi8-u": 21866,
    "iso-2022-jp": 50220,
    "csiso2022jp": 50221,
    "iso-2022-kr": 50225,
    "shift_jis": 932,
    "shift-jis": 932,
    "sjis": 932,
    "x-sjis": 932,
    "windows-31j": 932,
    "cp932": 932,
    "euc-jp": 51932,
    "gb2312": 936,
    "gbk": 936,
    "x-gbk": 936,
    "cp936": 936,
    "gb18030": 54936,
    "hz-gb-2312": 52936,
    "big5": 950,
    "big5-hkscs": 950,
    "ks_c_5601-1987": 949,
    "euc-kr": 51949,
    "cp949": 949,
    "tis-620": 874,
    "windows-874": 874,
    "macintosh": 10000,
    "iso-8859-8-i": 28598,
}
CHARSET_CODEPAGES.update({f"iso-8859-{n}": 28590 + n for n in range(1, 16) if n != 12})
CHARSET_CODEPAGES.update({f"windows-{n}": n for n in range(1250, 1259)})
CHARSET_CODEPAGES.update({f"cp{n}": n for n in range(1250, 1259)})

#: Code page -> the MIME charset name to declare when writing it out.
CODEPAGE_CHARSETS: dict[int, str] = {
    65001: "utf-8",
    20127: "us-ascii",
    20866: "koi8-r",
    21866: "koi8-u",
    50220: "iso-2022-jp",
    50221: "iso-2022-jp",
    50222: "iso-2022-jp",
    50225: "iso-2022-kr",
    932: "shift_jis",
    51932: "euc-jp",
    936: "gb2312",
    54936: "gb18030",
    52936: "hz-gb-2312",
    950: "big5",
    949: "ks_c_5601-1987",
    51949: "euc-kr",
    874: "windows-874",
    10000: "macintosh",
    1200: "utf-16le",
    1201: "utf-16be",
}
CODEPAGE_CHARSETS.update({28590 + n: f"iso-8859-{n}" for n in range(1, 16) if n != 12})
CODEPAGE_CHARSETS.update({n: f"windows-{n}" for n in range(1250, 1259)})

#: Charsets that mail software writes but means a superset of: decode with the superset
#: (what the sending software used), as every mail reader does.
_SUPERSETS = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-2022-jp": "iso2022_jp_ext",
    "iso-8859-8-i": "iso8859-8",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
}


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def codepage_of(charset: str | None) -> int | None:
    """The code page of a MIME charset name, or None for one msgsess does not know."""
    if not charset:
        return None
    return CHARSET_CODEPAGES.get(charset.strip().lower())


def python_codec(charset: str | None) -> str | None:
    """The Python codec that reads a MIME charset, or None when there is none."""
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


@dataclass
class Decoded:
    """Text decoded from bytes, the charset really used, and what went wrong on the way."""

    text: str
    charset: str
    problem: str | None = None


def decode_bytes(raw: bytes, charset: str | None) -> Decoded:
    """Bytes of a text part as text, never failing.

    The declared charset (or its superset) first; without one, or when the bytes do
    not fit it, UTF-8, then Windows-1252, then Latin-1 (which takes any byte).
    """
    codec = python_codec(charset)
    if codec is not None:
        try:
            return Decoded(raw.decode(codec), charset or codec)
        except (UnicodeDecodeError, LookupError):
            pass
    if raw.isascii():
        problem = None if charset is None or codec is not None else f"unknown charset {charset!r}"
        return Decoded(raw.decode("ascii"), "us-ascii", problem)
    if charset is None:
        why = "8-bit text without a charset"
    elif codec is None:
        why = f"unknown charset {charset!r}"
    else:
        why = f"text that is not valid {charset}"
    for fallback in ("utf-8", "windows-1252"):
        try:
            return Decoded(raw.decode(fallback), fallback, f"{why}; read as {fallback}")
        except UnicodeDecodeError:
            continue
    return Decoded(raw.decode("latin-1"), "iso-8859-1", f"{why}; read as iso-8859-1")


def fix_header_text(text: str) -> str:
    """A header value with raw 8-bit bytes (kept by ``email`` as surrogate escapes) as text.

    RFC 6532 makes raw header bytes UTF-8; older mail used the sender's code page, for
    which Windows-1252 is the usual guess.
    """
    if _ESCAPED_BYTE.search(text) is None:
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("windows-1252", "replace")


def clean_text(text: str) -> str:
    """Text a ``.msg`` string can hold: no NUL, no unpaired surrogate (each becomes U+FFFD)."""
    if "\0" in text:
        text = text.replace("\0", "")
    if _SURROGATE.search(text) is not None:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def crlf(text: str) -> str:
    """Line ends as CRLF, as PidTagBody holds them."""
    return re.sub(r"\r\n|\r|\n", "\r\n", text)


def unflow(text: str, *, delsp: bool) -> str:
    """Undo format=flowed ([RFC 3676] 4.1-4.4): join soft line breaks, remove space stuffing.

    Quoted lines keep their quote depth; the signature separator "-- " stays a line of its own.
    """
    out: list[str] = []
    para: list[str] = []
    para_depth = -1

    def flush() -> None:
        nonlocal para, para_depth
        if para_depth >= 0:
            prefix = ">" * para_depth + (" " if para_depth else "")
            out.append(prefix + "".join(para) if "".join(para) or not para_depth else ">" * para_depth)
        para, para_depth = [], -1

    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        if para_depth >= 0 and depth != para_depth:
            flush()
        if content == "-- ":
            flush()
            out.append(">" * depth + (" " if depth else "") + content)
            continue
        para_depth = depth
        if content.endswith(" "):
            para.append(content[:-1] if delsp else content)
            continue
        para.append(content)
        flush()
    flush()
    return "\r\n".join(out) + ("\r\n" if text.endswith(("\n", "\r")) else "")


_UU_BLOCK = re.compile(
    rb"^begin[ \t]+([0-7]{3,4})[ \t]+([^\r\n]+?)[ \t]*\r?\n(.*?)^end[ \t]*(?:\r?\n|\Z)",
    re.MULTILINE | re.DOTALL,
)


@dataclass
class UuFile:
    name: str
    data: bytes


def uu_decode(block: bytes) -> bytes:
    """The lines of one uuencoded block (between ``begin`` and ``end``) as bytes."""
    out = bytearray()
    for line in block.splitlines():
        if not line.strip() or line.strip() == b"`":
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            # Some encoders pad lines wrongly: decode as many bytes as the length byte says.
            chars = (((line[0] - 32) & 63) * 4 + 2) // 3
            out += binascii.a2b_uu(line[: 1 + chars])
    return bytes(out)


def split_uuencoded(raw: bytes) -> tuple[bytes, list[UuFile]]:
    """Uuencoded files embedded in a plain-text body, and the body without them."""
    files: list[UuFile] = []
    kept = bytearray()
    pos = 0
    for m in _UU_BLOCK.finditer(raw):
        try:
            data = uu_decode(m.group(3))
        except binascii.Error:
            continue
        kept += raw[pos : m.start()]
        pos = m.end()
        name = m.group(2).decode("utf-8", "replace").strip().replace("\\", "/").rsplit("/", 1)[-1]
        files.append(UuFile(name or "attachment", data))
    if not files:
        return raw, []
    kept += raw[pos:]
    return bytes(kept), files
