"""``export`` of text that holds line breaks and control characters (every internal error is a defect).

A subject, a display name or a named header value with a line break went into a header field as
it was: ``internal error: ValueError: Header values may not contain linefeed or carriage return
characters`` — and a header writer that let it through would let the file add header lines of its
own (``Bcc:``). A line break in a header is unfolded to a space, as a reader unfolds one.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from msgsess import cfb, oxmsg
from msgsess.composer import compose
from tests.conftest import Invoke

BREAKS = "Hello\r\nBcc: mallory@example.com\nX-Evil: 1\r\x1b]0;title\x07 \u202eend"


def test_line_breaks_in_header_text_are_unfolded_never_new_fields(invoke: Invoke, workdir: Path) -> None:
    for name, spec in {
        "ascii": {"subject": BREAKS.replace("\u202e", "")},
        "unicode": {"subject": "Grüße " + BREAKS},
        "names": {
            "subject": "x",
            "from": "Ann\nBcc: mallory@example.com <ann@example.com>",
            "to": ["Bob\r\nX-Evil: 1 <bob@example.com>", "Zoë\n <zoe@example.com>"],
            "properties": {"PS_INTERNET_HEADERS:X-Note": "one\nX-Evil: 1"},
        },
    }.items():
        (workdir / f"{name}.msg").write_bytes(cfb.to_bytes(oxmsg.encode(compose(spec))))
        result = invoke("export", f"{name}.msg")
        assert result.exit_code == 0, (name, result.stderr)
        data = (workdir / f"{name}.eml").read_bytes()
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert parsed["Bcc"] is None and parsed["X-Evil"] is None, (name, data[:800])
        header_block = data.split(b"\n\n", 1)[0]
        assert not any(line.startswith((b"Bcc", b"X-Evil")) for line in header_block.splitlines()), name
        if name != "names":
            subject = str(parsed["Subject"])
            assert "\n" not in subject and "\r" not in subject
            assert "Bcc: mallory@example.com" in subject and subject.endswith("end")
        else:
            assert "ann@example.com" in str(parsed["From"]) and "bob@example.com" in str(parsed["To"])
            assert "zoe@example.com" in str(parsed["To"]) and parsed["X-Note"] is None  # left out
