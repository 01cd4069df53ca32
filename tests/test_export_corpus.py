"""``msgsess export`` over ``../shared/corpus``: real Outlook files as MIME mail.

Every output parses with Python's ``email`` without a defect, is 7-bit, and says what
Perl's ``msgconvert`` (an independent converter, installed with xcheck) says of the same
file: subject, the SMTP addresses of From/To/Cc, and the names of file attachments.
Where msgconvert is known to differ, the reason is given below; each is its quirk, not a
tolerance of ours.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FILES = sorted(CORPUS.rglob("*.msg")) if CORPUS.is_dir() else []
MSGCONVERT = shutil.which("msgconvert")

pytestmark = pytest.mark.skipif(not FILES, reason=f"no corpus at {CORPUS}")

#: msgconvert (libemail-outlook-message-perl 0.921) stops on these with "Unknown encoding 'CP50220'".
MSGCONVERT_FAILS = {"contactAnsi.msg", "nonUnicodeCP932.msg"}
#: Unsent messages whose sender is only in the one-off entry id: msgconvert leaves From out.
MSGCONVERT_NO_FROM = {"plain_unsent.msg", "plain_uc_unsent.msg", "plain_uc_wc_unsent.msg"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """Every corpus file exported by the real command, one run per corpus folder."""
    out = tmp_path_factory.mktemp("export")
    result: dict[Path, Path] = {}
    for folder in sorted({f.parent for f in FILES}):
        files = [f for f in FILES if f.parent == folder]
        target = out / folder.name
        proc = subprocess.run(
            [sys.executable, "-m", "msgsess", "export", "--out-dir", str(target), *map(str, files)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split("\n")[: len(files)] == [str(target / (f.stem + ".eml")) for f in files]
        result.update({f: target / (f.stem + ".eml") for f in files})
    return result


def _parse(data: bytes) -> Any:
    return email.message_from_bytes(data, policy=email.policy.default)


def test_every_export_parses_without_defects(exported: dict[Path, Path]) -> None:
    problems = []
    for source, eml in exported.items():
        data = eml.read_bytes()
        if not data.isascii():
            problems.append(f"{source.name}: not 7-bit")
        parsed = _parse(data)
        found = [type(d).__name__ for part in parsed.walk() for d in part.defects]
        if found:
            problems.append(f"{source.name}: {found}")
        if parsed["MIME-Version"] != "1.0":
            problems.append(f"{source.name}: no MIME-Version")
    assert not problems, "\n".join(problems)


def _smtp(parsed: Any, field: str) -> list[str]:
    """The SMTP addresses of a field: those in angle brackets, else the bare ones."""
    found = []
    for name, value in parsed.raw_items():
        if name.lower() != field.lower():
            continue
        text = str(value)
        bracketed = re.findall(r"<([^<>]+)>", text)
        found += bracketed or [a for _n, a in email.utils.getaddresses([text])]
    return sorted(a.strip().lower() for a in found if "@" in a and "/" not in a)


def _facts(data: bytes, embedded: list[str]) -> dict[str, Any]:
    """Subject, addresses and file attachment names (embedded messages, named only by us, left out)."""
    parsed = _parse(data)
    names = [part.get_filename() for part in parsed.walk() if part.get_filename()]
    for name in embedded:
        if name in names:
            names.remove(name)
    return {
        "subject": str(parsed.get("Subject", "")).strip(),
        "from": _smtp(parsed, "From"),
        "to": _smtp(parsed, "To"),
        "cc": _smtp(parsed, "Cc"),
        "attachments": sorted(names),
    }


def _embedded_names(path: Path) -> list[str]:
    """Names of the embedded-message attachments at any depth, as extract-msg reads them."""
    extract_msg = pytest.importorskip("extract_msg")

    def walk(msg: Any) -> list[str]:
        names = []
        for att in msg.attachments:
            if type(att).__name__ == "EmbeddedMsgAttachment":
                names.append(att.displayName or "")
                names += walk(att.data)
        return names

    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    with extract_msg.openMsg(str(path)) as msg:
        return walk(msg)


@pytest.mark.skipif(MSGCONVERT is None, reason="msgconvert not installed (CI installs it with xcheck)")
def test_msgconvert_agrees(exported: dict[Path, Path]) -> None:
    assert MSGCONVERT is not None
    problems = []
    compared = 0
    for source, eml in exported.items():
        if source.name in MSGCONVERT_FAILS:
            continue
        proc = subprocess.run([MSGCONVERT, "--outfile", "-", str(source)], capture_output=True, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        embedded = _embedded_names(source)
        ours, theirs = _facts(eml.read_bytes(), embedded), _facts(proc.stdout, [])
        if source.name in MSGCONVERT_NO_FROM:
            assert theirs["from"] == [] and ours["from"]
            theirs["from"] = ours["from"]
        if _parse(eml.read_bytes()).get_content_type() == "multipart/signed":
            # A signed message: we give back the signed part as it was (its own parts named),
            # msgconvert attaches it whole, unnamed.
            theirs["attachments"] = ours["attachments"]
        compared += 1
        for key in ours:
            if ours[key] != theirs[key]:
                problems.append(f"{source.name}: {key}: ours {ours[key]!r}, msgconvert {theirs[key]!r}")
    assert compared >= len(exported) - len(MSGCONVERT_FAILS)
    assert not problems, "\n".join(problems)
