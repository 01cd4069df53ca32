"""The README's `make -j` example, run exactly as printed there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import extract_msg
import pytest

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("alpha", "beta", "gamma", "delta")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def readme_makefile() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## With make -j") :]
    match = re.search(r"```make\n(.*?)```", section, re.S)
    assert match, "the README's make -j section has no make block"
    return match.group(1)


def make_project(where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "Makefile").write_text(readme_makefile(), encoding="utf-8")
    (where / "data").mkdir(exist_ok=True)
    for name in NAMES:
        (where / "data" / f"{name}.txt").write_text(f"Numbers for {name}: 1, 2, 3.\n", encoding="utf-8")
    return where


def make(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        ["make", "-j4", *args], cwd=where, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_readme_makefile_builds_every_message_with_make_j(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    done = make(project)
    assert done.returncode == 0, done.stderr
    for name in NAMES:
        with extract_msg.openMsg(str(project / "out" / f"{name}.msg")) as msg:
            assert msg.subject == f"Report {name}"
            assert [r.email for r in msg.recipients] == [f"{name}@example.com"]
            assert [a.longFilename for a in msg.attachments] == [f"{name}.txt"]
    assert not (project / "build" / "mail.session").exists()
    assert make(project).returncode == 0  # nothing to do the second time


def test_a_failed_add_is_retried_not_silently_dropped(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    bad = project / "data" / "gamma.txt"
    bad.write_bytes(b"not UTF-8: \xff\xfe\n")
    failed = make(project)
    assert failed.returncode != 0
    assert not (project / "build" / "gamma.id").exists()  # .DELETE_ON_ERROR
    assert not (project / "out").exists()  # close did not run
    bad.write_text("fixed\n", encoding="utf-8")
    again = make(project)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (project / "out").iterdir()) == sorted(f"{n}.msg" for n in NAMES)
