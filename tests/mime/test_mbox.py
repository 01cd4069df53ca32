"""msgsess.mime.mbox: mboxrd and mboxo archives split into messages, one at a time."""

from __future__ import annotations

import io
import mailbox
from pathlib import Path

import pytest

from msgsess.mime import iter_mbox
from msgsess.mime.mbox import looks_like_mbox

ARCHIVE = (
    b"From alice@example.com Tue Jan  2 03:04:05 2024\n"
    b"From: alice@example.com\nSubject: one\n\n"
    b"Hello\n>From the start\n>>From deeper\nFrom here, unescaped\n\n"
    b"From MAILER-DAEMON Wed Jan  3 10:00:00 2024\n"
    b"Subject: two\n\nsecond\n"
)


def test_mboxrd_unescapes_every_level() -> None:
    first, second = list(iter_mbox(io.BytesIO(ARCHIVE)))
    assert first == (
        b"From: alice@example.com\nSubject: one\n\n"
        b"Hello\nFrom the start\n>From deeper\nFrom here, unescaped\n"
    )
    assert second == b"Subject: two\n\nsecond\n"


def test_mboxo_unescapes_one_level() -> None:
    first, _ = list(iter_mbox(io.BytesIO(ARCHIVE), variant="mboxo"))
    assert b"\nFrom the start\n>>From deeper\n" in first
    with pytest.raises(ValueError):
        list(iter_mbox(io.BytesIO(ARCHIVE), variant="mboxcl"))


def test_reads_what_pythons_mailbox_writes(tmp_path: Path) -> None:
    """Messages written by the standard library's mbox writer (which escapes From lines) come back."""
    path = tmp_path / "box.mbox"
    sent = [f"From: a{n}@example.com\nSubject: s{n}\n\nFrom the body {n}\nline\n".encode() for n in range(5)]
    box = mailbox.mbox(str(path))
    for message in sent:
        box.add(message)
    box.close()
    with open(path, "rb") as f:
        assert list(iter_mbox(f, variant="mboxo")) == sent


def test_crlf_archives_and_text_before_the_first_message() -> None:
    data = b"garbage line\r\n\r\nFrom x Tue Jan  2 03:04:05 2024\r\nSubject: a\r\n\r\nbody\r\n\r\n"
    (only,) = list(iter_mbox(io.BytesIO(data)))
    assert only == b"Subject: a\r\n\r\nbody\r\n"


def test_detection() -> None:
    assert looks_like_mbox(ARCHIVE)
    assert not looks_like_mbox(b"From: alice@example.com\nSubject: x\n")
    assert list(iter_mbox(io.BytesIO(b""))) == []
