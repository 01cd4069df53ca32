"""xcheck's seven readers on what ``msgsess convert`` makes of ``../shared/corpus-eml``.

Every reader parses every output, and they agree on each field, except where a reader's own
way of reading is documented below (the same for Outlook's files: see tests/test_xcheck.py and
xcheck's README). Skipped without the readers (CI installs them) or without ../shared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus-eml"


def _xcheck_test() -> Any:
    """tests/test_xcheck.py, for its xcheck location and report helpers."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("xcheck_test", ROOT / "tests" / "test_xcheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


XCHECK_TEST = _xcheck_test()
XCHECK: Path | None = XCHECK_TEST.XCHECK
pytestmark = [
    pytest.mark.skipif(XCHECK is None, reason="xcheck readers not installed (CI installs them)"),
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}"),
]

#: field -> readers whose own way of reading makes them differ (each checked on the files).
QUIRKS: dict[str, set[str]] = {
    # msgconvert takes From, To and Cc from PR_TRANSPORT_MESSAGE_HEADERS (the mail as received),
    # not from the properties: a Sender: header, a group or an unquoted name reads differently;
    # it prints non-ASCII text in Perl's output encoding (tests/test_xcheck.py).
    "subject": {"msgconvert"},
    "sender_name": {"msgconvert"},
    "sender_email": {"msgconvert"},
    "recipients": {"msgconvert"},
    "body": {"msgconvert"},
    # msgconvert leaves message/delivery-status attachments out of the mail it writes;
    # independentsoft lists no attachment of zero bytes (a uuencoded part that is empty).
    "attachments.count": {"msgconvert", "isoft"},
    "attachments.files": {"msgconvert", "isoft"},
}
#: extract-msg opens a signed message's smime.p7m and lists the attachments inside it.
SIGNED = "mime_emails/raw_email_with_nested_attachment.msg"


def test_every_reader_parses_every_converted_message(tmp_path: Path) -> None:
    assert XCHECK is not None
    out = tmp_path / "msg"
    proc = subprocess.run(
        [sys.executable, "-m", "msgsess", "convert", str(CORPUS), "--out-dir", str(out), "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    files = sorted(out.rglob("*.msg"))
    assert len(files) == len(list(CORPUS.rglob("*.eml")))
    checked = subprocess.run(
        [sys.executable, str(XCHECK), "--jsonl", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    reports = [json.loads(line) for line in checked.stdout.splitlines() if line.strip()]
    assert len(reports) == len(files), checked.stderr[-2000:]
    problems = []
    for report in reports:
        name = Path(report["file"]).relative_to(out).as_posix()
        if report["result"] != "PASS":
            problems.append(f"{name}: readers failed: {report['failed_readers']}")
        agree = report.get("agree") or {}
        for field in agree.get("disagree", []):
            odd = XCHECK_TEST._odd_readers(agree["values"][field])
            allowed = QUIRKS.get(field, set()) | ({"extract_msg"} if name == SIGNED else set())
            if not odd <= allowed:
                problems.append(f"{name}: {field} differs in {sorted(odd)}: {agree['values'][field]}")
    assert not problems, "\n".join(problems)
