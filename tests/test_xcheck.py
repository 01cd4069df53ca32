"""Every independent reader parses what msgsess writes, and they agree on what they read.

Runs ``../shared/tools/xcheck`` (seven readers: extract-msg, independentsoft, Apache
POI, msgreader, msgconvert, olefile, libolecf) over the files of the example session
(``examples/demo.sh``, through the real command line) and of the README's Makefile
scenario (``make -j``). CI installs the readers
(``.ci/run``) and points ``MSGSESS_XCHECK`` at them; elsewhere the test skips.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_XCHECK = ROOT.parent / "shared" / "tools" / "xcheck" / "xcheck"

#: Disagreements that are the reader's own doing, each seen on Outlook's files too or
#: explained in xcheck's README ("Reader quirks seen"): field -> readers allowed to differ.
KNOWN_QUIRKS: dict[str, set[str]] = {
    # msgconvert prints non-ASCII header values unencoded, in Perl's output encoding: text of
    # Latin-1 characters as Latin-1 bytes, anything wider as UTF-8 ("Wide character"), and the
    # 8-bit strings of ANSI files as their raw bytes (it ignores PR_MESSAGE_CODEPAGE). The
    # .eml parser then meets undecodable bytes. Seen with every non-ASCII subject we tried.
    "subject": {"msgconvert"},
    "sender_name": {"msgconvert"},
    "recipients": {"msgconvert"},
    # msgconvert re-encodes UTF-8 plain-text bodies (double encoding, README quirks).
    "body": {"msgconvert"},
}


def _xcheck() -> Path | None:
    given = os.environ.get("MSGSESS_XCHECK")
    if given:
        return Path(given)
    venv = Path(os.environ.get("XCHECK_VENV", "/tmp/xcheck-venv"))
    modules = DEFAULT_XCHECK.parent / "js" / "node_modules"
    if DEFAULT_XCHECK.exists() and (venv / "bin" / "python").exists() and modules.is_dir():
        return DEFAULT_XCHECK
    return None


XCHECK = _xcheck()
pytestmark = pytest.mark.skipif(XCHECK is None, reason="xcheck readers not installed (CI installs them)")


def _makefile_files(where: Path) -> list[Path]:
    """The README's make -j example, run as printed (see tests/cli/test_readme_makefile.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "readme_makefile", ROOT / "tests" / "cli" / "test_readme_makefile.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    project = module.make_project(where)
    done = module.make(project)
    assert done.returncode == 0, done.stderr
    return sorted((project / "out").glob("*.msg"))


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("demo")
    env = dict(os.environ, MSGSESS=f"{shlex.quote(sys.executable)} -m msgsess")
    subprocess.run(
        ["sh", str(ROOT / "examples" / "demo.sh"), str(out)],
        check=True,
        env=env,
        capture_output=True,
        timeout=300,
    )
    files = sorted(out.glob("*.msg")) + sorted(out.glob("*.oft"))
    assert len(files) >= 8  # demo.sh writes eight files (seven .msg, one .oft)
    made = _makefile_files(tmp_path_factory.mktemp("makefile"))
    assert len(made) == 4
    return files + made


def _odd_readers(values: dict[str, Any]) -> set[str]:
    """The readers whose value differs from the most common one."""
    encoded = {reader: json.dumps(value, sort_keys=True) for reader, value in values.items()}
    counts: dict[str, int] = {}
    for value in encoded.values():
        counts[value] = counts.get(value, 0) + 1
    majority = max(counts, key=lambda v: counts[v])
    return {reader for reader, value in encoded.items() if value != majority}


def xcheck_reports(files: list[Path], timeout: int = 600) -> list[dict[str, Any]]:
    """xcheck's JSON report of each file (all of them, or the test fails with its stderr)."""
    assert XCHECK is not None
    proc = subprocess.run(
        [sys.executable, str(XCHECK), "--jsonl", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    reports = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(reports) == len(files), proc.stderr[-2000:]
    return reports


def test_every_reader_parses_and_agrees(demo_files: list[Path]) -> None:
    reports = xcheck_reports(demo_files)
    problems = []
    for report in reports:
        name = Path(report["file"]).name
        if report["result"] != "PASS":
            problems.append(f"{name}: readers failed: {report['failed_readers']}")
        agree = report.get("agree") or {}
        for field in agree.get("disagree", []):
            odd = _odd_readers(agree["values"][field])
            if not odd <= KNOWN_QUIRKS.get(field, set()):
                problems.append(f"{name}: {field} differs in {sorted(odd)}: {agree['values'][field]}")
        cfb = report.get("cfb_agree") or {}
        if cfb and not cfb.get("agree", True):
            problems.append(f"{name}: olefile and libolecf see different stream trees")
    assert not problems, "\n".join(problems)
