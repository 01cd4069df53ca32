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


def makefile_in(doc: str, heading: str) -> str:
    text = (ROOT / doc).read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    match = re.search(r"```make\n(.*?)```", section, re.S)
    assert match, f"the {doc} section {heading!r} has no make block"
    return match.group(1)


def readme_makefile() -> str:
    return makefile_in("README.md", "## With make -j")


def test_readme_and_cli_doc_show_the_same_makefile() -> None:
    makefile = readme_makefile()
    assert makefile == makefile_in("docs/CLI.md", "## make -j")
    assert ".DELETE_ON_ERROR:" in makefile and "msgsess add --replace" in makefile


def make_project(where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "Makefile").write_text(readme_makefile(), encoding="utf-8")
    (where / "data").mkdir(exist_ok=True)
    for name in NAMES:
        (where / "data" / f"{name}.txt").write_text(f"Numbers for {name}: 1, 2, 3.\n", encoding="utf-8")
    return where


def make(where: Path, *args: str, jobs: int = 4) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(
        ["make", f"-j{jobs}", *args], cwd=where, env=env, capture_output=True, text=True, timeout=300
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


def write_input(project: Path, name: str, text: str) -> None:
    """Change an input so that make sees it newer than the stamp made from it (whatever the
    file system's time resolution)."""
    path = project / "data" / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    stamp = project / "build" / f"{name}.id"
    if stamp.exists():
        old = path.stat().st_mtime - 10
        os.utime(stamp, (old, old))


def check_outputs(project: Path) -> None:
    """One message per output, each holding its current input as body and as attachment."""
    assert sorted(p.name for p in (project / "out").iterdir()) == sorted(f"{n}.msg" for n in NAMES)
    for name in NAMES:
        current = (project / "data" / f"{name}.txt").read_text(encoding="utf-8")
        with extract_msg.openMsg(str(project / "out" / f"{name}.msg")) as msg:
            assert msg.subject == f"Report {name}"
            assert msg.body.replace("\r\n", "\n").strip() == current.strip()
            assert [r.email for r in msg.recipients] == [f"{name}@example.com"]
            (att,) = msg.attachments
            assert att.longFilename == f"{name}.txt" and att.data == current.encode()


def test_the_readme_makefile_runs_again_and_again_with_make_j8(tmp_path: Path) -> None:
    """Issue 8: a failed run (a missing input), a run after the fix, a run after a text changes."""
    project = make_project(tmp_path / "p")
    (project / "data" / "gamma.txt").unlink()
    failed = make(project, jobs=8)
    assert failed.returncode != 0
    assert "gamma" in failed.stderr
    write_input(project, "gamma", "Numbers for gamma: 4, 5, 6.\n")
    fixed = make(project, jobs=8)
    assert fixed.returncode == 0, fixed.stderr
    check_outputs(project)
    before = {n: (project / "out" / f"{n}.msg").stat().st_mtime_ns for n in NAMES}
    write_input(project, "beta", "Numbers for beta, corrected: 7, 8, 9.\n")
    changed = make(project, jobs=8)
    assert changed.returncode == 0, changed.stderr
    check_outputs(project)
    after = {n: (project / "out" / f"{n}.msg").stat().st_mtime_ns for n in NAMES}
    assert [n for n in NAMES if after[n] != before[n]] == ["beta"]
    assert make(project, jobs=8).returncode == 0
    check_outputs(project)


def test_a_rule_run_again_before_close_replaces_its_message(tmp_path: Path) -> None:
    """The run after a failed one adds again what changed meanwhile: --replace, not exit 10."""
    project = make_project(tmp_path / "p")
    bad = project / "data" / "gamma.txt"
    bad.write_bytes(b"not UTF-8: \xff\xfe\n")
    failed = make(project, jobs=8)
    assert failed.returncode != 0
    assert (project / "build" / "alpha.id").read_text().strip()  # alpha is in the session already
    write_input(project, "alpha", "Numbers for alpha, second version.\n")
    write_input(project, "gamma", "Numbers for gamma, fixed.\n")
    again = make(project, jobs=8)
    assert again.returncode == 0, again.stderr
    check_outputs(project)


MAKE_RACE = """
WORKERS := 1 2 3 4 5 6 7 8
ADD     := msgsess add --replace --quiet s.session --json -
all: $(WORKERS:%=worker-%)
worker-%:
\tfor round in 1 2 3 4 5 6 7 8 9 10; do \\
\t  sed "s/ROUND/$*-$$round/" specs.jsonl | $(ADD) >/dev/null || exit 1; \\
\tdone
"""


def test_replace_races_under_make_j8_leave_exactly_one_message_per_id(tmp_path: Path) -> None:
    """8 processes replace the same 20 messages 10 times each: 20 messages remain, all closable.

    Half of the specs name their message by id, half by output only.
    """
    import json

    (tmp_path / "Makefile").write_text(MAKE_RACE, encoding="utf-8")
    specs = [
        {"id": f"r{i:02d}", "output": f"out/r{i:02d}.msg", "subject": f"r{i:02d} ROUND"}
        if i % 2
        else {"output": f"out/r{i:02d}.msg", "subject": f"r{i:02d} ROUND"}
        for i in range(20)
    ]
    (tmp_path / "specs.jsonl").write_text("\n".join(json.dumps(x) for x in specs) + "\n", encoding="utf-8")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    assert (
        subprocess.run(["msgsess", "open", "s.session"], cwd=tmp_path, env=env, timeout=300).returncode == 0
    )
    raced = make(tmp_path, jobs=8)
    assert raced.returncode == 0, raced.stderr
    shown = subprocess.run(
        ["msgsess", "show", "s.session", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = [json.loads(line) for line in shown.stdout.splitlines()]
    assert len(messages) == 20
    assert sorted(m["output"] for m in messages) == sorted(str(tmp_path / x["output"]) for x in specs)
    assert all(m["subject"].split()[0] == Path(m["output"]).stem for m in messages)
    closed = subprocess.run(
        ["msgsess", "close", "s.session"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert closed.returncode == 0, closed.stderr
    assert len(list((tmp_path / "out").iterdir())) == 20
