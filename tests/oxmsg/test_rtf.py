"""RTF bodies: HTML encapsulated in RTF, compressed RTF, plain text from RTF.

Every encapsulation is checked with a de-encapsulator we did not write (RTFDE) as well as ours,
and the RTF readers are checked against Outlook's own files in the shared corpus.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import olefile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from RTFDE.deencapsulate import DeEncapsulator

from msgsess.oxmsg.rtf import compress, decompress, html_from_rtf, html_to_rtf, rtf_to_text, text_to_rtf

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "msgreader"
RTF_STREAM = "__substg1.0_10090102"  # PidTagRtfCompressed
BODY_STREAM = "__substg1.0_1000001F"  # PidTagBody, Unicode

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared Outlook corpus not present")


def rtfde_html(rtf: bytes) -> str:
    """De-encapsulate with RTFDE. It returns UTF-8 bytes and writes U+00A0 back as ``&nbsp;``."""
    reader = DeEncapsulator(rtf)
    reader.deencapsulate()
    html: bytes = reader.html
    return html.decode("utf-8")


def corpus_rtf(name: str) -> tuple[bytes, olefile.OleFileIO]:
    ole = olefile.OleFileIO(str(CORPUS / name))
    return decompress(ole.openstream(RTF_STREAM).read()), ole


# ---------------------------------------------------------------------------------------------
# html_to_rtf: exact round trips
# ---------------------------------------------------------------------------------------------
SIMPLE_DOC = (
    '<!DOCTYPE html>\r\n<html>\r\n<head>\r\n<meta charset="utf-8">\r\n<title>Hi &amp; bye</title>\r\n'
    "</head>\r\n<body>\r\n<p>Hello,</p>\r\n<p>the report is attached.</p>\r\n</body>\r\n</html>\r\n"
)
NESTED_TABLES = (
    "<table border=1><tr><td>a</td><td><table><tr><td>b1</td><td>b2</td></tr>\n"
    "<tr><td colspan=2>b3</td></tr></table></td></tr><tr><td>c</td><td>d</td></tr></table>"
)
COMMENTS = (
    '<html><head><!--[if gte mso 9]><xml><o:shapedefaults v:ext="edit"/></xml><![endif]-->'
    "</head><body><!-- a comment\nover two lines --><p>x<!---->y</p></body></html>"
)
ENTITIES = "<p>Fish &amp; chips&nbsp;for &#8364;5 &lt;tag&gt; &eacute;t&#xE9; &copy</p>"
NON_ASCII = "<p>café €5 — Привет, мир — 中文 日本語 한국어 — emoji 😀👍🏽 and 𝄞</p>"
BREAKS = "<p>line one<br>line two<br/>\nline three</p><p>second paragraph</p><br><br>"
INLINE_IMAGE = '<p>Logo: <img src="cid:x" width=32 height=32 alt="logo"> inline.</p>'
STYLE_BLOCK = (
    '<html><head><style>\n<!--\np.MsoNormal {margin:0cm; font-family:"Calibri",sans-serif;}\n'
    "a:link {color:#0563C1;}\n-->\n</style></head><body><p class=MsoNormal>Styled</p></body></html>"
)
RTF_SPECIALS = (
    "<p title=\"C:\\Temp\\{x}\" data-x='{\\}'>Path C:\\Users\\{me}\\file and braces {} \\par "
    "\\'41 \\u65? stay text</p>"
)
WHITESPACE = " \t<div>\r\n  a  \t b \n\n\r</div>\r\r\n\t <span> </span>  "
FRAGMENTS = ["plain text only", "", "<", "a < b & c > d", "x &amp", "<p unterminated", "</p>", "1<b>2</b>3"]

ROUND_TRIP_CASES = {
    "simple document": SIMPLE_DOC,
    "nested tables": NESTED_TABLES,
    "comments": COMMENTS,
    "entities": ENTITIES,
    "non-ascii": NON_ASCII,
    "br and p": BREAKS,
    "inline image": INLINE_IMAGE,
    "style block": STYLE_BLOCK,
    "rtf specials": RTF_SPECIALS,
    "whitespace": WHITESPACE,
    **{f"fragment {i}": frag for i, frag in enumerate(FRAGMENTS)},
}


@pytest.mark.parametrize("html", list(ROUND_TRIP_CASES.values()), ids=list(ROUND_TRIP_CASES))
def test_html_round_trip_with_our_reader(html: str) -> None:
    assert html_from_rtf(html_to_rtf(html)) == html


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("html", list(ROUND_TRIP_CASES.values()), ids=list(ROUND_TRIP_CASES))
def test_html_round_trip_with_rtfde(html: str) -> None:
    if html == "":
        pytest.skip("RTFDE returns nothing to compare for an empty document")
    assert rtfde_html(html_to_rtf(html)) == html


def test_rtf_is_ascii_with_the_encapsulation_header() -> None:
    rtf = html_to_rtf(NON_ASCII)
    rtf.decode("ascii")  # every character above 0x7F is escaped
    assert rtf.startswith(b"{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl")
    assert b"{\\*\\htmltag64}" in rtf  # the empty group before shared text, [MS-OXRTFEX] 2.1.3.2
    assert rtf.endswith(b"}")
    # \uN? with N signed 16-bit; U+1F600 as the surrogate pair D83D DE00.
    assert b"caf\\u233?" in rtf
    assert b"\\u8364?5" in rtf
    assert b"\\u1055?\\u1088?\\u1080?" in rtf  # При
    assert b"\\u20013?\\u25991?" in rtf  # 中文
    assert b"\\u-10179?\\u-8704?" in rtf  # 😀


def test_markup_goes_into_htmltag_groups_and_text_stays_visible() -> None:
    rtf = html_to_rtf('<p>Hi {you}</p><a href="x\\y">go</a>')
    # <a> outside a paragraph: 0x50 as Outlook writes it for inline elements, no INPAR flag.
    assert b"{\\*\\htmltag64 <p>}Hi \\{you\\}" in rtf
    assert b"{\\*\\htmltag72 </p>}{\\htmlrtf \\par \\htmlrtf0}" in rtf
    assert b'{\\*\\htmltag80 <a href="x\\\\y">}go' in rtf
    # The RTF rendering (what an RTF reader shows) has the visible text and no markup.
    assert rtf_to_text(rtf) == "Hi {you}\r\ngo"


def test_entities_are_kept_and_displayed_decoded() -> None:
    rtf = html_to_rtf("<p>a&amp;b&#8364;</p>")
    assert b"{\\*\\htmltag84 &amp;}{\\htmlrtf &\\htmlrtf0}" in rtf
    assert b"{\\*\\htmltag84 &#8364;}{\\htmlrtf \\u8364?\\htmlrtf0}" in rtf
    assert rtf_to_text(rtf) == "a&b€"


def test_br_and_p_render_as_rtf_breaks_only_for_display() -> None:
    rtf = html_to_rtf("<p>one<br>two</p><p>three</p>")
    # BR (0x70) + INPAR (0x04): the <br> sits inside a paragraph.
    assert b"{\\*\\htmltag116 <br>}{\\htmlrtf \\line \\htmlrtf0}" in rtf
    assert rtf_to_text(rtf) == "one\r\ntwo\r\nthree"


@needs_corpus
@pytest.mark.parametrize("name", ["Attach sample eml sent.msg", "htmlLink.msg"])
def test_tag_parameters_match_outlook(name: str) -> None:
    """Re-encapsulating Outlook's own HTML gives the same htmltag parameters Outlook wrote."""
    outlook_rtf, _ = corpus_rtf(name)
    html = html_from_rtf(outlook_rtf)
    assert html is not None
    tag = re.compile(rb"\{\\\*\\htmltag(\d+) (</?[A-Za-z:!-]*)")
    ours = tag.findall(html_to_rtf(html))
    theirs = tag.findall(outlook_rtf)
    assert len(ours) == len(theirs) > 20
    assert ours == theirs


# ---------------------------------------------------------------------------------------------
# html_from_rtf on Outlook's files and on RTF that is not encapsulated HTML
# ---------------------------------------------------------------------------------------------
@needs_corpus
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", ["Hello +CJK.msg", "Many entities.msg", "nonUnicodeCP932.msg"])
def test_deencapsulation_agrees_with_rtfde_on_outlook_files(name: str) -> None:
    rtf, _ = corpus_rtf(name)
    ours = html_from_rtf(rtf)
    assert ours is not None and ours.lstrip().lower().startswith("<html")
    # RTFDE turns \par into LF (the spec says CRLF) and U+00A0 into &nbsp;.
    assert ours.replace("\r\n", "\n").replace("\u00a0", "&nbsp;") == rtfde_html(rtf)


@needs_corpus
def test_deencapsulation_decodes_the_ansi_code_page() -> None:
    rtf, _ = corpus_rtf("nonUnicodeCP932.msg")
    assert b"\\ansicpg932" in rtf[:40]
    html = html_from_rtf(rtf)
    assert html is not None and "日本語" in html


def test_html_from_rtf_is_none_without_fromhtml() -> None:
    assert html_from_rtf(text_to_rtf("just text")) is None
    assert html_from_rtf(b"{\\rtf1\\ansi\\deff0 {\\fonttbl{\\f0 Arial;}}\\f0 Hello\\par}") is None


# ---------------------------------------------------------------------------------------------
# compressed RTF
# ---------------------------------------------------------------------------------------------
def test_compress_round_trip_and_header() -> None:
    rtf = html_to_rtf(SIMPLE_DOC + NON_ASCII)
    blob = compress(rtf)
    comp_size, raw_size = struct.unpack_from("<II", blob)
    assert comp_size == len(blob) - 4  # [MS-OXRTFCP] 2.1.3.1.1
    assert raw_size == len(rtf)
    assert blob[8:12] == b"LZFu"
    assert len(blob) < len(rtf)
    assert decompress(blob) == rtf


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=6000) | st.text(alphabet="ab{}\\ rtf\r\n", max_size=9000).map(str.encode))
def test_compress_is_read_by_the_reference_decompressor(data: bytes) -> None:
    """Our LZFu encoder's output, read by compressed-rtf (another implementation), gives the input."""
    import compressed_rtf

    assert compressed_rtf.decompress(compress(data)) == data


def test_compress_handles_long_repeats_and_the_window() -> None:
    import compressed_rtf

    data = b"{\\rtf1 " + b"x" * 10000 + bytes(range(256)) * 40 + b"}"
    blob = compress(data)
    assert compressed_rtf.decompress(blob) == data
    assert len(blob) < len(data) // 2


@needs_corpus
def test_decompress_reads_outlook_bodies() -> None:
    rtf, _ = corpus_rtf("A memo.msg")
    assert rtf.startswith(b"{\\rtf1\\ansi\\ansicpg932")


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"short", "16"),
        (b"\x10\x00\x00\x00\x04\x00\x00\x00ABCD\x00\x00\x00\x00abcd", "COMPTYPE"),
    ],
)
def test_decompress_rejects_malformed_input(blob: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decompress(blob)


def test_decompress_rejects_a_bad_crc() -> None:
    blob = bytearray(compress(b"{\\rtf1\\ansi Hello}"))
    blob[-1] ^= 0xFF
    with pytest.raises(ValueError, match="damaged"):
        decompress(bytes(blob))


# ---------------------------------------------------------------------------------------------
# rtf_to_text
# ---------------------------------------------------------------------------------------------
def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


@needs_corpus
@pytest.mark.parametrize(
    "name",
    [
        "A memo.msg",
        "Lanch time  every friday  in 2023 chgs2.msg",
        "Hello +CJK.msg",
        "htmlLink.msg",
        "test1.msg",
    ],
)
def test_rtf_to_text_matches_outlook_plain_body(name: str) -> None:
    rtf, ole = corpus_rtf(name)
    body = ole.openstream(BODY_STREAM).read().decode("utf-16-le")
    assert words(body)
    assert words(rtf_to_text(rtf)) == words(body)


@needs_corpus
def test_rtf_to_text_of_an_ansi_message() -> None:
    rtf, ole = corpus_rtf("nonUnicodeCP932.msg")
    body = ole.openstream("__substg1.0_1000001E").read().decode("cp932")
    assert rtf_to_text(rtf) == body.rstrip("\r\n\x00")


def test_rtf_to_text_reader_rules() -> None:
    rtf = (
        b"{\\rtf1\\ansi\\ansicpg1251\\deff0{\\fonttbl{\\f0\\fswiss Arial;}}"
        b"{\\colortbl;\\red1\\green2\\blue3;}"
        b"{\\stylesheet{\\s0 Normal;}}{\\info{\\title T}}{\\*\\generator Riched20;}"
        b"\\pard\\f0 \\'cf\\'f0\\'e8\\'e2\\'e5\\'f2\\par "
        b"a\\tab b\\line {\\*\\htmltag0 <hidden>}c\\uc2\\u8364 xyz\\uc1\\u-10179?\\u-8704?\\par"
        b"\\{\\}\\\\\\~end}"
    )
    assert rtf_to_text(rtf) == "Привет\r\na\tb\r\nc€z😀\r\n{}\\\u00a0end"


# ---------------------------------------------------------------------------------------------
# text_to_rtf
# ---------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore")
def test_text_to_rtf_round_trip() -> None:
    text = "Dear {all},\r\nC:\\path\tend\nПривет 😀\r\n"
    rtf = text_to_rtf(text)
    assert rtf.startswith(b"{\\rtf1\\ansi\\ansicpg1252\\fromtext")
    assert rtf_to_text(rtf) == text.replace("\r\n", "\n").replace("\n", "\r\n").rstrip("\r\n")
    reader = DeEncapsulator(rtf)
    reader.deencapsulate()
    assert reader.text.decode("utf-8").strip("\n") == text.replace("\r\n", "\n").strip("\n")


# ---------------------------------------------------------------------------------------------
# Property: any HTML-ish string survives encapsulation
# ---------------------------------------------------------------------------------------------
_TAGS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<br>",
        "<br/>",
        "<div class='a'>",
        "</div>",
        "<html>",
        "</html>",
        "<head>",
        "</head>",
        "<body>",
        "</body>",
        '<span style="x:{y}">',
        "</span>",
        "<td>",
        "</td>",
        "<tr>",
        "<table>",
        "</table>",
        "<li>",
        "<o:p>",
        "</o:p>",
        "<!-- c -->",
        "<!DOCTYPE html>",
        '<img src="cid:x">',
        "<a href='a\\b'>",
        "</a>",
        "<style>",
        "</style>",
        "<title>",
        "</title>",
        "<meta x=1>",
        "<pre>",
        "</pre>",
        "<",
        ">",
        "&",
    ]
)
_ENTITIES = st.sampled_from(["&amp;", "&nbsp;", "&#8364;", "&#x1F600;", "&lt;", "&bogus;", "&copy"])
_TEXT = st.text(
    alphabet=st.sampled_from([*"ab1 \t\r\n\\{}?;'\"=/-", "é", "€", "Ж", "中", "😀", "\x01", "\x7f"]),
    max_size=12,
)
_HTMLISH = st.lists(st.one_of(_TAGS, _ENTITIES, _TEXT), max_size=25).map("".join)


@given(_HTMLISH)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_round_trip_with_our_reader(html: str) -> None:
    assert html_from_rtf(html_to_rtf(html)) == html


@pytest.mark.filterwarnings("ignore")
@given(_HTMLISH.filter(bool))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_round_trip_with_rtfde(html: str) -> None:
    assert rtfde_html(html_to_rtf(html)) == html


@pytest.mark.filterwarnings("ignore")
def test_literal_no_break_space() -> None:
    html = "<p>a\u00a0b</p>"
    assert html_from_rtf(html_to_rtf(html)) == html
    # RTFDE rewrites U+00A0 as the entity on purpose; the character itself came through.
    assert rtfde_html(html_to_rtf(html)) == "<p>a&nbsp;b</p>"
