"""RTF bodies (pure, no I/O): HTML encapsulated in RTF, compressed RTF, and reading RTF back.

* ``html_to_rtf`` encapsulates an HTML body in RTF the way Outlook stores HTML mail
  ([MS-OXRTFEX] 2.1.3): every piece of markup is kept verbatim in ``{\\*\\htmltagN …}``
  destination groups, visible text is shared between the RTF rendering and the HTML, and RTF
  that exists only for display is fenced with ``\\htmlrtf … \\htmlrtf0``. ``text_to_rtf``
  does the same for plain text.
* ``html_from_rtf`` is the reverse (de-encapsulation, [MS-OXRTFEX] 2.2.3.2); ``rtf_to_text``
  derives a plain-text body (PidTagBody) from RTF.
* ``compress``/``decompress`` wrap PidTagRtfCompressed ([MS-OXRTFCP]).
"""

from __future__ import annotations

import html as html_lib
import re
import struct
import zlib
from dataclasses import dataclass, replace

import compressed_rtf

from msgsess.oxmsg import codepages
from msgsess.oxmsg.html import BLOCK_ELEMENTS, HEAD_ELEMENTS, VOID_ELEMENTS, HtmlToken, tokenize

__all__ = ["compress", "decompress", "html_from_rtf", "html_to_rtf", "rtf_to_text", "text_to_rtf"]

# ---------------------------------------------------------------------------------------------
# HTMLTagParameter flags, [MS-OXRTFEX] 2.1.3.1.4.1
# ---------------------------------------------------------------------------------------------
# Destination: where the fragment sat relative to <HTML>, <HEAD> and <BODY>.
INBODY = 0x0000
INHEAD = 0x0001
INHTML = 0x0002
OUTHTML = 0x0003
# TagType: what the fragment is.
TAG_TEXT = 0x0000
TAG_HTML = 0x0010
TAG_HEAD = 0x0020
TAG_BODY = 0x0030
TAG_P = 0x0040
TAG_STARTP = 0x0050
TAG_ENDP = 0x0060
TAG_BR = 0x0070
TAG_PRE = 0x0080
TAG_FONT = 0x0090
TAG_HEADER = 0x00A0
TAG_TITLE = 0x00B0
TAG_UNK = 0x00F0
# Other flags.
FLAG_INPAR = 0x0004
FLAG_CLOSE = 0x0008

_RTF_HEADER_FONTS = (
    b"{\\fonttbl{\\f0\\fswiss\\fcharset0 Arial;}{\\f1\\fmodern\\fcharset0 Courier New;}"
    b"{\\f2\\fnil\\fcharset2 Symbol;}}\r\n"
    b"{\\colortbl\\red0\\green0\\blue0;\\red5\\green99\\blue193;}\r\n"
)
# Elements that hold a paragraph's worth of text: fragments inside them get FLAG_INPAR.
_PARAGRAPH_ELEMENTS = frozenset(
    {"p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "dt", "dd", "caption", "address"}
)
# Elements whose start or end begins a new line in the RTF rendering.
_LINE_ELEMENTS = frozenset(
    {"p", "li", "tr", "div", "table", "pre", "blockquote", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
)
# Known HTML tag names (anything else, e.g. Word's <o:p>, is TAG_UNK as Outlook writes it).
_INLINE_ELEMENTS = frozenset(
    {
        "a",
        "abbr",
        "acronym",
        "b",
        "bdi",
        "bdo",
        "big",
        "button",
        "cite",
        "code",
        "del",
        "dfn",
        "em",
        "i",
        "img",
        "input",
        "ins",
        "kbd",
        "label",
        "map",
        "mark",
        "nobr",
        "q",
        "s",
        "samp",
        "select",
        "small",
        "strike",
        "strong",
        "sub",
        "sup",
        "textarea",
        "tt",
        "u",
        "var",
        "wbr",
        "area",
        "col",
        "colgroup",
        "option",
        "optgroup",
        "object",
        "embed",
        "param",
        "iframe",
    }
)


# ---------------------------------------------------------------------------------------------
# RTF escaping
# ---------------------------------------------------------------------------------------------
def _rtf_unicode(ch: str) -> str:
    """``\\uN?`` for one character: N is a signed 16-bit value; beyond the BMP, a surrogate pair."""
    code = ord(ch)
    units = [code] if code <= 0xFFFF else [0xD800 + ((code - 0x10000) >> 10), 0xDC00 + (code & 0x3FF)]
    return "".join(f"\\u{u - 0x10000 if u >= 0x8000 else u}?" for u in units)


def _rtf_escape(text: str) -> str:
    """Escape text for an RTF body or an htmltag group: 7-bit ASCII output only.

    Inside htmltag groups every character must come back exactly ([MS-OXRTFEX] 2.1.3.1.4.2):
    ``\\{ \\} \\\\``, ``\\tab`` for TAB, ``\\'hh`` for other control characters (CR and LF
    included, so line ends are kept byte for byte rather than normalised by ``\\par``), and
    ``\\uN?`` above 0x7F.
    """
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\tab ")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\'{code:02x}")
        elif code < 0x7F:
            out.append(ch)
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"lone surrogate U+{code:04X} cannot be written to RTF")
        else:
            out.append(_rtf_unicode(ch))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# HTML -> RTF encapsulation, [MS-OXRTFEX] 2.1.3.2
# ---------------------------------------------------------------------------------------------
_CONTROL_RUN = re.compile(r"[ \t\f]*[\r\n][\s]*|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")


class _Encapsulator:
    """Turns HTML tokens into the RTF body; htmltag parameters follow what Outlook writes.

    Checked against Outlook's files: <html> 19, <head> 34, <meta>/<link> 161, <style> and
    comments in <head> 241, <body> 50, <div> 96, <p> 64, <span> 148 inside a paragraph,
    <a>/<img>/entities 84 inside a paragraph, closing tags add CLOSE (8).
    """

    def __init__(self, tokens: list[HtmlToken]) -> None:
        self.tokens = tokens
        has_html = any(t.kind == "tag" and t.name == "html" and not t.end for t in tokens)
        # Where we are: OUTHTML before <html> (when there is one), then INHTML/INHEAD/INBODY.
        self.where = OUTHTML if has_html else INBODY
        self.open: list[str] = []  # open elements (lower-case names), body only
        self.out: list[str] = []
        self.line_has_text = False

    # -- output helpers ------------------------------------------------------------------------
    def tag_group(self, param: int, content: str) -> None:
        self.out.append(f"\r\n{{\\*\\htmltag{param} {_rtf_escape(content)}}}")

    def display(self, rtf: str) -> None:
        """RTF that is only for display: ignored by de-encapsulation ([MS-OXRTFEX] 2.1.3.1.3)."""
        self.out.append(f"{{\\htmlrtf {rtf}\\htmlrtf0}}")

    def visible(self, text: str) -> None:
        if text:
            self.out.append(_rtf_escape(text))
            self.line_has_text = True

    def end_line(self) -> None:
        if self.line_has_text:
            self.display("\\par ")
            self.line_has_text = False

    # -- flags ---------------------------------------------------------------------------------
    def in_paragraph(self) -> int:
        return FLAG_INPAR if any(name in _PARAGRAPH_ELEMENTS for name in self.open) else 0

    def content_dest(self, name: str = "") -> int:
        """Destination for content (not html/head/body tags) at the current position."""
        if self.where == INHEAD:
            return INHEAD
        if self.where in (INHTML, OUTHTML) and name in HEAD_ELEMENTS:
            return INHEAD if self.where == INHTML else OUTHTML
        if self.where == INHTML and name:
            self.where = INBODY  # body content without <body>: the body is implied
        return INBODY if self.where in (INHTML, INBODY) and name else self.where

    # -- tokens --------------------------------------------------------------------------------
    def run(self) -> str:
        for tok in self.tokens:
            if tok.kind == "tag":
                self.on_tag(tok)
            elif tok.kind in ("comment", "decl"):
                inpar = self.in_paragraph() if self.where == INBODY else 0
                self.tag_group(TAG_UNK | self.where | inpar, tok.raw)
            elif tok.kind == "raw":
                self.tag_group(TAG_UNK | self.content_dest(tok.name), tok.raw)
            elif tok.kind == "entity":
                self.on_entity(tok)
            else:
                self.on_text(tok.raw)
        return "".join(self.out)

    def on_tag(self, tok: HtmlToken) -> None:
        name, raw = tok.name, tok.raw
        if name == "html":
            self.tag_group(TAG_HTML | FLAG_CLOSE | OUTHTML if tok.end else TAG_HTML | OUTHTML, raw)
            self.where = OUTHTML if tok.end else INHTML
            return
        if name == "head":
            if tok.end:
                self.tag_group(TAG_HEAD | FLAG_CLOSE | INHEAD, raw)
                self.where = INHTML
            else:
                self.tag_group(TAG_HEAD | INHTML, raw)
                self.where = INHEAD
            return
        if name == "body":
            if tok.end:
                self.end_line()
                self.tag_group(TAG_BODY | FLAG_CLOSE | INHTML, raw)
                self.where = INHTML
                self.open.clear()
            else:
                self.tag_group(TAG_BODY | INHTML, raw)
                self.where = INBODY
            return
        dest = self.content_dest(name)
        if dest == INHEAD or (dest == OUTHTML and name in HEAD_ELEMENTS):
            kind = {"title": TAG_TITLE, "style": TAG_UNK, "script": TAG_UNK}.get(name, TAG_HEADER)
            self.tag_group(kind | (FLAG_CLOSE if tok.end else 0) | dest, raw)
            return
        if tok.end:
            self.close_element(name, raw)
        else:
            self.open_element(name, raw)

    def kind_of(self, name: str) -> int:
        if name == "p":
            return TAG_P
        if name == "br":
            return TAG_BR
        if name in ("pre", "xmp", "listing"):
            return TAG_PRE
        if name in ("font", "span"):
            return TAG_FONT
        if name in BLOCK_ELEMENTS:
            return TAG_ENDP  # Outlook writes 0x60 for block elements such as <div>
        if name in _INLINE_ELEMENTS:
            return TAG_STARTP  # Outlook writes 0x50 (+INPAR) for <a>, <i>, <img>, entities
        return TAG_UNK

    def open_element(self, name: str, raw: str) -> None:
        kind = self.kind_of(name)
        inpar = 0 if kind in (TAG_P, TAG_ENDP, TAG_PRE) else self.in_paragraph()
        if name in _LINE_ELEMENTS and name not in ("ul", "ol"):
            self.end_line()
        self.tag_group(kind | inpar | INBODY, raw)
        if name == "br":
            self.display("\\line ")
            self.line_has_text = False
        elif name == "li":
            self.display("\\bullet\\tab ")
        elif name in ("td", "th") and self.line_has_text:
            self.display("\\tab ")
        if name not in VOID_ELEMENTS and not raw.endswith("/>"):
            self.open.append(name)

    def close_element(self, name: str, raw: str) -> None:
        if name in self.open:
            idx = len(self.open) - 1 - self.open[::-1].index(name)
            del self.open[idx:]
        kind = self.kind_of(name)
        inpar = 0 if kind in (TAG_P, TAG_ENDP, TAG_PRE) else self.in_paragraph()
        self.tag_group(kind | FLAG_CLOSE | inpar | INBODY, raw)
        if name in _LINE_ELEMENTS:
            self.end_line()

    def on_entity(self, tok: HtmlToken) -> None:
        dest = self.content_dest()
        if dest != INBODY:
            self.tag_group(TAG_TEXT | dest, tok.raw)
            return
        self.tag_group(TAG_STARTP | self.in_paragraph() | INBODY, tok.raw)
        shown = html_lib.unescape(tok.raw)
        if shown:
            self.display(_rtf_escape(shown))
            self.line_has_text = True

    def on_text(self, text: str) -> None:
        dest = self.content_dest()
        if dest != INBODY and (dest == INHEAD or not text.strip()):
            self.tag_group(TAG_TEXT | dest, text)
            return
        if dest != INBODY:
            self.where = INBODY  # visible text outside <body>: browsers show it as body text
        pos = 0
        for m in _CONTROL_RUN.finditer(text):
            self.visible(text[pos : m.start()])
            self.tag_group(TAG_TEXT | self.in_paragraph() | INBODY, m.group(0))
            if m.start() > 0 and m.end() < len(text) and m.group(0).strip(" \t\r\n") == "":
                self.display(" ")  # a line break in HTML source shows as one space
            pos = m.end()
        self.visible(text[pos:])


def html_to_rtf(html: str) -> bytes:
    """RTF (ASCII bytes) that encapsulates ``html`` ([MS-OXRTFEX] 2.1.3.2).

    De-encapsulating the result gives back exactly ``html``.
    """
    body = _Encapsulator(tokenize(html)).run()
    head = (
        b"{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0" + _RTF_HEADER_FONTS + b"{\\*\\htmltag64}\r\n"
        b"\\uc1\\pard\\plain\\deftab360 \\f0\\fs20 "
    )
    return head + body.encode("ascii") + b"\r\n}"


def text_to_rtf(text: str) -> bytes:
    """RTF (ASCII bytes) for a plain-text body, marked ``\\fromtext`` ([MS-OXRTFEX] 2.1.3.1.2)."""
    parts: list[str] = []
    for line_no, line in enumerate(re.split(r"\r\n|\r|\n", text)):
        if line_no:
            parts.append("\\par\r\n")
        parts.append(_rtf_escape(line))
    head = b"{\\rtf1\\ansi\\ansicpg1252\\fromtext \\deff0" + _RTF_HEADER_FONTS
    head += b"\\uc1\\pard\\plain\\deftab360 \\f0\\fs20 "
    return head + "".join(parts).encode("ascii") + b"\r\n}"


# ---------------------------------------------------------------------------------------------
# Compressed RTF, [MS-OXRTFCP]
# ---------------------------------------------------------------------------------------------
#: The dictionary's initial content ([MS-OXRTFCP] 2.1.2.1); writing starts after it.
_LZFU_PREFIX = (
    b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\"
    b"fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New "
    b"RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\"
    b"f0\\fs20\\b\\i\\u\\tab\\tx"
)
_LZFU_WINDOW = 4096
_LZFU_MAX = 17  # a reference's 4-bit length field holds length - 2
_LZFU_TRIES = 16  # earlier occurrences tried for a longer match


def compress(rtf: bytes) -> bytes:
    """PidTagRtfCompressed for ``rtf``: LZFu compressed ([MS-OXRTFCP] 2.1.3.1).

    Our own encoder: the reference implementation's searches every window position for
    every byte (seconds for a 20 KB body); this one looks up earlier occurrences of the next
    three bytes with ``bytes.rfind``. Any valid LZFu stream decompresses to the same RTF.
    """
    stream = _LZFU_PREFIX + rtf
    start = len(_LZFU_PREFIX)
    out = bytearray()
    control_at, bit = -1, 8
    i = start
    end = len(stream)
    while True:
        if bit == 8:
            control_at, bit = len(out), 0
            out.append(0)
        if i >= end:
            # The end: a reference to the current write position ([MS-OXRTFCP] 2.1.3.1.5).
            out[control_at] |= 1 << bit
            out += ((i % _LZFU_WINDOW) << 4).to_bytes(2, "big")
            break
        best_len, best_at = 0, 0
        if i + 2 < end:
            key = stream[i : i + 3]
            low = max(0, i - _LZFU_WINDOW + 1)
            limit = i + 2
            for _ in range(_LZFU_TRIES):
                found = stream.rfind(key, low, limit)
                if found < 0:
                    break
                length = 3
                longest = min(_LZFU_MAX, end - i)
                while length < longest and stream[found + length] == stream[i + length]:
                    length += 1
                if length > best_len:
                    best_len, best_at = length, found
                    if length == longest:
                        break
                limit = found + 2
        if best_len >= 3:
            out[control_at] |= 1 << bit
            out += (((best_at % _LZFU_WINDOW) << 4) | (best_len - 2)).to_bytes(2, "big")
            i += best_len
        else:
            out.append(stream[i])
            i += 1
        bit += 1
    crc = zlib.crc32(out, 0xFFFFFFFF) ^ 0xFFFFFFFF  # [MS-OXRTFCP] 2.1.3.2: init 0, no final XOR
    return struct.pack("<IIII", len(out) + 12, len(rtf), 0x75465A4C, crc) + bytes(out)


def decompress(blob: bytes) -> bytes:
    """The RTF inside a PidTagRtfCompressed value (LZFu or MELA); ``ValueError`` if it is damaged."""
    if len(blob) < 16:
        raise ValueError(f"compressed RTF is {len(blob)} bytes long; the header alone takes 16")
    kind = blob[8:12]
    if kind not in (b"LZFu", b"MELA"):
        raise ValueError(f"compressed RTF has unknown COMPTYPE {kind!r} (expected b'LZFu' or b'MELA')")
    try:
        result: bytes = compressed_rtf.decompress(blob)
    except Exception as exc:  # the library raises bare Exception for a bad CRC
        raise ValueError(f"compressed RTF is damaged: {exc}") from exc
    return result


# ---------------------------------------------------------------------------------------------
# A minimal RTF reader shared by de-encapsulation and plain-text extraction
# ---------------------------------------------------------------------------------------------
_RTF_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?[0-9]{1,10})? ?"  # control word, optional parameter and delimiter
    rb"|\\'([0-9a-fA-F]{2})"  # hex escape
    rb"|\\([^a-zA-Z'])"  # control symbol
    rb"|([{}])"
    rb"|[\r\n]+"  # line ends in the RTF source carry no meaning
    rb"|([^\\{}\r\n]+)",
    re.S,
)

# Destinations whose content is never body text.
_SKIP_DESTINATIONS = frozenset(
    {
        b"fonttbl",
        b"colortbl",
        b"stylesheet",
        b"info",
        b"pict",
        b"object",
        b"objdata",
        b"header",
        b"headerl",
        b"headerr",
        b"headerf",
        b"footer",
        b"footerl",
        b"footerr",
        b"footerf",
        b"footnote",
        b"fldinst",
        b"themedata",
        b"colorschememapping",
        b"datastore",
        b"latentstyles",
        b"listtable",
        b"listoverridetable",
        b"rsidtbl",
        b"generator",
        b"xmlnstbl",
        b"mmathPr",
        b"filetbl",
        b"revtbl",
        b"pn",
        b"pntext",
        b"annotation",
        b"atnid",
        b"atnauthor",
        b"bkmkstart",
        b"bkmkend",
        b"nonshppict",
        b"shp",
        b"userprops",
        b"docvar",
        b"private",
        b"template",
        b"pgdsctbl",
        b"listtext",
    }
)
_SYMBOL_WORDS = {
    b"tab": "\t",
    b"lquote": "\u2018",
    b"rquote": "\u2019",
    b"ldblquote": "\u201c",
    b"rdblquote": "\u201d",
    b"bullet": "\u2022",
    b"endash": "\u2013",
    b"emdash": "\u2014",
    b"emspace": "\u2003",
    b"enspace": "\u2002",
    b"qmspace": "\u2005",
}
_LINE_WORDS = frozenset({b"par", b"line", b"row", b"page", b"sect"})
_FCHARSET_CODEPAGES = {
    0: 1252,
    2: 0,
    77: 10000,
    128: 932,
    129: 949,
    130: 1361,
    134: 936,
    136: 950,
    161: 1253,
    162: 1254,
    163: 1258,
    177: 1255,
    178: 1256,
    186: 1257,
    204: 1251,
    222: 874,
    238: 1250,
    254: 437,
}


@dataclass(frozen=True)
class _GroupState:
    skip: bool = False  # inside a destination that is not body text
    htmltag: bool = False  # inside {\*\htmltag …}
    htmlrtf: bool = False  # inside \htmlrtf … \htmlrtf0
    uc: int = 1  # fallback characters after \uN
    font: int = -1
    fonttbl: bool = False


class _RtfReader:
    """Walks RTF and collects either the de-encapsulated HTML or the visible text."""

    def __init__(self, rtf: bytes, mode: str) -> None:
        self.rtf = rtf
        self.mode = mode  # "html" or "text"
        self.out: list[str] = []
        self.pending: bytearray = bytearray()  # \'hh bytes not yet decoded
        self.pending_codec = "cp1252"
        self.codepage = 1252
        self.fonts: dict[int, int] = {}

    # -- output --------------------------------------------------------------------------------
    def codec_for(self, state: _GroupState) -> str:
        codepage = self.codepage
        if not state.htmltag and state.font in self.fonts:
            codepage = self.fonts[state.font] or 0
        try:
            return codepages.body_codec(codepage)
        except ValueError:
            return "cp1252"

    def flush(self) -> None:
        if self.pending:
            self.out.append(bytes(self.pending).decode(self.pending_codec, errors="replace"))
            self.pending.clear()

    def emit(self, text: str) -> None:
        self.flush()
        self.out.append(text)

    def emit_byte(self, value: int, state: _GroupState) -> None:
        codec = self.codec_for(state)
        if codec != self.pending_codec:
            self.flush()
            self.pending_codec = codec
        self.pending.append(value)

    def result(self) -> str:
        self.flush()
        joined = "".join(self.out)
        # \uN pairs for characters beyond the BMP arrive as two surrogates: join them.
        return joined.encode("utf-16-le", "surrogatepass").decode("utf-16-le", errors="replace")

    def wanted(self, state: _GroupState) -> bool:
        if state.skip:
            return False
        if self.mode == "html":
            return not state.htmlrtf
        return not state.htmltag

    # -- the walk ------------------------------------------------------------------------------
    def run(self) -> str:
        rtf = self.rtf
        state = _GroupState()
        stack: list[_GroupState] = []
        group_start = False  # the next token is the first in its group
        ignorable = False  # the group started with \*
        to_skip = 0  # fallback characters still to skip after \uN
        pos = 0
        n = len(rtf)
        font_no = -1
        while pos < n:
            m = _RTF_TOKEN.match(rtf, pos)
            if m is None:  # a lone backslash at the end
                break
            pos = m.end()
            if m.lastindex is None:  # line ends in the source
                continue
            word, param, hexval, symbol, brace, text = m.groups()
            first = group_start
            group_start = False
            if brace is not None:
                to_skip = 0
                if brace == b"{":
                    stack.append(state)
                    group_start = True
                    ignorable = False
                else:
                    self.flush()
                    if not stack:
                        break
                    state = stack.pop()
                continue
            if text is not None:
                if to_skip:
                    dropped = min(to_skip, len(text))
                    to_skip -= dropped
                    text = text[dropped:]
                if state.fonttbl and text and b";" in text:
                    font_no = -1
                if text and self.wanted(state):
                    for byte in text:
                        self.emit_byte(byte, state)
                continue
            if hexval is not None:
                if to_skip:
                    to_skip -= 1
                    continue
                if self.wanted(state):
                    self.emit_byte(int(hexval, 16), state)
                continue
            if symbol is not None:
                if symbol == b"*" and first:
                    ignorable = True
                    group_start = True  # the destination word follows
                    continue
                if to_skip:
                    to_skip -= 1
                    continue
                if not self.wanted(state):
                    continue
                if symbol in b"\\{}":
                    self.emit(symbol.decode("ascii"))
                elif symbol == b"~":
                    self.emit("\u00a0")
                elif symbol == b"_":
                    self.emit("\u00ad" if self.mode == "html" else "-")
                elif symbol in b"\r\n":
                    self.emit("\r\n")
                continue
            # a control word
            assert word is not None
            value = int(param) if param is not None else None
            if first:
                if word in (b"htmltag", b"mhtmltag") and ignorable:
                    if self.mode == "text" or word == b"mhtmltag":
                        state = replace(state, skip=True)
                    else:
                        state = replace(state, htmltag=True)
                    continue
                if word == b"fonttbl":
                    state = replace(state, skip=True, fonttbl=True)
                    continue
                if ignorable or word in _SKIP_DESTINATIONS:
                    state = replace(state, skip=True)
                    continue
            if word == b"bin":
                pos += max(value or 0, 0)
                continue
            if state.fonttbl:
                if word == b"f" and value is not None:
                    font_no = value
                elif word == b"fcharset" and value is not None and font_no >= 0:
                    self.fonts.setdefault(font_no, _FCHARSET_CODEPAGES.get(value, self.codepage))
                elif word == b"cpg" and value is not None and font_no >= 0:
                    self.fonts[font_no] = value
                continue
            if word == b"ansicpg" and value is not None:
                self.codepage = value
                continue
            if word == b"htmlrtf":
                state = replace(state, htmlrtf=value != 0)
                continue
            if word == b"uc" and value is not None:
                state = replace(state, uc=max(value, 0))
                continue
            if word == b"f" and value is not None:
                state = replace(state, font=value)
                continue
            if word == b"u" and value is not None:
                if self.wanted(state):
                    # N is a signed 16-bit code unit; anything else is damaged input.
                    unit = (value + 0x10000 if value < 0 else value) & 0xFFFF
                    self.emit(chr(unit))
                to_skip = state.uc
                continue
            if to_skip:
                to_skip -= 1
                continue
            if not self.wanted(state):
                continue
            if word in _LINE_WORDS:
                self.emit("\r\n")
            elif word == b"cell":
                self.emit("\t")
            elif word in _SYMBOL_WORDS:
                self.emit(_SYMBOL_WORDS[word])
        return self.result()


def _is_encapsulated_html(rtf: bytes) -> bool:
    """[MS-OXRTFEX] 2.2.3.1: ``\\fromhtml`` among the first 10 tokens (group starts, control words)."""
    count = 0
    for m in _RTF_TOKEN.finditer(rtf):
        word, _, _, _, brace, _ = m.groups()
        if brace == b"{" or word is not None:
            count += 1
            if word == b"fromhtml":
                return True
            if word == b"fromtext" or count >= 10:
                return False
    return False


def html_from_rtf(rtf: bytes) -> str | None:
    """The HTML encapsulated in ``rtf`` ([MS-OXRTFEX] 2.2.3.2), or None if it holds none."""
    if not _is_encapsulated_html(rtf):
        return None
    return _RtfReader(rtf, "html").run()


def rtf_to_text(rtf: bytes) -> str:
    """The visible text of any RTF body; line breaks as ``\\r\\n``."""
    text = _RtfReader(rtf, "text").run()
    return text.strip("\r\n")
