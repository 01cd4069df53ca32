"""HTML bodies (pure, no I/O): a lossless tokenizer, plain text from HTML, PidTagHtml bytes.

* ``tokenize`` splits HTML into tokens whose concatenation is the input, character for
  character (what RTF encapsulation, :mod:`msgsess.oxmsg.rtf`, needs to keep every byte).
* ``html_to_text`` derives a plain-text body (PidTagBody) from an HTML one.
* ``html_charset_bytes`` encodes an HTML body for PidTagHtml in a code page, losslessly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from msgsess.oxmsg import codepages

__all__ = ["BLOCK_ELEMENTS", "HtmlToken", "html_charset_bytes", "html_to_text", "tokenize"]

# Elements whose content is not markup (the HTML "raw text" elements that matter in mail).
RAW_TEXT_ELEMENTS = frozenset({"script", "style", "title"})
# Elements that only belong in <head>.
HEAD_ELEMENTS = frozenset({"meta", "link", "base", "title", "style", "script"})
# Void elements never get an end tag and are never pushed on the open-element stack.
VOID_ELEMENTS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
BLOCK_ELEMENTS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "caption",
        "center",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)


# ---------------------------------------------------------------------------------------------
# A lossless HTML tokenizer: the concatenation of the tokens is the input, character for character.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HtmlToken:
    kind: str  # "tag", "comment", "decl", "entity", "text", "raw"
    raw: str
    name: str = ""  # lower-case tag name for "tag"
    end: bool = False  # an end tag (</x>)


_TAG_START = re.compile(r"<(/?)([A-Za-z][^\s/>]*)")
_ENTITY = re.compile(r"&(?:#[0-9]{1,8};?|#[xX][0-9a-fA-F]{1,8};?|[A-Za-z][A-Za-z0-9]{0,31};?)")
_TEXT_RUN = re.compile(r"[^<&]+")


def _tag_end(html: str, pos: int) -> int:
    """Index just past the ``>`` that closes the tag whose name ends before ``pos``.

    Quoted attribute values (after ``=``) may contain ``>``; an unterminated quote or tag runs to
    the end of the input.
    """
    n = len(html)
    i = pos
    last = ""
    while i < n:
        ch = html[i]
        if ch == ">":
            return i + 1
        if ch in "\"'" and last == "=":
            close = html.find(ch, i + 1)
            if close < 0:
                gt = html.find(">", i + 1)
                return n if gt < 0 else gt + 1
            i = close + 1
            last = ch
            continue
        if not ch.isspace():
            last = ch
        i += 1
    return n


def tokenize(html: str) -> list[HtmlToken]:
    tokens: list[HtmlToken] = []
    text: list[str] = []

    def flush_text() -> None:
        if text:
            tokens.append(HtmlToken("text", "".join(text)))
            text.clear()

    i = 0
    n = len(html)
    while i < n:
        ch = html[i]
        if ch == "<":
            if html.startswith("<!--", i):
                close = html.find("-->", i + 4)
                end = n if close < 0 else close + 3
                flush_text()
                tokens.append(HtmlToken("comment", html[i:end]))
                i = end
                continue
            if html.startswith("<!", i) or html.startswith("<?", i):
                close = html.find(">", i + 2)
                end = n if close < 0 else close + 1
                flush_text()
                tokens.append(HtmlToken("decl", html[i:end]))
                i = end
                continue
            m = _TAG_START.match(html, i)
            if m is None:
                text.append(ch)
                i += 1
                continue
            end = _tag_end(html, m.end())
            name = m.group(2).lower()
            is_end = m.group(1) == "/"
            flush_text()
            tokens.append(HtmlToken("tag", html[i:end], name, is_end))
            i = end
            if not is_end and name in RAW_TEXT_ELEMENTS and not html[:end].endswith("/>"):
                m_close = re.compile(r"</" + re.escape(name) + r"(?=[\s/>]|$)", re.I).search(html, i)
                stop = n if m_close is None else m_close.start()
                if stop > i:
                    tokens.append(HtmlToken("raw", html[i:stop], name))
                i = stop
            continue
        if ch == "&":
            m = _ENTITY.match(html, i)
            if m is None:
                text.append(ch)
                i += 1
                continue
            flush_text()
            tokens.append(HtmlToken("entity", m.group(0)))
            i = m.end()
            continue
        m = _TEXT_RUN.match(html, i)
        assert m is not None
        text.append(m.group(0))
        i = m.end()
    flush_text()
    return tokens


# ---------------------------------------------------------------------------------------------
# HTML -> plain text
# ---------------------------------------------------------------------------------------------
_PARAGRAPH_BREAK = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl"}
)
_LINE_BREAK = BLOCK_ELEMENTS - _PARAGRAPH_BREAK - {"td", "th"}
_HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript"})
_COLLAPSIBLE = re.compile(r"[ \t\n\r\f]+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.cur: list[str] = []
        self.hidden = 0
        self.pre = 0
        self.list_depth = 0
        self.cells = 0
        self.links: list[tuple[str, list[str]]] = []

    # -- line building -------------------------------------------------------------------------
    def add(self, text: str) -> None:
        if not text:
            return
        if not self.pre:
            # Only the last piece can end the line in a space (pieces are never empty).
            if not self.cur or self.cur[-1].endswith(" "):
                text = text.lstrip(" ")
            if not text:
                return
        self.cur.append(text)
        for _, collected in self.links:
            collected.append(text)

    def flush(self) -> None:
        line = "".join(self.cur)
        self.cur.clear()
        self.lines.append(line if self.pre else line.rstrip(" "))

    def block(self) -> None:
        if self.cur:
            self.flush()

    def paragraph(self) -> None:
        self.block()
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    # -- parser callbacks ----------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
            return
        if tag == "body":
            self.hidden = 0
        if self.hidden:
            return
        if tag == "br":
            self.flush()
        elif tag in _PARAGRAPH_BREAK:
            self.paragraph()
        elif tag in _LINE_BREAK:
            self.block()
        if tag == "pre":
            self.pre += 1
        elif tag in ("ul", "ol"):
            self.list_depth += 1
        elif tag == "li":
            self.add("  " * max(self.list_depth - 1, 0) + "- ")
        elif tag == "tr":
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self.cur.append("\t")
            self.cells += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((href, []))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.add(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
            return
        if self.hidden:
            return
        if tag == "a" and self.links:
            href, collected = self.links.pop()
            label = _COLLAPSIBLE.sub(" ", "".join(collected)).strip()
            target = href[7:] if href.lower().startswith("mailto:") else href
            if href and href != label and target != label:
                self.add(f" <{href}>" if label else f"<{href}>")
            return
        if tag == "pre":
            self.pre = max(self.pre - 1, 0)
        elif tag in ("ul", "ol"):
            self.list_depth = max(self.list_depth - 1, 0)
        if tag in _PARAGRAPH_BREAK:
            self.paragraph()
        elif tag in _LINE_BREAK:
            self.block()

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if self.pre:
            pieces = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            for i, piece in enumerate(pieces):
                if i:
                    self.flush()
                if piece:
                    self.add(piece)
            return
        self.add(_COLLAPSIBLE.sub(" ", data))

    def text(self) -> str:
        self.close()
        self.block()
        lines: list[str] = []
        for line in self.lines:
            line = line.replace("\u00a0", " ")
            if line.strip() == "" and lines and lines[-1] == "":
                continue
            lines.append(line.rstrip(" ") if line.strip() == "" else line)
        while lines and lines[0] == "":
            lines.pop(0)
        while lines and lines[-1] == "":
            lines.pop()
        return "\r\n".join(lines)


def html_to_text(html: str) -> str:
    """A plain-text body derived from ``html``, lines joined with ``\\r\\n`` as in PidTagBody."""
    parser = _TextExtractor()
    parser.feed(html)
    return parser.text()


# ---------------------------------------------------------------------------------------------
# PidTagHtml bytes
# ---------------------------------------------------------------------------------------------
def html_charset_bytes(html: str, codepage: int) -> bytes:
    """``html`` encoded in ``codepage`` (65001 = UTF-8) for PidTagHtml.

    Characters the code page cannot hold become ``&#N;`` character references, so the HTML
    renders the same (inside ``<script>``/``<style>`` they would not be decoded).
    """
    codec = codepages.body_codec(codepage)
    return html.encode(codec, errors="xmlcharrefreplace")
