"""Bodies: plain text, HTML (with its RTF encapsulation, as Outlook keeps HTML mail) or RTF."""

from __future__ import annotations

import re

from msgsess.composer.context import Context
from msgsess.model import Message
from msgsess.props import ids
from msgsess.props import types as t


def apply(ctx: Context, msg: Message) -> None:
    """Put the spec's bodies on the message."""
    p = msg.props
    body, html, rtf = ctx.text("body"), ctx.text("html"), ctx.text("rtf")
    if body is None and html is None and rtf is None:
        return
    # A new body replaces every form of the old one, so none is left out of sync.
    p.discard(ids.BODY, ids.HTML, ids.RTF_COMPRESSED, ids.RTF_IN_SYNC, ids.NATIVE_BODY)
    if html is None and rtf is None:
        if body:  # an empty body is no body ([MS-OXMSG] 2.4.2.2: no empty strings)
            p.set(ids.BODY, t.PT_UNICODE, body)
            p.set(ids.NATIVE_BODY, t.PT_LONG, 1)
        return
    from msgsess.oxmsg import html as html_body
    from msgsess.oxmsg import rtf as rtf_body

    if html is not None:
        cpid = 65001 if ctx.unicode else ctx.codepage
        p.set(ids.INTERNET_CODEPAGE, t.PT_LONG, cpid)
        p.set(ids.HTML, t.PT_BINARY, html_body.html_charset_bytes(html, cpid))
        p.set(ids.RTF_COMPRESSED, t.PT_BINARY, rtf_body.compress(rtf_body.html_to_rtf(html)))
        p.set(ids.NATIVE_BODY, t.PT_LONG, 3)
        derived = html_body.html_to_text(html)
    else:
        assert rtf is not None
        raw = rtf_bytes(rtf)
        p.set(ids.RTF_COMPRESSED, t.PT_BINARY, rtf_body.compress(raw))
        p.set(ids.NATIVE_BODY, t.PT_LONG, 2)
        derived = rtf_body.rtf_to_text(raw)
    p.set(ids.RTF_IN_SYNC, t.PT_BOOLEAN, True)
    p.set(ids.BODY, t.PT_UNICODE, body if body is not None else derived)


def rtf_bytes(rtf: str) -> bytes:
    """An RTF body given as text -> the bytes to compress.

    Characters up to U+00FF are bytes as they stand (an RTF file read as Latin-1 comes
    back byte for byte); wider ones become ``\\uN?`` escapes (N signed 16-bit, pairs of
    surrogates beyond the BMP), as RTF has no other way to hold them.
    """
    out = bytearray()
    for char in rtf:
        code = ord(char)
        if code < 0x100:
            out.append(code)
            continue
        units = char.encode("utf-16-le")
        for pos in range(0, len(units), 2):
            unit = int.from_bytes(units[pos : pos + 2], "little")
            out += b"\\u%d?" % (unit - 0x10000 if unit >= 0x8000 else unit)
    return bytes(out)


_CID_REF = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)


def missing_content_ids(msg: Message) -> list[str]:
    """``cid:`` references in the HTML body that no attachment's content id answers."""
    html = msg.props.value(ids.HTML)
    if not isinstance(html, bytes):
        return []
    text = html.decode("latin-1")  # cid values are ASCII in any charset we write
    wanted = dict.fromkeys(m.group(1) for m in _CID_REF.finditer(text))
    have = {str(a.props.value(ids.ATTACH_CONTENT_ID, "")).strip("<>") for a in msg.attachments}
    return [cid for cid in wanted if cid not in have]
