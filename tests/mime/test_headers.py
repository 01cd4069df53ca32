"""Header fields read without ``email``'s header objects (the plain ones) give what those give."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from msgsess.mime import headers as hdr
from msgsess.mime.reader import POLICY

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus-eml"

CASES = [
    b"From: Ann  Lee <a@x.com>\nTo: a@x.com, B <b@y.org>,\n c@z.net\nCc: Dr. X <x@y.com>\n"
    b"Subject: hi  there\n  folded\nDate: Tue, 02 Jan 2024 03:04:05 +0100\n\nx",
    b'From: ann@x.com (Ann)\nTo: "Lee, Ann" <a@x.com>\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n'
    b"Date: 2 Jan 2024 03:04\n\nx",
    b"From: A_B-C <a.b+c@x-y.com>\nTo: undisclosed-recipients:;\nSubject:\t tab\nDate: garbage\n\nx",
    b"From: <a@x.com>\nTo: Name<n@x.com>\nReply-To: r@x.com\nSubject: x=y ? z\n\nx",
    b"From: Ren\xc3\xa9 <r@x.com>\nTo: bad@@x.com, , trailing@x.com,\nSubject: caf\xc3\xa9\n\nx",
    b"From: =?iso-8859-1?q?Ren=E9?= <r@x.com>\nCc: a@[10.0.0.1]\nDate: Tue, 02 Jan 2024 03:04:05\n\nx",
]


def _samples() -> list[bytes]:
    found = list(CASES)
    if CORPUS.is_dir():
        found += [p.read_bytes() for p in sorted(CORPUS.rglob("*.eml"))]
    return found


def _slow_addresses(msg: EmailMessage, name: str, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patch:
        patch.setattr(hdr, "_plain_addresses", lambda _raws: None)
        return hdr.addresses(msg, name)


@pytest.mark.parametrize("data", _samples(), ids=lambda d: str(len(d)))
def test_plain_fields_read_as_email_reads_them(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    msg = BytesParser(policy=POLICY).parsebytes(data)
    for name in ("From", "Sender", "To", "Cc", "Bcc", "Reply-To"):
        assert hdr.addresses(msg, name) == _slow_addresses(msg, name, monkeypatch), name
    for name in ("Subject", "Thread-Topic", "Content-Location"):
        value = msg.get(name)
        expected = None if value is None else hdr.clean_text(hdr.fix_header_text(str(value))).strip()
        assert hdr.text(msg, name) == expected, name
    value = msg.get("Date")
    expected_date = None
    if value is not None:
        expected_date = hdr._aware(getattr(value, "datetime", None) or hdr.parse_date(str(value)))
    assert hdr.date(msg) == expected_date


def test_plain_mailboxes_are_recognised() -> None:
    assert hdr._plain_addresses(["Ann Lee <a@x.com>, b@y.org"]) == [
        ("Ann Lee", "a@x.com"),
        ("b@y.org", "b@y.org"),
    ]
    for raw in (
        '"Lee, Ann" <a@x.com>',
        "=?utf-8?q?x?= <a@x.com>",
        "Dr. X <x@y.com>",
        "a@x.com,",
        "G: a@x.com;",
    ):
        assert hdr._plain_addresses([raw]) is None, raw
