"""Bodies and attachments from the command line (issue 5), read back by readers we did not write.

HTML bodies go to PR_HTML, to an RTF body that de-encapsulates back to the same HTML (RTFDE),
and to a plain-text body; ``--rtf-file`` is kept byte for byte; inline images carry what
Outlook needs; attachment names, extensions and MIME types; ``cid:`` warnings.
"""

from __future__ import annotations

import email
import shutil
import subprocess
import warnings
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path

import compressed_rtf
import extract_msg
import olefile
import pytest
from click.testing import Result
from extract_msg.constants import ps

from tests.conftest import check_errors, prop

Invoke = Callable[..., Result]

HTML = (
    "<!DOCTYPE html>\n<html><head><title>Hallo</title></head><body>"
    "<p>Grüße — Привет, 日本 €5 &amp; <b>marker-html</b></p>\n"
    '<p>Line two &lt;x&gt; <img src="cid:logo@example"></p></body></html>\n'
)
#: A small RTF body with an escaped non-ASCII letter (\u246? = ö) and a raw cp1252 byte (é).
RTF = (
    b"{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Arial;}}\r\n"
    b"\\f0\\fs20 Hello \\b RTF\\b0  w\\u246?rld, caf\xe9\\par\r\nSecond line\\par\r\n}"
)
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 20

MSGFLAG_UNSENT = 0x8


def build(invoke: Invoke, workdir: Path, output: str, *args: str) -> Path:
    """open, one add with ``args``, close; the written file."""
    assert invoke("open", "s").exit_code == 0
    added = invoke("add", "s", output, *args)
    assert added.exit_code == 0, added.stderr
    closed = invoke("close", "s")
    assert closed.exit_code == 0, closed.stderr
    path = workdir / output
    assert check_errors(path) == []
    return path


def deencapsulate(rtf: bytes) -> str:
    """The HTML RTFDE finds encapsulated in an RTF body."""
    from RTFDE.deencapsulate import DeEncapsulator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RTFDE warns about its own parser's internals
        reader = DeEncapsulator(rtf)
        reader.deencapsulate()
    assert reader.content_type == "html"
    html = reader.html
    return html.decode("utf-8") if isinstance(html, bytes) else str(html)


# --- HTML ------------------------------------------------------------------------------------


@pytest.fixture
def html_msg(invoke: Invoke, workdir: Path) -> Path:
    (workdir / "page.html").write_text(HTML, encoding="utf-8")
    (workdir / "logo.png").write_bytes(PNG)
    assert invoke("open", "s").exit_code == 0
    added = invoke("add", "s", "h.msg", "--subject", "Grüße", "--html-file", "page.html")
    assert added.exit_code == 0, added.stderr
    attached = invoke("attach", "s", "m1", "logo.png", "--content-id", "logo@example")
    assert attached.exit_code == 0, attached.stderr
    closed = invoke("close", "s")
    assert closed.exit_code == 0 and closed.stderr == "", closed.stderr
    path = workdir / "h.msg"
    assert check_errors(path) == []
    return path


def test_html_gives_html_rtf_and_plain_bodies_that_agree(html_msg: Path) -> None:
    with extract_msg.openMsg(str(html_msg)) as m:
        assert m.htmlBody.decode("utf-8") == HTML
        rtf = compressed_rtf.decompress(m.compressedRtf)
        body = m.body
        assert prop(m, "0E1F000B") is True  # PR_RTF_IN_SYNC
        assert prop(m, "3FDE0003") == 65001  # PR_INTERNET_CPID: the HTML bytes are UTF-8
        assert prop(m, "10160003") == 3  # PR_NATIVE_BODY_INFO: HTML
    assert b"\\fromhtml1" in rtf
    assert rtf.isascii()  # non-ASCII text is escaped (\uN?), never raw bytes of some code page
    assert deencapsulate(rtf) == HTML
    # The plain text derived from the HTML keeps every script, without tags or entities.
    assert "Grüße — Привет, 日本 €5 & marker-html" in body
    assert "Line two <x>" in body
    assert "<b>" not in body and "&amp;" not in body


def test_html_streams_seen_by_olefile(html_msg: Path) -> None:
    with olefile.OleFileIO(str(html_msg)) as ole:
        names = {"/".join(p) for p in ole.listdir()}
        assert {"__substg1.0_10130102", "__substg1.0_10090102", "__substg1.0_1000001F"} <= names
        assert ole.openstream("__substg1.0_10130102").read() == HTML.encode("utf-8")
        body = ole.openstream("__substg1.0_1000001F").read().decode("utf-16-le")
        assert "Привет" in body
        assert ole.openstream("__substg1.0_0037001F").read().decode("utf-16-le") == "Grüße"


@pytest.mark.skipif(
    shutil.which("msgconvert") is None, reason="msgconvert (Perl Email::Outlook::Message) absent"
)
def test_msgconvert_gives_text_plain_and_text_html_parts(html_msg: Path) -> None:
    proc = subprocess.run(
        ["msgconvert", "--outfile", "-", str(html_msg)], capture_output=True, check=True, timeout=60
    )
    mime = email.message_from_bytes(proc.stdout, policy=policy.default)
    parts = {p.get_content_type(): p for p in mime.walk() if isinstance(p, EmailMessage)}
    assert "text/plain" in parts and "text/html" in parts
    assert parts["text/html"].get_content() == HTML
    assert "marker-html" in parts["text/plain"].get_content()
    logo = [p for p in mime.walk() if p.get("Content-ID")]
    assert [p.get_content_type() for p in logo] == ["image/png"]
    assert logo[0].get_payload(decode=True) == PNG


def test_inline_image_attributes(html_msg: Path) -> None:
    with extract_msg.openMsg(str(html_msg)) as m:
        (att,) = m.attachments
        assert att.cid == "logo@example"
        assert att.hidden is True
        assert att.mimetype == "image/png"
        assert att.data == PNG
        assert prop(att, "37140003") == 4  # PR_ATTACH_FLAGS: ATT_MHTML_REF (rendered in the body)
        assert prop(att, "370B0003") in (-1, 0xFFFFFFFF)  # PR_RENDERING_POSITION: not in the text
        # Every attachment is inline: no paperclip (PidLidSmartNoAttach).
        assert m.getNamedProp("8514", ps.PSETID_COMMON) is True


def test_smart_no_attach_only_when_every_attachment_is_inline(invoke: Invoke, workdir: Path) -> None:
    (workdir / "logo.png").write_bytes(PNG)
    (workdir / "notes.txt").write_text("notes\n")
    path = build(invoke, workdir, "two.msg", "--html", '<img src="cid:logo">', "--attach", "notes.txt")
    with extract_msg.openMsg(str(path)) as m:
        assert m.getNamedProp("8514", ps.PSETID_COMMON) in (None, False)
        (att,) = m.attachments
        assert att.hidden is False and not att.cid


# --- RTF -------------------------------------------------------------------------------------


def test_rtf_file_is_kept_byte_for_byte_with_a_derived_plain_body(invoke: Invoke, workdir: Path) -> None:
    (workdir / "note.rtf").write_bytes(RTF)
    path = build(invoke, workdir, "r.msg", "--subject", "RTF", "--rtf-file", "note.rtf")
    with extract_msg.openMsg(str(path)) as m:
        assert compressed_rtf.decompress(m.compressedRtf) == RTF
        body = m.body
        assert prop(m, "0E1F000B") is True
        assert prop(m, "10160003") == 2  # PR_NATIVE_BODY_INFO: RTF
    with olefile.OleFileIO(str(path)) as ole:
        assert not ole.exists("__substg1.0_10130102")  # no HTML body: RTF is the native one
    assert "Hello RTF wörld, café" in body
    assert "Second line" in body
    assert "\\par" not in body and "fonttbl" not in body and "Arial" not in body


def test_rtf_file_with_an_explicit_plain_body(invoke: Invoke, workdir: Path) -> None:
    (workdir / "note.rtf").write_bytes(RTF)
    path = build(invoke, workdir, "r.msg", "--rtf-file", "note.rtf", "--body", "Plain as given")
    with extract_msg.openMsg(str(path)) as m:
        assert m.body == "Plain as given"
        assert compressed_rtf.decompress(m.compressedRtf) == RTF


def test_rtf_from_json(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    line = '{"output": "j.msg", "rtf": "{\\\\rtf1\\\\ansi Json \\\\u1046?body\\\\par}"}'
    assert invoke("add", "s", "--json", "-", input=line).exit_code == 0
    assert invoke("close", "s").exit_code == 0
    with extract_msg.openMsg(str(workdir / "j.msg")) as m:
        assert compressed_rtf.decompress(m.compressedRtf) == b"{\\rtf1\\ansi Json \\u1046?body\\par}"
        assert "Json Жbody" in m.body
    assert check_errors(workdir / "j.msg") == []


def test_rtf_file_refusals(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    (workdir / "not.rtf").write_text("just text\n")
    (workdir / "note.rtf").write_bytes(RTF)
    result = invoke("add", "s", "a.msg", "--rtf-file", "not.rtf")
    assert result.exit_code == 3
    assert "--rtf-file: not.rtf is not an RTF file" in result.stderr
    result = invoke("add", "s", "a.msg", "--rtf-file", "missing.rtf")
    assert result.exit_code == 4 and "missing.rtf does not exist" in result.stderr
    result = invoke("add", "s", "a.msg", "--rtf-file", "note.rtf", "--html", "<p>x</p>")
    assert result.exit_code == 2 and "not both" in result.stderr
    both = '{"output": "a.msg", "html": "<p>x</p>", "rtf": "{\\\\rtf1 x}"}'
    result = invoke("add", "s", "--json", "-", input=both)
    assert result.exit_code == 3 and "not both" in result.stderr
    result = invoke("add", "s", "--json", "-", input='{"output": "a.msg", "rtf": "plain"}')
    assert result.exit_code == 3 and "$.rtf" in result.stderr
    assert invoke("show", "s", "--json").stdout == ""  # nothing was added


# --- attachment names ------------------------------------------------------------------------


def test_long_and_short_names_extension_and_guessed_mime(invoke: Invoke, workdir: Path) -> None:
    files = {
        "Quarterly report 2024.final.pdf": b"%PDF-1.4\n",
        "NOTES.TXT": b"notes",
        "data.weird-ext": b"\x00\x01",
        "Résumé.docx": b"PK",
    }
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    args = [a for name in files for a in ("--attach", name)]
    path = build(invoke, workdir, "n.msg", "--body", "see attached", *args)
    with extract_msg.openMsg(str(path)) as m:
        got = [(a.longFilename, a.shortFilename, a.extension, a.mimetype, a.data) for a in m.attachments]
    long_names = [g[0] for g in got]
    assert long_names == list(files)
    short = [g[1] for g in got]
    assert short[0] == "QUARTE~1.PDF"
    assert short[1] == "NOTES.TXT"  # already an 8.3 name
    assert all(len(s.split(".")[0]) <= 8 and s.isascii() for s in short)
    assert len({s.upper() for s in short}) == len(short)
    assert [g[2] for g in got] == [".pdf", ".TXT", ".weird-ext", ".docx"]
    assert got[0][3] == "application/pdf"
    assert got[1][3] == "text/plain"
    assert got[2][3] == "application/octet-stream"
    assert got[3][3] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert [g[4] for g in got] == list(files.values())


def test_attach_with_name_and_mime(invoke: Invoke, workdir: Path) -> None:
    (workdir / "blob.bin").write_bytes(b"GIF89a")
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--html", '<img src="cid:pic">').exit_code == 0
    attached = invoke("attach", "s", "m1", "blob.bin", "--name", "picture.gif", "--content-id", "pic")
    assert attached.exit_code == 0 and attached.stdout == "0\n"
    overridden = invoke("attach", "s", "m1", "blob.bin", "--name", "x.gif", "--mime", "image/x-test")
    assert overridden.exit_code == 0
    closed = invoke("close", "s")
    assert closed.exit_code == 0 and closed.stderr == ""
    with extract_msg.openMsg(str(workdir / "a.msg")) as m:
        first, second = m.attachments
        assert (first.longFilename, first.mimetype, first.cid, first.hidden) == (
            "picture.gif",
            "image/gif",
            "pic",
            True,
        )
        assert (second.mimetype, second.hidden) == ("image/x-test", False)
    assert check_errors(workdir / "a.msg") == []


# --- cid: warnings ---------------------------------------------------------------------------


WARNING = (
    "msgsess: warning: {id}: HTML refers to cid:{cid} but no attachment has that content id "
    "(attach it with --content-id)\n"
)


def test_close_warns_about_a_cid_no_attachment_answers(invoke: Invoke, workdir: Path) -> None:
    (workdir / "logo.png").write_bytes(PNG)
    assert invoke("open", "s").exit_code == 0
    html = '<img src="cid:logo@x"><img src="cid:chart@x"><img src="cid:logo@x">'
    added = invoke("add", "s", "w.msg", "--html", html)
    assert added.exit_code == 0 and added.stderr == ""  # attach may still bring the images
    assert invoke("attach", "s", "m1", "logo.png", "--content-id", "logo@x").exit_code == 0
    closed = invoke("close", "s")
    assert closed.exit_code == 0
    assert closed.stderr == WARNING.format(id="m1", cid="chart@x")
    assert (workdir / "w.msg").exists()  # a warning, not an error
    assert check_errors(workdir / "w.msg") == []


def test_add_warns_when_the_message_comes_with_its_attachments(invoke: Invoke, workdir: Path) -> None:
    (workdir / "logo.png").write_bytes(PNG)
    assert invoke("open", "s").exit_code == 0
    added = invoke(
        "add", "s", "a.msg", "--id", "news", "--html", '<img src="cid:logo">', "--attach", "logo.png"
    )
    assert added.exit_code == 0 and added.stdout == "news\n"
    assert added.stderr == WARNING.format(id="news", cid="logo")
    line = (
        '{"output": "b.msg", "html": "<img src=\\"cid:ok\\">", '
        '"attachments": [{"file": "logo.png", "content_id": "<ok>"}]}'
    )
    fine = invoke("add", "s", "--json", "-", input=line)
    assert fine.exit_code == 0 and fine.stderr == ""


def test_embedded_message_is_warned_about_under_its_own_id(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "--id", "inner", "--html", '<img src="cid:gone">').exit_code == 0
    assert invoke("add", "s", "outer.msg", "--id", "outer", "--body", "fwd").exit_code == 0
    assert invoke("attach", "s", "outer", "--message", "inner").exit_code == 0
    closed = invoke("close", "s")
    assert closed.exit_code == 0
    assert closed.stderr == WARNING.format(id="inner", cid="gone")
