"""The Dask example of docs/SCALE.md, on Dask's local process scheduler.

Skipped where Dask is not installed (``pip install msgsess[dask]``; CI installs it).
"""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import extract_msg
import pytest

bag = pytest.importorskip("dask.bag")

DOC = Path(__file__).resolve().parents[1] / "docs" / "SCALE.md"


def example_code() -> str:
    """The first Python block of docs/SCALE.md: the test runs what the page shows."""
    match = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert match is not None
    return match.group(1)


def test_dask_bag_converts_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "archive"
    inbox.mkdir()
    for n in range(24):
        m = EmailMessage(policy=SMTP)
        m["From"] = "Ann <ann@example.com>"
        m["To"] = "bob@example.com"
        m["Subject"] = f"Message {n}"
        m.set_content(f"Body {n}")
        (inbox / f"m{n:02d}.eml").write_bytes(m.as_bytes())
    (inbox / "broken.eml").write_bytes(b"\x00\x01 not mail")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(example_code(), str(DOC), "exec"), namespace)
    results = namespace["results"]
    assert isinstance(results, list)
    statuses = dict(results)
    assert statuses["archive/broken.eml"].startswith("failed: archive/broken.eml: ")
    assert sum(1 for s in statuses.values() if s == "converted") == 24
    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    with extract_msg.openMsg(str(tmp_path / "msg" / "m07.msg")) as msg:
        assert msg.subject == "Message 7"
