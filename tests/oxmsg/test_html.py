"""HTML bodies: plain text derived from HTML, PidTagHtml bytes, the lossless tokenizer."""

from __future__ import annotations

import html as html_lib

import pytest

from msgsess.oxmsg.html import html_charset_bytes, html_to_text, tokenize


# ---------------------------------------------------------------------------------------------
# html_to_text
# ---------------------------------------------------------------------------------------------
def test_html_to_text_typical_message() -> None:
    html = (
        "<html><head><title>T</title><style>p {color:red}</style><script>alert(1)</script></head>"
        "<body><div>Hi   team,\n</div><p>See <a href='https://example.com/r'>the report</a> and "
        "<a href='https://example.com/'>https://example.com/</a> or "
        "<a href='mailto:bob@example.com'>bob@example.com</a>.</p>"
        "<ul><li>one</li><li>two &amp; three</li></ul>"
        "<p>Line<br>break&nbsp;&nbsp;here &euro;5</p>"
        "<table><tr><td>a</td><td>b</td></tr></table></body></html>"
    )
    assert html_to_text(html) == (
        "Hi team,\r\n"
        "\r\n"
        "See the report <https://example.com/r> and https://example.com/ or bob@example.com.\r\n"
        "\r\n"
        "- one\r\n"
        "- two & three\r\n"
        "\r\n"
        "Line\r\n"
        "break  here €5\r\n"
        "\r\n"
        "a\tb"
    )


def test_html_to_text_keeps_pre_formatting() -> None:
    assert html_to_text("<pre>a  b\n  c</pre><p>x\ny</p>") == "a  b\r\n  c\r\n\r\nx y"


# ---------------------------------------------------------------------------------------------
# html_charset_bytes
# ---------------------------------------------------------------------------------------------
def test_html_charset_bytes() -> None:
    html = "<p>€ é Привет 😀</p>"
    assert html_charset_bytes(html, 65001) == html.encode("utf-8")
    cp1252 = html_charset_bytes(html, 1252)
    assert cp1252 == b"<p>\x80 \xe9 &#1055;&#1088;&#1080;&#1074;&#1077;&#1090; &#128512;</p>"
    assert html_lib.unescape(cp1252.decode("cp1252")) == html
    assert html_lib.unescape(html_charset_bytes(html, 932).decode("cp932")) == html
    with pytest.raises(ValueError, match="code page"):
        html_charset_bytes(html, 12345)


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<",
        "a < b & c > d",
        "<p unterminated",
        "<!-- c --><!DOCTYPE html><script>if (a<b) x()</script>&amp",
    ],
)
def test_the_tokens_are_the_input_character_for_character(html: str) -> None:
    assert "".join(token.raw for token in tokenize(html)) == html
