"""msgsess.mime.writer: a message model written as MIME, read back with Python's ``email``.

Messages are composed as ``add`` composes them, written to ``.msg`` and read back with
our decoder where it matters (``msg_to_eml`` works on ``.msg`` bytes), then the MIME
output is parsed by the standard library: what a mail reader sees is what is checked.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import email.utils
import hashlib
from email.message import EmailMessage
from typing import Any

import pytest

from msgsess import cfb, oxmsg
from msgsess.composer import compose
from msgsess.convert import msg_to_eml
from msgsess.mime import message_to_eml
from msgsess.mime import props as mp
from msgsess.model import Attachment, Message
from msgsess.oxmsg import html as html_body
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.storage import Storage

NOW = t.FileTime.from_datetime(dt.datetime(2024, 2, 29, 12, 30, 45, tzinfo=dt.UTC))
PNG = bytes.fromhex("89504E470D0A1A0A0000000D4948445200000001000000010806000000") + b"\0" * 20


def parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def defects(parsed: EmailMessage) -> list[Any]:
    return [d for part in parsed.walk() for d in part.defects]


def via_msg(msg: Message) -> bytes:
    """The message written to .msg bytes and exported from them, as ``msgsess export`` does."""
    return msg_to_eml(cfb.to_bytes(oxmsg.encode(msg)))


def rich_message() -> Message:
    inner = compose({"subject": "Inner", "body": "inside", "from": "In <in@example.com>"}, now=NOW)
    spec = {
        "subject": "RE: Grüße – ready?",
        "from": "Zoë Example <zoe@example.com>",
        "sender": "Assistant <pa@example.com>",
        "to": ["Bob <bob@example.com>", "carol@example.org"],
        "cc": ["Dan, Jr. <dan@example.net>"],
        "reply_to": ["Replies <replies@example.com>"],
        "date": "2024-01-02T03:04:05Z",
        "draft": False,
        "body": "Hello Bob,\nsee the picture.\n",
        "html": '<html><body><p>Hello <b>Bob</b></p><img src="cid:pic1@x"></body></html>',
        "importance": "high",
        "sensitivity": "private",
        "categories": ["Blue", "Work"],
        "message_id": "<abc@example.com>",
        "read_receipt": True,
        "attachments": [
            {"data": base64.b64encode(PNG).decode(), "name": "pic.png", "content_id": "pic1@x"},
            {"data": base64.b64encode(b"%PDF-1.4 x").decode(), "name": "Überblick Ärger.pdf"},
            {"message": "m2", "name": "Forwarded"},
        ],
    }
    return compose(spec, now=NOW, embedded=lambda _spec: inner)


def test_envelope_headers_come_from_the_properties() -> None:
    out = via_msg(rich_message())
    assert out.isascii()
    parsed = parse(out)
    assert not defects(parsed)
    assert parsed["Subject"] == "RE: Grüße – ready?"
    assert [(a.display_name, a.addr_spec) for a in parsed["From"].addresses] == [
        ("Zoë Example", "zoe@example.com")
    ]
    assert parsed["Sender"].addresses[0].addr_spec == "pa@example.com"
    assert [a.addr_spec for a in parsed["To"].addresses] == ["bob@example.com", "carol@example.org"]
    assert parsed["Cc"].addresses[0].display_name == "Dan, Jr."
    assert parsed["Reply-To"].addresses[0].addr_spec == "replies@example.com"
    assert parsed["Date"].datetime == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert parsed["Message-ID"] == "<abc@example.com>"
    assert parsed["Importance"] == "high"
    assert parsed["Sensitivity"] == "Private"
    assert parsed["Keywords"] == "Blue, Work"
    assert email.utils.parseaddr(str(parsed["Disposition-Notification-To"]))[1] == "zoe@example.com"
    assert parsed["MIME-Version"] == "1.0"
    assert "X-Unsent" not in parsed


def test_bodies_inline_images_attachments_and_embedded_messages() -> None:
    parsed = parse(via_msg(rich_message()))
    assert parsed.get_content_type() == "multipart/mixed"
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().splitlines() == ["Hello Bob,", "see the picture."]
    assert "<b>Bob</b>" in html.get_content()
    related = parsed.get_body(("related",))
    assert related is not None and related.get_content_type() == "multipart/related"
    image = next(p for p in related.iter_parts() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<pic1@x>"
    assert image.get_content() == PNG
    files = [p for p in parsed.iter_attachments()]
    pdf = next(p for p in files if p.get_content_type() == "application/pdf")
    assert pdf.get_filename() == "Überblick Ärger.pdf"
    assert "filename*" in pdf.as_string()  # RFC 2231
    assert pdf.get_content() == b"%PDF-1.4 x"
    forwarded = next(p for p in files if p.get_content_type() == "message/rfc822")
    assert forwarded.get_filename() == "Forwarded"
    inner = forwarded.get_content()
    assert inner["Subject"] == "Inner"
    assert inner.get_content().strip() == "inside"


def test_draft_is_marked_unsent() -> None:
    msg = compose({"subject": "Draft", "to": ["bob@example.com"], "body": "x"}, now=NOW)
    msg.props.pop(ids.MESSAGE_DELIVERY_TIME)
    parsed = parse(via_msg(msg))
    assert parsed["X-Unsent"] == "1"
    # A draft was never sent: its date is when it was last changed.
    assert parsed["Date"].datetime == NOW.to_datetime()


def test_crlf_on_request() -> None:
    msg = rich_message()
    lf = message_to_eml(msg)
    crlf = message_to_eml(msg, crlf=True)
    assert b"\r\n" not in lf
    assert crlf.count(b"\n") == crlf.count(b"\r\n")
    assert parse(crlf)["Subject"] == parse(lf)["Subject"]


def test_output_is_reproducible() -> None:
    msg = rich_message()
    assert message_to_eml(msg) == message_to_eml(msg)


TRANSPORT = (
    "Received: from mx.example.com (mx.example.com [192.0.2.1])\r\n"
    "\tby mail.example.org; Tue, 2 Jan 2024 04:00:00 +0100\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel;\r\n"
    "\tb=AAAA\r\n"
    "List-Id: <list.example.com>\r\n"
    "X-Mailer: Something 1.0\r\n"
    "Date: Tue, 02 Jan 2024 04:04:05 +0100\r\n"
    "Subject: Original subject\r\n"
    "From: Zoë Example <zoe@example.com>\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "MIME-Version: 1.0\r\n\r\n"
)


def test_transport_headers_are_kept_and_edited_fields_replaced() -> None:
    msg = compose(
        {
            "subject": "Edited subject",
            "from": "Zoë Example <zoe@example.com>",
            "date": "2024-01-02T03:04:05Z",
            "draft": False,
            "body": "text",
        },
        now=NOW,
    )
    msg.props.set(ids.TRANSPORT_MESSAGE_HEADERS, t.PT_UNICODE, TRANSPORT)
    out = via_msg(msg)
    parsed = parse(out)
    assert parsed["Subject"] == "Edited subject"
    assert len(parsed.get_all("Subject")) == 1
    assert parsed["X-Mailer"] == "Something 1.0"
    assert parsed["List-Id"] == "<list.example.com>"
    assert "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel;\n\tb=AAAA\n" in out.decode()
    assert (
        "Received: from mx.example.com (mx.example.com [192.0.2.1])\n\tby mail.example.org;" in out.decode()
    )
    # Unchanged fields stay as they were written, time zone included.
    assert "Date: Tue, 02 Jan 2024 04:04:05 +0100\n" in out.decode()
    # Our own MIME fields replace the source's.
    assert parsed.get_all("Content-Type") == [parsed["Content-Type"]]
    assert parsed.get_content_type() == "text/plain"


def test_rtf_only_message_carries_text_rtf() -> None:
    rtf = rb"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}\f0 Hello \b RTF\b0 world\par}"
    msg = compose({"subject": "RTF", "rtf": rtf.decode("latin-1")}, now=NOW)
    parsed = parse(via_msg(msg))
    assert parsed.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in parsed.iter_parts()]
    assert kinds == ["text/plain", "text/rtf"]
    rtf_part = parsed.get_payload()[1]
    assert rtf_part.get_payload(decode=True).replace(b"\r\n", b"\n") == rtf
    assert "Hello" in parsed.get_payload()[0].get_content()


def test_html_from_compressed_rtf_only() -> None:
    html = "<html><body><p>Only in RTF</p></body></html>"
    msg = compose({"subject": "x", "html": html}, now=NOW)
    msg.props.pop(ids.HTML)
    parsed = parse(via_msg(msg))
    html_part = parsed.get_body(("html",))
    assert html_part is not None and "Only in RTF" in html_part.get_content()


def test_html_keeps_its_charset_bytes() -> None:
    html = '<html><head><meta charset="iso-8859-1"></head><body>Grüße</body></html>'
    msg = compose({"subject": "x", "html": html}, now=NOW)
    msg.props.set(ids.HTML, t.PT_BINARY, html.encode("latin-1"))
    msg.props.set(ids.INTERNET_CODEPAGE, t.PT_LONG, 28591)
    html_part = parse(message_to_eml(msg)).get_body(("html",))
    assert html_part is not None
    assert html_part.get_content_charset() == "iso-8859-1"
    assert html_part.get_payload(decode=True) == html.encode("latin-1")


SIGNED_ENTITY = (
    b'Content-Type: multipart/signed; protocol="application/pkcs7-signature";\r\n'
    b' micalg=sha-256; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain\r\n\r\n"
    b"signed text  \r\n"
    b"--b1\r\n"
    b"Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n"
    b"MIAGCSqGSIb3DQEHAqCAMIACAQE=\r\n"
    b"--b1--\r\n"
)


def test_signed_message_gives_back_the_signed_entity() -> None:
    msg = compose({"subject": "Signed", "from": "a@example.com", "body": "signed text"}, now=NOW)
    msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, mp.MESSAGE_CLASS_SIGNED)
    att = Attachment()
    att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE)
    att.props.set(ids.ATTACH_DATA, t.PT_BINARY, SIGNED_ENTITY)
    att.props.set(ids.ATTACH_MIME_TAG, t.PT_UNICODE, "multipart/signed")
    att.props.set(ids.ATTACH_LONG_FILENAME, t.PT_UNICODE, "smime.p7m")
    msg.attachments.append(att)
    out = via_msg(msg)
    body = SIGNED_ENTITY.split(b"\r\n\r\n", 1)[1]
    assert out.endswith(body)
    parsed = parse(out)
    assert parsed["Subject"] == "Signed"
    assert parsed.get_content_type() == "multipart/signed"
    assert parsed.get_param("micalg") == "sha-256"


def test_opaque_smime_is_application_pkcs7_mime() -> None:
    blob = bytes.fromhex("3080") + bytes.fromhex("06092a864886f70d010703") + b"\x00" * 20
    msg = compose({"subject": "Secret", "from": "a@example.com"}, now=NOW)
    msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, mp.MESSAGE_CLASS_SMIME)
    att = Attachment()
    att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE)
    att.props.set(ids.ATTACH_DATA, t.PT_BINARY, blob)
    att.props.set(ids.ATTACH_MIME_TAG, t.PT_UNICODE, "application/pkcs7-mime")
    msg.attachments.append(att)
    parsed = parse(via_msg(msg))
    assert parsed.get_content_type() == "application/pkcs7-mime"
    assert parsed.get_param("smime-type") == "enveloped-data"
    assert parsed.get_content() == blob


def test_ole_attachment_as_compound_file_or_named_in_a_header() -> None:
    msg = compose({"subject": "OLE", "body": "x"}, now=NOW)
    att = Attachment()
    att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_OLE)
    att.props.set(ids.DISPLAY_NAME, t.PT_UNICODE, "Picture")
    att.custom = Storage(entries={"Contents": b"ole bytes"})
    msg.attachments.append(att)
    alone = parse(message_to_eml(msg))
    assert alone["X-Msgsess-Unconverted"] == 'attachment 0 "Picture" is an OLE object'
    assert not list(alone.iter_attachments())
    exported = parse(message_to_eml(msg, storage_bytes=cfb.to_bytes))
    (part,) = list(exported.iter_attachments())
    assert part.get_content()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    assert cfb.read_bytes(part.get_content()).entries["Contents"] == b"ole bytes"


def test_attachment_dates_and_saved_content_type() -> None:
    msg = compose({"subject": "Invite", "body": "x"}, now=NOW)
    att = Attachment()
    att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE)
    att.props.set(ids.ATTACH_DATA, t.PT_BINARY, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    att.props.set(ids.ATTACH_LONG_FILENAME, t.PT_UNICODE, "invite.ics")
    att.props.set(ids.ATTACH_MIME_TAG, t.PT_UNICODE, "text/calendar")
    att.props.set(mp.CONTENT_TYPE, t.PT_UNICODE, 'text/calendar; method=REQUEST; charset="utf-8"; name=x.ics')
    att.props.set(ids.CREATION_TIME, t.PT_SYSTIME, NOW)
    msg.attachments.append(att)
    (part,) = list(parse(via_msg(msg)).iter_attachments())
    assert part.get_param("method") == "REQUEST"
    assert part.get_param("name") == "invite.ics"
    assert "creation-date" in part["Content-Disposition"]
    assert (
        hashlib.sha256(part.get_content().encode()).hexdigest()
        == hashlib.sha256(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".decode().encode()).hexdigest()
    )


@pytest.mark.parametrize("embedded", [False, True])
def test_line_breaks_in_attachment_fields_become_spaces(embedded: bool) -> None:
    """A file name, content id or location with CR/LF (a damaged or hostile .msg): the header
    fields take it unfolded, as a reader would, instead of failing the export (the fuzz harness
    found ``ValueError: Header values may not contain linefeed``)."""
    msg = compose({"subject": "Names", "body": "x"}, now=NOW)
    att = Attachment()
    if embedded:
        att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG)
        att.embedded = compose({"subject": "Inner", "body": "in"}, now=NOW)
    else:
        att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE)
        att.props.set(ids.ATTACH_DATA, t.PT_BINARY, b"data")
        att.props.set(ids.ATTACH_CONTENT_ID, t.PT_UNICODE, "a@b\r\nBcc: x@y")
        att.props.set(ids.ATTACH_CONTENT_LOCATION, t.PT_UNICODE, "http://h/\r\nX-Evil: 1")
    att.props.set(ids.ATTACH_LONG_FILENAME, t.PT_UNICODE, "report\r\nBcc: eve@example.com.txt")
    msg.attachments.append(att)
    parsed = parse(via_msg(msg))
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    (part,) = list(parsed.iter_attachments())
    assert part.get_filename() == "report Bcc: eve@example.com.txt"
    if not embedded:
        assert part["Content-ID"] == "<a@b Bcc: x@y>"
        assert part["Content-Location"] == "http://h/ X-Evil: 1"
        assert part.get_payload(decode=True) == b"data"


@pytest.mark.parametrize("text", ["plain ascii", "Ümlaut and a very long line " * 20])
def test_text_body_is_seven_bit(text: str) -> None:
    msg = compose({"subject": "x", "body": text}, now=NOW)
    out = message_to_eml(msg)
    assert out.isascii()
    assert parse(out).get_content().rstrip("\n") == text


def test_html_only_gets_a_text_alternative() -> None:
    msg = compose({"subject": "x", "html": "<p>One</p><p>Two</p>"}, now=NOW)
    msg.props.pop(ids.BODY)
    parsed = parse(message_to_eml(msg))
    plain = parsed.get_body(("plain",))
    assert plain is not None
    assert plain.get_content().split() == html_body.html_to_text("<p>One</p><p>Two</p>").split()
