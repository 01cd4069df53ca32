"""msgsess.mime.reader: MIME mail as Outlook stores received mail, read back with extract-msg.

The mail is built with Python's ``email`` (a real MIME writer) or written out byte for byte
where the point is a malformed or unusual message; the ``.msg`` written from it is opened
with extract-msg, so what is checked is what a reader of the file sees.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import olefile
import pytest

from msgsess.errors import CorruptFile
from msgsess.mime import eml_to_message, message_to_eml
from msgsess.mime import props as mp
from msgsess.model import Message
from msgsess.oxmsg import rtf as rtf_body
from msgsess.props import ids
from msgsess.props import types as t

PNG = bytes.fromhex("89504E470D0A1A0A0000000D49484452") + b"\x00\x01" * 30


def mail(**fields: Any) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    defaults = {"From": "Ann Example <ann@example.com>", "To": "Bob <bob@example.com>", "Subject": "Hello"}
    for name, value in {**defaults, **fields}.items():
        if value is not None:
            msg[name.replace("_", "-")] = value
    return msg


def read(data: bytes) -> tuple[Message, list[str]]:
    return eml_to_message(data, label="test.eml")


def test_envelope(to_msg: Any) -> None:
    m = mail(
        From="=?utf-8?q?Zo=C3=AB?= <zoe@example.com>",
        Sender="Assistant <pa@example.com>",
        To='Team: bob@example.com, "Carol, C." <carol@example.org>;, dan@xn--bcher-kva.example',
        Cc="undisclosed-recipients:;",
        Bcc="eve@example.net",
        Reply_To="Replies <replies@example.com>",
        Subject="RE: =?iso-8859-1?q?Gr=FC=DFe?=",
        Date="Tue, 02 Jan 2024 04:04:05 +0100",
        Message_ID="<abc@example.com>",
        In_Reply_To="<parent@example.com>",
        References="<root@example.com> <parent@example.com>",
        Importance="high",
        Sensitivity="Company-Confidential",
        Keywords="Blue, Work",
        Disposition_Notification_To="zoe@example.com",
        Return_Receipt_To="zoe@example.com",
    )
    m["Received"] = "from mx.example.org by mail.example.org; Tue, 02 Jan 2024 03:10:00 +0000"
    m.set_content("Hi")
    em = to_msg(m.as_bytes())
    assert em.subject == "RE: Grüße"
    assert em.sender == "Zoë <zoe@example.com>"
    got = [(r.type.name, r.name, r.email) for r in em.recipients]
    assert got == [
        ("TO", "bob@example.com", "bob@example.com"),
        ("TO", "Carol, C.", "carol@example.org"),
        ("TO", "dan@xn--bcher-kva.example", "dan@xn--bcher-kva.example"),
        ("BCC", "eve@example.net", "eve@example.net"),
    ]
    assert em.date == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert em.receivedTime == dt.datetime(2024, 1, 2, 3, 10, tzinfo=dt.UTC)
    assert em.messageId == "<abc@example.com>"
    assert em.inReplyTo == "<parent@example.com>"
    msg, _ = read(m.as_bytes())
    p = msg.props
    assert p.value(ids.SUBJECT_PREFIX) == "RE: " and p.value(ids.NORMALIZED_SUBJECT) == "Grüße"
    assert p.value(ids.SENDER_EMAIL_ADDRESS) == "pa@example.com"
    assert p.value(ids.SENT_REPRESENTING_EMAIL_ADDRESS) == "zoe@example.com"
    assert p.value(ids.INTERNET_REFERENCES) == "<root@example.com> <parent@example.com>"
    assert p.value(ids.IMPORTANCE) == 2 and p.value(ids.SENSITIVITY) == 3
    assert p.value(mp.KEYWORDS) == ["Blue", "Work"]
    assert p.value(ids.READ_RECEIPT_REQUESTED) is True
    assert p.value(ids.ORIGINATOR_DELIVERY_REPORT_REQUESTED) is True
    assert p.value(ids.REPLY_RECIPIENT_NAMES) == "Replies"
    assert (
        p.value(ids.MESSAGE_FLAGS) & ids.MSGFLAG_READ and not p.value(ids.MESSAGE_FLAGS) & ids.MSGFLAG_UNSENT
    )
    headers = p.value(ids.TRANSPORT_MESSAGE_HEADERS)
    assert headers.startswith("From: =?utf-8?q?Zo=C3=AB?= <zoe@example.com>\r\n")
    assert headers.endswith("\r\n\r\n") and "from mx.example.org by mail.example.org;" in headers


@pytest.mark.parametrize(
    ("fields", "importance", "priority"),
    [
        ({"X-Priority": "1 (Highest)"}, 2, 0),
        ({"X-Priority": "5"}, 0, 0),
        ({"Priority": "urgent"}, 2, 1),
        ({"Priority": "non-urgent"}, 0, -1),
        ({"X-MSMail-Priority": "Low"}, 0, 0),
        ({"Importance": "low", "X-Priority": "1"}, 0, 0),
    ],
)
def test_importance_and_priority(fields: dict[str, str], importance: int, priority: int) -> None:
    m = mail()
    for name, value in fields.items():
        m[name] = value
    m.set_content("x")
    msg, _ = read(m.as_bytes())
    assert msg.props.value(ids.IMPORTANCE) == importance
    assert msg.props.value(ids.PRIORITY) == priority


def test_draft_and_x_headers(to_msg: Any) -> None:
    m = mail(X_Unsent="1", X_Mailer="Tool 2.0", Date="Tue, 02 Jan 2024 04:04:05 +0100")
    m.set_content("draft")
    msg, _ = read(m.as_bytes())
    flags = msg.props.value(ids.MESSAGE_FLAGS)
    assert flags & ids.MSGFLAG_UNSENT and not flags & ids.MSGFLAG_READ
    assert ids.CLIENT_SUBMIT_TIME not in msg.props
    assert msg.props.value(mp.internet_header("X-Mailer")) == "Tool 2.0"
    em = to_msg(m.as_bytes())
    assert em.isSent is False
    assert em.getNamedProp("x-mailer", "{00020386-0000-0000-C000-000000000046}") == "Tool 2.0"
    # The draft's date is kept as when it was last changed, and exported back.
    again = message_to_eml(msg)
    assert b"Date: Tue, 02 Jan 2024 04:04:05 +0100" in again and b"X-Unsent: 1" in again


def test_html_with_related_images_and_charsets(to_msg: Any) -> None:
    m = mail()
    m.set_content("Grüße as text", charset="iso-8859-1")
    m.add_alternative(
        '<html><body><p>Grüße</p><img src="cid:logo@x"><img src="pic.png"></body></html>', subtype="html"
    )
    html_part = m.get_payload()[1]
    html_part.add_related(PNG, "image", "png", cid="<logo@x>", filename="logo.png")
    html_part.add_related(PNG[::-1], "image", "png", headers=["Content-Location: http://x/pic.png"])
    m.add_attachment(b"%PDF-1.4", "application", "pdf", filename="Ärger überall.pdf")
    em = to_msg(m.as_bytes())
    assert em.body.strip() == "Grüße as text"
    assert "<p>Grüße</p>" in em.htmlBody.decode("utf-8")
    names = [(a.longFilename, a.mimetype, a.hidden, a.cid) for a in em.attachments]
    assert names == [
        ("logo.png", "image/png", True, "logo@x"),
        ("pic.png", "image/png", True, None),
        ("Ärger überall.pdf", "application/pdf", False, None),
    ]
    assert em.attachments[1].data == PNG[::-1]
    msg, _ = read(m.as_bytes())
    assert msg.props.value(ids.NATIVE_BODY) == 3
    rtf = rtf_body.decompress(msg.props.value(ids.RTF_COMPRESSED))
    assert rtf_body.html_from_rtf(rtf).replace("\r\n", "\n") == m.get_body(("html",)).get_content()
    assert msg.attachments[0].props.value(ids.ATTACH_FLAGS) == 4


def test_undeclared_8bit_and_unknown_charsets_fall_back() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain\r\n\r\nCaf\xc3\xa9 und Stra\xdfe\r\n"
    )
    msg, warnings = read(raw)
    # Not UTF-8 as a whole: read as Windows-1252, and said so.
    assert msg.props.value(ids.BODY) == "CafÃ© und Straße\r\n"
    assert any("read as windows-1252" in w for w in warnings)
    raw = b"From: a@example.com\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nna\xc3\xafve\r\n"
    msg, warnings = read(raw)
    assert msg.props.value(ids.BODY) == "naïve\r\n"
    assert any("unknown charset 'x-unknown'" in w for w in warnings)


def test_japanese_and_korean_charsets() -> None:
    text = "日本語のテキスト"
    for charset in ("iso-2022-jp", "shift_jis", "euc-jp"):
        m = mail(Subject="=?iso-2022-jp?b?GyRCRnxLXDhsGyhC?=")
        m.set_content(text, charset=charset)
        msg, warnings = read(m.as_bytes())
        assert msg.props.value(ids.BODY).strip() == text, charset
        assert msg.props.value(ids.SUBJECT) == "日本語"
        assert not warnings
    raw = "안녕하세요".encode("cp949")
    data = b"From: a@example.com\r\nContent-Type: text/plain; charset=ks_c_5601-1987\r\n\r\n" + raw
    assert read(data)[0].props.value(ids.BODY) == "안녕하세요"


def test_format_flowed() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: text/plain; format=flowed; delsp=no\r\n\r\n"
        b"This is one \r\nlong paragraph.\r\n> quoted \r\n> line\r\n-- \r\nsig\r\n"
    )
    body = read(raw)[0].props.value(ids.BODY)
    assert body.splitlines() == ["This is one long paragraph.", "> quoted line", "-- ", "sig"]
    raw = raw.replace(b"delsp=no", b"delsp=yes").replace(b"one \r\n", b"on \r\n")
    assert read(raw)[0].props.value(ids.BODY).splitlines()[0] == "This is onlong paragraph."


def test_rtf_bodies(to_msg: Any) -> None:
    rtf = b"{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\f0 Rich {\\b text} here.\\par}"
    for ctype in ("text/rtf", "application/rtf"):
        data = f"From: a@example.com\r\nSubject: r\r\nContent-Type: {ctype}\r\n\r\n".encode() + rtf
        em = to_msg(data)
        assert "Rich text here." in em.body
        assert em.rtfBody.rstrip(b"\0") == rtf
        assert not em.attachments
    html = "<html><body><p>Was HTML</p></body></html>"
    data = b"From: a@example.com\r\nContent-Type: text/rtf\r\n\r\n" + rtf_body.html_to_rtf(html)
    msg, _ = read(data)
    assert msg.props.value(ids.HTML) == html.encode()


def test_uuencoded_parts_and_blocks(to_msg: Any) -> None:
    import binascii

    payload = b"uuencoded bytes \x00\xff" * 5
    lines = b"".join(binascii.b2a_uu(payload[i : i + 45]) for i in range(0, len(payload), 45))
    block = b"begin 644 data.bin\n" + lines + b"`\nend\n"
    data = b"From: a@example.com\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n\r\n" + block + b"Bye.\r\n"
    em = to_msg(data)
    assert [a.longFilename for a in em.attachments] == ["data.bin"]
    assert em.attachments[0].data == payload
    assert "begin 644" not in em.body and "See below." in em.body and "Bye." in em.body
    part = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\nbody\r\n--b\r\n"
        b"Content-Type: application/octet-stream; name=x.bin\r\n"
        b"Content-Transfer-Encoding: x-uuencode\r\n\r\n" + block + b"--b--\r\n"
    )
    assert to_msg(part).attachments[0].data == payload


def test_attachment_names_dates_and_saved_content_type() -> None:
    raw = (
        b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\nbody\r\n--b\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n"
        b" filename*0*=utf-8''%E6%97%A5%E6%9C%AC; filename*1=\"-long-name.txt\";\r\n"
        b' creation-date="Tue, 02 Jan 2024 04:04:05 +0100";\r\n'
        b' modification-date="Wed, 03 Jan 2024 00:00:00 +0000"\r\n'
        b"\r\nabc\r\n--b\r\n"
        b'Content-Type: text/plain; name="=?utf-8?q?caf=C3=A9.txt?="\r\n'
        b"Content-Disposition: attachment\r\n\r\nxyz\r\n--b\r\n"
        b"Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; bob@example.com\r\nStatus: 5.0.0\r\n--b--\r\n"
    )
    msg, _ = read(raw)
    names = [a.name for a in msg.attachments]
    assert names == ["日本-long-name.txt", "café.txt", "ATT00001.ics", "ATT00002.txt"]
    first = msg.attachments[0].props
    assert first.value(ids.CREATION_TIME) == t.FileTime.from_datetime(
        dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    )
    assert first.value(ids.ATTACH_SIZE) == 3
    calendar = msg.attachments[2].props
    assert calendar.value(ids.ATTACH_MIME_TAG) == "text/calendar"
    assert calendar.value(mp.CONTENT_TYPE) == "text/calendar; method=REQUEST; charset=utf-8"
    status = msg.attachments[3]
    assert status.props.value(ids.ATTACH_MIME_TAG) == "message/delivery-status"
    assert b"Final-Recipient: rfc822; bob@example.com" in status.data
    # Exported again, the calendar keeps its method.
    exported = email.message_from_bytes(message_to_eml(msg), policy=email.policy.default)
    calendars = [p for p in exported.walk() if p.get_content_type() == "text/calendar"]
    assert [p.get_param("method") for p in calendars] == ["REQUEST"]


def embedded_mail(depth: int) -> bytes:
    inner = mail(Subject="level 0")
    inner.set_content("innermost")
    for level in range(1, depth + 1):
        outer = mail(Subject=f"level {level}")
        outer.set_content(f"text {level}")
        outer.add_attachment(inner)
        inner = outer
    return inner.as_bytes()


def test_embedded_messages_recursively(to_msg: Any) -> None:
    em = to_msg(embedded_mail(3))
    assert em.subject == "level 3"
    inner = em.attachments[0].data
    assert inner.subject == "level 2"
    assert inner.attachments[0].data.attachments[0].data.body.strip() == "innermost"


def test_embedding_beyond_the_limit_is_kept_as_an_eml_file() -> None:
    msg, warnings = read(embedded_mail(32))
    node = msg
    depth = 0
    while node.attachments and node.attachments[0].embedded is not None:
        node = node.attachments[0].embedded
        depth += 1
    assert depth == 30
    kept = node.attachments[0]
    assert kept.props.value(ids.ATTACH_MIME_TAG) == "message/rfc822"
    assert b"Subject: level 1" in kept.data
    assert any("deeper than 30" in w for w in warnings)


def test_digest_children_are_embedded_messages() -> None:
    raw = (
        b"From: list@example.com\r\nSubject: Digest\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n"
        b"--d\r\n\r\nFrom: a@example.com\r\nSubject: one\r\n\r\nfirst\r\n"
        b"--d\r\n\r\nFrom: b@example.com\r\nSubject: two\r\n\r\nsecond\r\n--d--\r\n"
    )
    msg, _ = read(raw)
    assert [a.embedded.props.value(ids.SUBJECT) for a in msg.attachments if a.embedded] == ["one", "two"]


def test_pgp_mime_is_kept_as_its_parts() -> None:
    raw = (
        b"From: a@example.com\r\nSubject: signed\r\n"
        b'Content-Type: multipart/signed; protocol="application/pgp-signature";\r\n'
        b" micalg=pgp-sha256; boundary=s\r\n"
        b"\r\n--s\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n--s\r\n"
        b"Content-Type: application/pgp-signature; name=signature.asc\r\n\r\n"
        b"-----BEGIN PGP SIGNATURE-----\r\n"
        b"-----END PGP SIGNATURE-----\r\n--s--\r\n"
    )
    msg, _ = read(raw)
    assert msg.props.value(ids.MESSAGE_CLASS) == "IPM.Note"
    assert msg.props.value(ids.BODY) == "signed text"
    assert [a.name for a in msg.attachments] == ["signature.asc"]


def test_opaque_smime_keeps_the_cms_blob(to_msg: Any) -> None:
    blob = bytes.fromhex("3080") + bytes.fromhex("06092a864886f70d010703") + bytes(range(200))
    m = mail()
    m.set_content(
        blob, "application", "pkcs7-mime", params={"smime-type": "enveloped-data", "name": "smime.p7m"}
    )
    em = to_msg(m.as_bytes())
    assert em.classType == "IPM.Note.SMIME"
    # extract-msg opens S/MIME messages as their content; read the stored attachment with olefile.
    with olefile.OleFileIO(em.path) as ole:
        att = "__attach_version1.0_#00000000/"
        assert ole.openstream(att + "__substg1.0_37010102").read() == blob
        assert ole.openstream(att + "__substg1.0_3707001F").read().decode("utf-16-le") == "smime.p7m"
        assert (
            ole.openstream(att + "__substg1.0_370E001F").read().decode("utf-16-le")
            == "application/pkcs7-mime"
        )
    msg, _ = read(m.as_bytes())
    again = message_to_eml(msg)
    parsed = email.message_from_bytes(again, policy=email.policy.default)
    assert parsed.get_content_type() == "application/pkcs7-mime"
    assert parsed.get_param("smime-type") == "enveloped-data"
    assert read(again)[0].attachments[0].data == blob


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "is empty"),
        (b"\r\n  \r\n", "is empty"),
        (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(100), "compound file"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "does not start with a header field"),
        (b"Just some text.\nNothing else.\n", "does not start with a header field"),
        (b"name: value\nother: thing\n", "has no mail header field"),
    ],
)
def test_what_is_not_mail_is_refused_with_one_line(data: bytes, why: str) -> None:
    with pytest.raises(CorruptFile) as caught:
        read(data)
    assert why in str(caught.value)
    assert caught.value.one_line().startswith("test.eml: ")
    assert "\n" not in caught.value.one_line()


def test_damage_becomes_warnings_not_errors() -> None:
    raw = (
        b"From: a@example.com\r\nDate: not a date\r\nSubject: broken\r\n"
        b"Content-Type: multipart/mixed; boundary=----=_Part_1\r\n\r\n"
        b"------=_Part_1\r\nContent-Type: text/plain\r\n\r\nbody text\r\n"
        b"------=_Part_1\r\nContent-Type: image/png; name=i.png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"iVBORw0KGgo=\r\n"
    )
    msg, warnings = read(raw)
    assert msg.props.value(ids.BODY) == "body text"
    assert [a.name for a in msg.attachments] == ["i.png"]
    assert ids.CLIENT_SUBMIT_TIME not in msg.props
    assert any("'=' in it was not quoted" in w for w in warnings)
    assert any("Date: 'not a date' is no date" in w for w in warnings)
    assert any("close boundary" in w for w in warnings)


def test_mbox_from_line_and_bom_are_skipped() -> None:
    raw = b"\xef\xbb\xbfFrom sender@example.com Tue Jan  2 03:04:05 2024\r\n"
    raw += b"Subject: x\r\nFrom: a@example.com\r\n\r\nhi\r\n"
    msg, _ = read(raw)
    assert msg.props.value(ids.SUBJECT) == "x"
    assert not msg.props.value(ids.TRANSPORT_MESSAGE_HEADERS).startswith("From sender")


def test_search_key_is_reproducible() -> None:
    m = mail()
    m.set_content("same")
    a, _ = read(m.as_bytes())
    b, _ = read(m.as_bytes())
    assert a.props.value(ids.SEARCH_KEY) == b.props.value(ids.SEARCH_KEY)
    assert hashlib.sha256(m.as_bytes()).digest()[:16] == a.props.value(ids.SEARCH_KEY)


def test_thread_index_is_the_conversation_index() -> None:
    index = bytes.fromhex("01D9C0A1B2C3") + bytes(range(16))
    m = mail(Thread_Index=base64.b64encode(index).decode(), Thread_Topic="Topic")
    m.set_content("x")
    msg, _ = read(m.as_bytes())
    assert msg.props.value(ids.CONVERSATION_INDEX) == index
    assert msg.props.value(ids.CONVERSATION_TOPIC) == "Topic"
