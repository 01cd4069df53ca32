"""``../shared/corpus-eml`` (103 real and malformed messages) and ``../shared/corpus`` both ways.

* Every .eml converts (none of them is "not mail at all"); what extract-msg reads from the
  .msg — subject, sender, To/Cc, date, plain and HTML bodies, attachments (names, MIME
  types, SHA-256, embedded subjects) — equals what Python's ``email`` reads from the source.
* EML -> MSG -> EML keeps those fields (read by ``email`` from both ends).
* MSG -> EML -> MSG over the Outlook corpus keeps them (read by extract-msg from both ends).

What the comparison normalises, each for a stated reason: line ends and runs of white space
in bodies (Outlook stores CRLF; format=flowed is undone on import); text that ``email``
could not decode (U+FFFD) is compared on its ASCII characters, since msgsess falls back to
UTF-8 / Windows-1252 where ``email`` gives up; raw 8-bit header bytes are UTF-8 (RFC 6532)
or Windows-1252, as msgsess reads them; a parts' file name is compared where the source has
one (unnamed parts are named ATT00001.txt… as Outlook names them).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import hashlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from msgsess.convert import eml_to_msg, msg_to_eml

extract_msg = pytest.importorskip("extract_msg")

ROOT = Path(__file__).resolve().parents[1]
EML_CORPUS = ROOT.parent / "shared" / "corpus-eml"
MSG_CORPUS = ROOT.parent / "shared" / "corpus"
EML_FILES = sorted(EML_CORPUS.rglob("*.eml")) if EML_CORPUS.is_dir() else []
MSG_FILES = sorted(MSG_CORPUS.rglob("*.msg")) if MSG_CORPUS.is_dir() else []
UNQUOTED_BOUNDARY = re.compile(rb"(?i)(boundary\s*=\s*)([^\s\";][^\s;]*=[^\s;]*)")


def _ids(files: list[Path], root: Path) -> list[str]:
    return [f.relative_to(root).as_posix() for f in files]


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    yield


# --- what Python's email reads ------------------------------------------------------------


def text_of(value: Any) -> str:
    """A header's text; raw 8-bit bytes (surrogate escapes) as UTF-8, else Windows-1252."""
    text = str(value)
    if any("\udc80" <= c <= "\udcff" for c in text):
        raw = text.encode("utf-8", "surrogateescape")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("windows-1252", "replace")
    return text.replace("\0", "").strip()


def parse(data: bytes) -> Any:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    if any(type(d).__name__ == "StartBoundaryNotFoundDefect" for p in parsed.walk() for d in p.defects):
        # The one repair msgsess makes before reading (tests/mime/test_reader.py): an unquoted
        # boundary with '=' in it, which every mail reader takes whole.
        parsed = email.message_from_bytes(
            UNQUOTED_BOUNDARY.sub(rb'\1"\2"', data), policy=email.policy.default
        )
    return parsed


def mailboxes(parsed: Any, field: str) -> list[str]:
    out = []
    for header in parsed.get_all(field) or []:
        for mailbox in getattr(header, "addresses", ()):
            addr = text_of(mailbox.addr_spec).strip("<>").replace('"', "")
            if addr:
                out.append(addr.lower())
    return out


def body_part(parsed: Any, kind: str) -> Any:
    part = parsed.get_body((kind,))
    return part if part is not None and part.get_filename() is None else None


def content(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


def norm(text: str | None, *, flowed: bool = False) -> str | None:
    if text is None:
        return None
    text = re.sub(r"\s+", "" if flowed else " ", text.replace("\r", "")).strip()
    return text


def same_text(ours: str | None, theirs: str | None, *, flowed: bool = False) -> bool:
    a, b = norm(ours, flowed=flowed), norm(theirs, flowed=flowed)
    if a is None or b is None:
        return a == b
    if "\ufffd" in b:
        return "".join(c for c in a if c.isascii()) == "".join(c for c in b if c.isascii())
    return a == b


def leaves(part: Any) -> Iterator[Any]:
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        for child in part.get_payload():
            yield from leaves(child)
    elif part.get_content_maintype() == "multipart" and not str(part.get_payload() or "").strip():
        return
    else:
        yield part


def attachment_facts(parsed: Any, bodies: list[Any]) -> list[tuple[Any, ...]]:
    facts: list[tuple[Any, ...]] = []
    for part in leaves(parsed):
        if any(part is b for b in bodies):
            continue
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and part.is_multipart():
            name = part.get_filename() or part.get_payload(0).get("Subject", "")
            facts.append(("embedded", text_of(name)))
            continue
        payload = part.get_payload(decode=True)
        digest = hashlib.sha256(payload).hexdigest() if isinstance(payload, bytes) else None
        name = part.get_filename()
        facts.append((text_of(name) if name else None, ctype, digest))
    return facts


def eml_facts(data: bytes) -> dict[str, Any]:
    parsed = parse(data)
    plain, html = body_part(parsed, "plain"), body_part(parsed, "html")
    date = parsed["Date"].datetime if parsed.get("Date") is not None else None
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=dt.UTC)
    senders = mailboxes(parsed, "From") or mailboxes(parsed, "Sender")
    return {
        "subject": text_of(parsed["Subject"]) if parsed.get("Subject") is not None else "",
        "from": senders[0] if senders else None,
        "to": mailboxes(parsed, "To"),
        "cc": mailboxes(parsed, "Cc"),
        "date": date,
        "plain": content(plain) if plain is not None else None,
        "flowed": plain is not None and (plain.get_param("format") or "").lower() == "flowed",
        # An empty HTML part is no HTML body.
        "html": content(html) if html is not None and content(html).strip() else None,
        "attachments": attachment_facts(parsed, [p for p in (plain, html) if p is not None]),
    }


# --- what extract-msg reads ---------------------------------------------------------------


def msg_facts(path: Path) -> dict[str, Any]:
    with extract_msg.openMsg(str(path)) as msg:
        # The sender as the properties say (extract-msg's .sender prefers the transport headers).
        sender = msg.getStringStream("__substg1.0_0065") or email.utils.parseaddr(msg.sender or "")[1]
        sender = sender.replace('"', "").lower() or None
        kinds = {"TO": [], "CC": []}
        for rcpt in msg.recipients:
            if rcpt.type.name in kinds and rcpt.email:
                kinds[rcpt.type.name].append(rcpt.email.lower())
        try:
            html = msg.htmlBody
        except UnicodeDecodeError:  # extract-msg's de-encapsulation (RTFDE) fails on some \ansicpg932 RTF
            html = None
        cpid = msg.getPropertyVal("3FDE0003")
        attachments: list[tuple[Any, ...]] = []
        for att in msg.attachments:
            if type(att).__name__ == "EmbeddedMsgAttachment":
                attachments.append(("embedded", (att.displayName or att.data.subject or "").rstrip("\0")))
            else:
                data = att.data if isinstance(att.data, bytes) else b""
                attachments.append((att.longFilename, att.mimetype, hashlib.sha256(data).hexdigest()))
        date = msg.date
        if isinstance(date, dt.datetime) and date.tzinfo is None:
            date = date.replace(tzinfo=dt.UTC)  # extract-msg gives dates before 1970 without a zone
        return {
            "subject": (msg.subject or "").rstrip("\0"),
            "from": sender.strip('"').rstrip("\0") if sender else None,
            "to": [a.rstrip("\0") for a in kinds["TO"]],
            "cc": [a.rstrip("\0") for a in kinds["CC"]],
            "date": date,
            "plain": (msg.body or "").rstrip("\0") if msg.body is not None else None,
            "html": html,
            "attachments": attachments,
            "charset": CODECS.get(cpid if isinstance(cpid, int) else 0, "utf-8"),
            "unicode": bool(msg.areStringsUnicode),
            "codepage": msg.getPropertyVal("3FFD0003") or {50220: 932}.get(cpid, cpid) or 1252,
        }


#: PR_INTERNET_CPID -> the codec its HTML body is read in.
CODECS = {65001: "utf-8", 28591: "latin-1", 28592: "iso8859-2", 1252: "cp1252", 1251: "cp1251",
          50220: "iso2022_jp", 932: "cp932", 20127: "ascii", 949: "cp949", 936: "gb18030"}  # fmt: skip


def compare(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    problems = []
    for key in ("subject", "from", "to", "cc", "date"):
        if expected[key] != got[key]:
            problems.append(f"{key}: source {expected[key]!r}, read back {got[key]!r}")
    if expected["plain"] is not None and not same_text(
        got["plain"], expected["plain"], flowed=expected["flowed"]
    ):
        problems.append(
            f"plain body: source {norm(expected['plain'])!r:.80}, read back {norm(got['plain'])!r:.80}"
        )
    if expected["html"] is not None:
        html = got["html"]
        text = html if isinstance(html, str) else None
        if isinstance(html, bytes):
            text = html.decode(got["charset"], "replace")
        if not same_text(text, expected["html"]):
            problems.append("html body differs")
    # In file order, except that extract-msg lists a signed message's signature first.
    exp_atts, got_atts = sorted(expected["attachments"], key=_order), sorted(got["attachments"], key=_order)
    if len(exp_atts) != len(got_atts):
        problems.append(f"attachments: source {exp_atts}, read back {got_atts}")
    else:
        for want, have in zip(exp_atts, got_atts, strict=True):
            if want[0] == "embedded" or have[0] == "embedded":
                if want != have:
                    problems.append(f"embedded message: source {want}, read back {have}")
                continue
            name, ctype, digest = want
            if (name is not None and name != have[0]) or ctype != have[1] or (digest and digest != have[2]):
                problems.append(f"attachment: source {want}, read back {have}")
    return problems


def _order(fact: tuple[Any, ...]) -> tuple[str, str]:
    if fact[0] == "embedded":
        return ("~embedded", str(fact[1]))
    return (str(fact[1]), str(fact[2] or ""))


# --- the tests ------------------------------------------------------------------------------


@pytest.mark.skipif(not EML_FILES, reason=f"no corpus at {EML_CORPUS}")
@pytest.mark.parametrize("path", EML_FILES, ids=_ids(EML_FILES, EML_CORPUS) if EML_FILES else None)
def test_eml_converts_and_reads_back_as_the_source(path: Path, tmp_path: Path) -> None:
    data = path.read_bytes()
    target = tmp_path / "out.msg"
    target.write_bytes(eml_to_msg(data, name=path.name))
    expected = eml_facts(data)
    problems = compare(expected, msg_facts(target))
    assert not problems, "\n".join(problems)

    # EML -> MSG -> EML: the exported message says the same.
    again = msg_to_eml(target.read_bytes())
    back = eml_facts(again)
    back["attachments"] = [
        (w[0] if w[0] is None else b[0], *b[1:]) if w[0] != "embedded" and len(b) == 3 else b
        for w, b in zip(expected["attachments"], back["attachments"], strict=False)
    ] + back["attachments"][len(expected["attachments"]) :]
    if expected["date"] is None:
        # An unreadable Date: export writes the delivery time (from Received) instead.
        back["date"] = None
    problems = compare(expected, {**back, "plain": back["plain"] if expected["plain"] is not None else None})
    assert not problems, "round trip: " + "\n".join(problems)


@pytest.mark.skipif(not MSG_FILES, reason=f"no corpus at {MSG_CORPUS}")
@pytest.mark.parametrize("path", MSG_FILES, ids=_ids(MSG_FILES, MSG_CORPUS) if MSG_FILES else None)
def test_msg_to_eml_to_msg_keeps_the_fields(path: Path, tmp_path: Path) -> None:
    target = tmp_path / "again.msg"
    target.write_bytes(eml_to_msg(msg_to_eml(path.read_bytes(), name=path.name), name=path.name))
    before, after = msg_facts(path), msg_facts(target)
    problems = []
    if not before["unicode"]:
        # extract-msg reads the 8-bit strings of ANSI files as Latin-1 whatever their code page
        # (PR_MESSAGE_CODEPAGE, else PR_INTERNET_CPID), where msgsess reads them in that code page.
        codec = {20127: "ascii", 65001: "utf-8"}.get(before["codepage"], f"cp{before['codepage']}")
        for key in ("subject", "plain"):
            if before[key] is not None:
                before[key] = before[key].encode("latin-1", "replace").decode(codec, "replace")
    if before["subject"] != after["subject"]:
        problems.append(f"subject: {before['subject']!r} became {after['subject']!r}")
    if before["date"] is not None and (
        after["date"] is None or abs(before["date"] - after["date"]).total_seconds() >= 1
    ):
        # RFC 5322 dates have whole seconds: the fraction Outlook stores cannot travel.
        problems.append(f"date: {before['date']!r} became {after['date']!r}")
    for key in ("from", "to", "cc"):
        # Every SMTP address stays; Exchange DNs may become the SMTP address the headers had.
        was = [before[key]] if key == "from" else before[key]
        now = [after[key]] if key == "from" else after[key]
        lost = [a for a in was if a and "@" in a and "/" not in a and a not in now]
        if lost:
            problems.append(f"{key}: {was!r} became {now!r}")
    if before["plain"] and not same_text(after["plain"], before["plain"]):
        problems.append("plain body differs")

    def names(facts: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # A by-value .eml attachment travels as message/rfc822 and comes back embedded: its name stays.
        return sorted((f[1], None) if f[0] == "embedded" else (f[0], f[2]) for f in facts)

    if [n for n, _ in names(before["attachments"])] != [n for n, _ in names(after["attachments"])]:
        problems.append(f"attachments: {before['attachments']} became {after['attachments']}")
    for (name, digest), (_, again) in zip(
        names(before["attachments"]), names(after["attachments"]), strict=False
    ):
        if digest and again and digest != again:
            problems.append(f"attachment {name}: bytes differ")
    assert not problems, "\n".join(problems)
