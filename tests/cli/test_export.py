"""``msgsess export``: .msg files written by a session, exported and read back with ``email``."""

from __future__ import annotations

import email
import email.policy
import subprocess
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Invoke = Callable[..., Result]
Run = Callable[..., "subprocess.CompletedProcess[str]"]


def make_msgs(invoke: Invoke, workdir: Path) -> list[Path]:
    assert invoke("open", "s.session").exit_code == 0
    for name, subject in (("a", "First"), ("b", "Zweite Grüße")):
        result = invoke(
            "add", "s.session", f"out/{name}.msg", "--subject", subject, "--from", "Ann <ann@example.com>",
            "--to", "Bob <bob@example.com>", "--body", "Hello", "--sent", "--date", "2024-05-01T10:00:00Z",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
    assert invoke("close", "s.session").exit_code == 0
    return [workdir / "out" / "a.msg", workdir / "out" / "b.msg"]


def test_export_beside_the_input_and_refuse_to_replace(invoke: Invoke, workdir: Path) -> None:
    a, b = make_msgs(invoke, workdir)
    result = invoke("export", str(a), str(b))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == [str(a.with_suffix(".eml")), str(b.with_suffix(".eml"))]
    parsed = email.message_from_bytes(b.with_suffix(".eml").read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Zweite Grüße"
    assert parsed.get_content().strip() == "Hello"
    before = a.with_suffix(".eml").read_bytes()
    again = invoke("export", str(a))
    assert again.exit_code == 10
    assert "exists" in again.stderr and "--force" in again.stderr
    assert a.with_suffix(".eml").read_bytes() == before
    assert invoke("export", str(a), "--force").exit_code == 0


def test_export_out_dir_stdout_and_crlf(invoke: Invoke, workdir: Path) -> None:
    a, b = make_msgs(invoke, workdir)
    result = invoke("export", str(a), str(b), "--out-dir", "eml/sub", "--crlf")
    assert result.exit_code == 0, result.stderr
    data = (workdir / "eml" / "sub" / "a.eml").read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    out = invoke("export", str(a), "-o", "-")
    assert out.exit_code == 0, out.stderr
    assert email.message_from_string(out.stdout, policy=email.policy.default)["Subject"] == "First"


def test_export_errors_are_one_line_each(invoke: Invoke, workdir: Path) -> None:
    a, _b = make_msgs(invoke, workdir)
    (workdir / "bad.msg").write_bytes(b"not a compound file")
    result = invoke("export", "bad.msg", "missing.msg", str(a), "--out-dir", "x")
    assert result.exit_code == 8  # the first failure: a damaged file
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("msgsess: error: bad.msg")
    assert "missing.msg" in lines[1]
    assert (workdir / "x" / "a.eml").exists()
    assert not (workdir / "x" / "bad.eml").exists()


def test_export_error_lines_escape_what_a_terminal_would_act_on(invoke: Invoke, workdir: Path) -> None:
    """A file name is quoted in the error line as every error line quotes it (issue 9 item 5)."""
    name = "bad\x1b[2J\u202e.msg"
    (workdir / name).write_bytes(b"not a compound file")
    result = invoke("export", name, "missing.msg")
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert lines[0].startswith("msgsess: error: bad\\x1b[2J\\u202e.msg: ")


def test_export_usage_errors(invoke: Invoke, workdir: Path) -> None:
    a, b = make_msgs(invoke, workdir)
    assert invoke("export", str(a), str(b), "-o", "x.eml").exit_code == 2
    assert invoke("export", str(a), "-o", "x.eml", "--out-dir", "d").exit_code == 2


def test_export_subprocess_to_stdout(run: Run, invoke: Invoke, workdir: Path) -> None:
    a, _ = make_msgs(invoke, workdir)
    proc = run("export", str(a), "-o", "-")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "Subject: First" in proc.stdout
