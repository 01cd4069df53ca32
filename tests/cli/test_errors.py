"""The error table: one line on stderr naming what is at fault, and the documented exit code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from msgsess.errors import EXIT_CODES

Invoke = Callable[..., Result]
Run = Callable[..., Any]


@pytest.fixture
def s(invoke: Invoke, workdir: Path) -> str:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "x").stdout == "m1\n"
    return "s"


def one_error(result: Result, code: int, *words: str) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("msgsess: error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert code in EXIT_CODES
    return lines[0]


def test_missing_session(invoke: Invoke) -> None:
    one_error(
        invoke("add", "nope.session", "--subject", "x"), 5, "nope.session", "does not exist", "msgsess open"
    )


def test_not_a_session(invoke: Invoke, workdir: Path) -> None:
    (workdir / "notes.txt").write_text("just text\n" * 100)
    one_error(invoke("show", "notes.txt"), 5, "notes.txt", "not a msgsess session")


def test_session_exists(invoke: Invoke, s: str) -> None:
    one_error(invoke("open", s), 5, "already exists", "--force")


def test_unknown_message_id(invoke: Invoke, s: str) -> None:
    one_error(invoke("set", s, "m7", "PidTagImportance", "2"), 4, "'m7'")


def test_unknown_property(invoke: Invoke, s: str) -> None:
    line = one_error(invoke("set", s, "m1", "PidTagImportanse", "2"), 4, "message m1", "PidTagImportanse")
    assert "did you mean PidTagImportance" in line


def test_wrong_typed_value(invoke: Invoke, s: str) -> None:
    one_error(
        invoke("set", s, "m1", "PidTagImportance", "very"), 3, "message m1", "PidTagImportance", "'very'"
    )
    one_error(invoke("add", s, "--set", "PidTagHasAttachments=maybe"), 3, "PidTagHasAttachments", "'maybe'")


def test_missing_attachment_file(invoke: Invoke, s: str) -> None:
    one_error(invoke("attach", s, "m1", "report.pdf"), 4, "message m1", "report.pdf", "does not exist")
    one_error(invoke("add", s, "--attach", "gone.txt"), 4, "gone.txt")


def test_malformed_address(invoke: Invoke, s: str) -> None:
    one_error(invoke("add", s, "--to", "Bob <bob.example.com>"), 3, "to", "'Bob <bob.example.com>'", "e-mail")
    one_error(invoke("recipient", s, "m1", "--cc", "nobody"), 3, "message m1", "'nobody'")


def test_invalid_json_names_line_and_column(invoke: Invoke, s: str, workdir: Path) -> None:
    (workdir / "in.jsonl").write_text('{"subject": "a"}\n{"subject": "b",\n  "to": [}\n')
    one_error(invoke("add", s, "--json", "in.jsonl"), 8, "in.jsonl", "line 3, column 10")
    one_error(invoke("add", s, "--json", "-", input="[1, 2"), 8, "stdin", "line 1, column 6")


def test_json_breaking_the_schema_names_the_path(invoke: Invoke, s: str) -> None:
    text = "\n".join(json.dumps(x) for x in ({"subject": "ok"}, {"to": [{"address": "a@b.c", "props": {}}]}))
    one_error(invoke("add", s, "--json", "-", input=text), 3, "stdin line 2", "$.to[0]")
    # Nothing of the batch was added.
    assert invoke("show", s, "--json").stdout.count("\n") == 1


def test_embedding_cycle(invoke: Invoke, s: str) -> None:
    assert invoke("add", s, "--id", "inner").exit_code == 0
    assert invoke("attach", s, "m1", "--message", "inner").stdout == "0\n"
    one_error(invoke("attach", s, "inner", "--message", "m1"), 3, "cycle", "inner → m1 → inner")


def test_ansi_text_the_code_page_cannot_hold(invoke: Invoke, workdir: Path) -> None:
    invoke("open", "a", "--ansi")
    invoke("add", "a", "x.msg", "--subject", "日本語")
    one_error(invoke("close", "a"), 7, "message m1", "$.subject", "U+65E5", "code page 1252")
    assert (workdir / "a").exists() and not (workdir / "x.msg").exists()


def test_unwritable_output(invoke: Invoke, s: str, workdir: Path) -> None:
    (workdir / "file").write_text("x")
    invoke("add", s, "file/b.msg")
    one_error(invoke("close", s), 9, "b.msg")
    assert (workdir / s).exists() and not (workdir / "a.msg").exists()


def test_usage_errors_exit_2(invoke: Invoke, s: str) -> None:
    assert invoke("add", s, "--bogus").exit_code == 2
    assert invoke("recipient", s, "m1", "x@example.com").exit_code == 2
    assert invoke("add", s, "--json", "-", "--subject", "x").exit_code == 2
    assert invoke("attach", s, "m1").exit_code == 2


def test_lock_timeout_is_session_busy(run: Run, workdir: Path) -> None:
    import sqlite3

    assert run("open", "s").returncode == 0
    holder = sqlite3.connect(workdir / "s", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        proc = run("add", "s", "--subject", "x", env={"MSGSESS_LOCK_TIMEOUT": "0.3"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 6
    assert proc.stderr.startswith("msgsess: error: session s is locked by another command")


def test_unexpected_errors_are_one_line_unless_debug(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    # A damaged table: the spec column holds text that is not JSON.
    import sqlite3

    conn = sqlite3.connect(workdir / "s")
    conn.execute("INSERT INTO messages (id, output, spec) VALUES ('bad', NULL, 'not json')")
    conn.commit()
    conn.close()
    proc = run("show", "s")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "internal error" in proc.stderr and "--debug" in proc.stderr
    debug = run("--debug", "show", "s")
    assert debug.returncode == 1 and "Traceback" in debug.stderr
