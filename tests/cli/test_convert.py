"""``msgsess convert``: files, folders and mbox archives, either direction, file by file.

Outputs are read back with extract-msg (.msg) and Python's ``email`` (.eml); the report
is read as JSON Lines; runs with several worker processes and resumed runs are real.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import subprocess
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import extract_msg
from click.testing import Result

from msgsess.convert import Options, plan, run

Invoke = Callable[..., Result]
Run = Callable[..., "subprocess.CompletedProcess[str]"]


def eml(subject: str, body: str = "Hello") -> bytes:
    m = EmailMessage(policy=SMTP)
    m["From"] = "Ann <ann@example.com>"
    m["To"] = "Bob <bob@example.com>"
    m["Subject"] = subject
    m["Date"] = "Tue, 02 Jan 2024 03:04:05 +0000"
    m.set_content(body)
    return m.as_bytes()


def make_tree(root: Path) -> None:
    (root / "in" / "sub").mkdir(parents=True)
    (root / "in" / "a.eml").write_bytes(eml("Alpha"))
    (root / "in" / "sub" / "b.EML").write_bytes(eml("Beta"))
    (root / "in" / "notes.txt").write_text("not mail, and not searched for")
    (root / "box.mbox").write_bytes(
        b"From ann@example.com Tue Jan  2 03:04:05 2024\n" + eml("One").replace(b"\r\n", b"\n") + b"\n"
        b"From ann@example.com Tue Jan  2 03:04:06 2024\n" + eml("Two").replace(b"\r\n", b"\n")
    )
    (root / "bad.eml").write_bytes(b"%PDF-1.4 not mail\n")


def subject(path: Path) -> str:
    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    with extract_msg.openMsg(str(path)) as msg:
        return str(msg.subject)


def test_convert_folders_mbox_and_failures(invoke: Invoke, workdir: Path) -> None:
    make_tree(workdir)
    result = invoke(
        "convert", "in", "box.mbox", "bad.eml", "--out-dir", "out", "--jobs", "1", "--report", "r.jsonl"
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "msgsess: error: bad.eml: does not start with a header field, so it is not a mail message "
        "(give an RFC 5322 / MIME message (.eml))"
    ]
    out = workdir / "out"
    assert subject(out / "a.msg") == "Alpha"
    assert subject(out / "sub" / "b.msg") == "Beta"
    assert [subject(out / f"box-{n}.msg") for n in (1, 2)] == ["One", "Two"]
    assert not (out / "bad.msg").exists() and not (out / "notes.msg").exists()
    report = [json.loads(line) for line in (workdir / "r.jsonl").read_text().splitlines()]
    assert len(report) == 5
    by_output = {r["output"]: r for r in report}
    assert by_output["out/box-2.msg"]["message"] == 2 and by_output["out/box-2.msg"]["input"] == "box.mbox"
    assert by_output["out/bad.msg"]["status"] == "failed"
    assert {r["status"] for r in report if r["output"] != "out/bad.msg"} == {"converted"}
    # Run again: every output exists, so each is skipped; --force converts again.
    again = invoke("convert", "in", "box.mbox", "--out-dir", "out", "--report", "r2.jsonl")
    assert again.exit_code == 0, again.stderr
    statuses = [json.loads(line)["status"] for line in (workdir / "r2.jsonl").read_text().splitlines()]
    assert statuses == ["skipped"] * 4
    forced = invoke("convert", "in", "--out-dir", "out", "--force", "--report", "r3.jsonl")
    assert forced.exit_code == 0
    assert {json.loads(line)["status"] for line in (workdir / "r3.jsonl").read_text().splitlines()} == {
        "converted"
    }


def test_a_failed_input_is_named_once_and_escaped(invoke: Invoke, workdir: Path) -> None:
    """The error line of a file that fails names it once, with what a terminal would act on escaped."""
    name = "bad\x1b[2J\u202e.eml"
    (workdir / name).write_bytes(b"\x00\x01 no mail")
    (workdir / "box.mbox").write_bytes(b"From a@b Mon Jan  1 00:00:00 2024\n\x00 no mail\n")
    result = invoke("convert", name, "box.mbox", "--out-dir", "out", "--jobs", "1")
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 2, result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert lines[0].startswith("msgsess: error: bad\\x1b[2J\\u202e.eml: ") and lines[0].count("bad") == 1
    assert lines[1].startswith("msgsess: error: box.mbox message 1: ") and lines[1].count("box.mbox") == 1


def test_convert_msg_to_eml_and_back(invoke: Invoke, workdir: Path) -> None:
    make_tree(workdir)
    assert invoke("convert", "in", "--out-dir", "msg").exit_code == 0
    result = invoke("convert", "msg", "--out-dir", "eml", "--crlf")
    assert result.exit_code == 0, result.stderr
    data = (workdir / "eml" / "sub" / "b.eml").read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == "Beta" and parsed.get_content().strip() == "Hello"


def test_ansi_and_unconvertible_text(invoke: Invoke, workdir: Path) -> None:
    (workdir / "in").mkdir()
    (workdir / "in" / "latin.eml").write_bytes(eml("Grüße"))
    (workdir / "in" / "greek.eml").write_bytes(eml("Καλημέρα"))
    result = invoke("convert", "in", "--out-dir", "out", "--ansi", "--codepage", "windows-1252")
    assert result.exit_code == 1
    assert "greek.eml" in result.stderr and "1252" in result.stderr
    assert subject(workdir / "out" / "latin.msg") == "Grüße"
    assert not (workdir / "out" / "greek.msg").exists()
    assert invoke("convert", "in", "--out-dir", "x", "--codepage", "1252").exit_code == 2


def test_clashing_outputs_and_outputs_that_are_inputs(workdir: Path) -> None:
    (workdir / "a").mkdir()
    (workdir / "b").mkdir()
    (workdir / "a" / "same.eml").write_bytes(eml("1"))
    (workdir / "b" / "same.eml").write_bytes(eml("2"))
    (workdir / "a" / "x.msg").write_bytes(b"")
    (workdir / "a" / "x.eml").write_bytes(eml("3"))
    tasks, refused = plan(["a/same.eml", "b/same.eml", "a/x.eml", "a/x.msg", "missing.eml"], "a")
    assert [t.source for t in tasks] == ["a/same.eml"]
    reasons = sorted(r.error or "" for r in refused)
    assert len(reasons) == 4 and {r.status for r in refused} == {"failed"}
    assert any("is also the output of a/same.eml" in r for r in reasons)
    assert any("a/x.eml: its output a/x.msg is an input" in r for r in reasons)
    assert any("a/x.msg: its output a/x.eml is an input" in r for r in reasons)
    assert any("missing.eml: no such file or folder" in r for r in reasons)


def test_parallel_run_gives_the_same_files(workdir: Path) -> None:
    (workdir / "in").mkdir()
    for n in range(70):
        (workdir / "in" / f"m{n:03d}.eml").write_bytes(eml(f"Message {n}", body=f"Body {n}"))
    options = Options()
    one = list(run(plan(["in"], "one")[0], options, jobs=1))
    two = list(run(plan(["in"], "two")[0], options, jobs=2))
    assert {r.status for r in one + two} == {"converted"}
    assert len(one) == len(two) == 70
    for n in range(70):
        name = f"m{n:03d}.msg"
        assert (workdir / "one" / name).read_bytes() == (workdir / "two" / name).read_bytes()


def test_convert_subprocess_without_a_terminal(run: Run, workdir: Path) -> None:
    make_tree(workdir)
    proc = run("convert", "in", "--out-dir", "out", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout == ""
    assert subject(workdir / "out" / "a.msg") == "Alpha"
