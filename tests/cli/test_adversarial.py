"""Findings of an adversarial user test: each one fails before its fix and passes after."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import one_error

Invoke = Callable[..., Result]
Run = Callable[..., Any]

MSGSESS = [sys.executable, "-m", "msgsess"]
TEST_ENV = {"MSGSESS_LOCK_TIMEOUT": "30"}


# --- 1. close with a session that cannot be written ----------------------------------------


def _without_dac_override() -> list[str]:
    """A prefix that runs a command without the power to ignore file permissions (root's)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    prefix = ["setpriv", "--inh-caps=-dac_override", "--bounding-set=-dac_override"]
    probe = subprocess.run([*prefix, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop CAP_DAC_OVERRIDE here: {probe.stderr!r}")
    return prefix


def test_close_of_a_session_in_a_read_only_folder_writes_nothing(run: Run, workdir: Path) -> None:
    prefix = _without_dac_override()
    (workdir / "ro").mkdir()
    assert run("open", "ro/s").returncode == 0
    assert run("add", "ro/s", "out/a.msg", "--subject", "x").returncode == 0
    before = (workdir / "ro" / "s").read_bytes()
    (workdir / "ro").chmod(0o555)
    try:
        done = subprocess.run(
            [*prefix, *MSGSESS, "close", "ro/s"],
            cwd=workdir,
            capture_output=True,
            text=True,
            env={**os.environ, **TEST_ENV},
            timeout=120,
        )
    finally:
        (workdir / "ro").chmod(0o755)
    assert done.returncode == 5, done.stderr
    assert "folder" in one_error(done.stderr) and "not writable" in done.stderr
    assert not (workdir / "out").exists()  # failed before any output (or its folder) existed
    assert (workdir / "ro" / "s").read_bytes() == before
    # Once writable, it closes as usual; a kept session is not left marked.
    assert run("close", "ro/s", "--keep").returncode == 0
    assert (workdir / "out" / "a.msg").exists()
    with sqlite3.connect(workdir / "ro" / "s") as conn:
        assert conn.execute("SELECT key FROM meta WHERE key IN ('closing', 'closed')").fetchall() == []


# --- 2. open --force waits for the commands using the old session --------------------------


def test_open_force_waits_for_a_running_command(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    conn = sqlite3.connect(workdir / "s", isolation_level=None)  # a command writing, like `add`
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO meta (key, value) VALUES ('writer', 'busy')")
        quick = run("open", "--force", "s", env={"MSGSESS_LOCK_TIMEOUT": "0.5"})
        assert quick.returncode == 6, quick.stderr
        assert "locked" in one_error(quick.stderr)
        waiting = subprocess.Popen(
            [*MSGSESS, "open", "--force", "s"],
            cwd=workdir,
            env={**os.environ, **TEST_ENV},
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)
        assert waiting.poll() is None  # still waiting for the writer
        conn.execute("COMMIT")
        _, err = waiting.communicate(timeout=60)
        assert waiting.returncode == 0, err
        # A command still holding the old file finds it closed (replaced) rather than writing into it.
        assert conn.execute("SELECT value FROM meta WHERE key = 'closed'").fetchone() == ("replaced",)
    finally:
        conn.close()
    assert not (workdir / "s-journal").exists()
    assert run("show", "s", "--json").stdout == ""  # the new, empty session
    assert run("add", "s", "a.msg", "--subject", "new").returncode == 0


def test_open_force_leaves_a_file_that_is_not_a_session(run: Run, workdir: Path) -> None:
    # Issues 8 and 9 (item 12): --force replaces only a msgsess session; tests/cli/test_never_destroy.py
    # covers every kind of file and command.
    (workdir / "s").write_text("not a session\n")
    assert run("open", "s").returncode == 5
    done = run("open", "--force", "s")
    assert done.returncode == 5
    assert "not a msgsess session" in done.stderr
    assert (workdir / "s").read_text() == "not a session\n"


# --- 4. close --codepage without --ansi ----------------------------------------------------


def test_codepage_without_ansi_is_a_usage_error(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "Привет").exit_code == 0
    for args in (["close", "s", "--codepage", "1251"], ["close", "s", "--unicode", "--codepage", "1251"]):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "--codepage needs --ansi" in one_error(result.stderr)
    assert not (workdir / "a.msg").exists() and (workdir / "s").exists()
    result = invoke("open", "t", "--codepage", "1251")
    assert result.exit_code == 2 and "--codepage needs --ansi" in one_error(result.stderr)
    assert not (workdir / "t").exists()
    result = invoke("close", "s", "--ansi", "--codepage", "1251")
    assert result.exit_code == 0, result.stderr
    assert (workdir / "a.msg").exists()


# --- 5. SOURCE_DATE_EPOCH ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["99999999999999", "253402300800", "1.5", "1_000", "12abc", "-5", "9" * 5000, "-" + "9" * 5000]
)
def test_a_bad_source_date_epoch_is_an_invalid_value(invoke: Invoke, workdir: Path, value: str) -> None:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "x").exit_code == 0
    result = invoke("close", "s", env={"SOURCE_DATE_EPOCH": value})
    assert result.exit_code == 3, result.stderr
    assert f"SOURCE_DATE_EPOCH={value!r}" in one_error(result.stderr)
    assert not (workdir / "a.msg").exists() and (workdir / "s").exists()


def test_leading_zeros_do_not_count_as_digits_of_source_date_epoch(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "x").exit_code == 0
    result = invoke("close", "s", env={"SOURCE_DATE_EPOCH": "0" * 5000 + "1700000000"})  # int() takes 4300
    assert result.exit_code == 0, result.stderr
    assert "2023-11-14T22:13:20Z" in invoke("dump", "a.msg").stdout


def test_the_last_second_of_9999_is_a_valid_source_date_epoch(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "x").exit_code == 0
    result = invoke("close", "s", env={"SOURCE_DATE_EPOCH": "253402300799"})
    assert result.exit_code == 0, result.stderr
    assert "9999-12-31T23:59:59Z" in invoke("dump", "a.msg").stdout


# --- 6. text a message cannot hold, refused by the command that brings it ------------------


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"output": "a\ud800.msg"}, "output"),
        ({"output": "a\u0000.msg"}, "output"),
        ({"output": "a.msg", "subject": "\ud800"}, "subject"),
        ({"output": "a.msg", "body": "a\u0000b"}, "body"),
        ({"output": "a.msg", "html": "<p>\u0000</p>"}, "html"),
        ({"output": "a.msg", "rtf": "{\\rtf1 \u0000}"}, "rtf"),
        ({"output": "a.msg", "body": "x\udc80"}, "body"),
    ],
)
def test_add_refuses_nul_and_surrogates_anywhere(
    invoke: Invoke, workdir: Path, spec: dict[str, str], field: str
) -> None:
    assert invoke("open", "s").exit_code == 0
    result = invoke("add", "s", "--json", "-", input=json.dumps(spec))
    assert result.exit_code == 3, result.stderr
    line = one_error(result.stderr)
    # Named by the input line and the OUTPUT as typed (escaped when it holds the bad text itself).
    assert line.startswith("msgsess: error: stdin line 1: ") and f": {field}: " in line
    assert "m1" not in line
    assert invoke("show", "s", "--json").stdout == ""


def test_a_nul_in_a_path_to_read_is_an_invalid_value(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    for spec in (
        {"source": {"file": "x\u0000.msg"}},
        {"output": "a.msg", "attachments": [{"file": "x\u0000"}]},
    ):
        result = invoke("add", "s", "--json", "-", input=json.dumps(spec))
        assert result.exit_code == 3, result.stderr
        one_error(result.stderr)


def test_a_nul_in_a_body_file_fails_at_add(invoke: Invoke, workdir: Path) -> None:
    (workdir / "nul.txt").write_bytes(b"ab\0c")
    assert invoke("open", "s").exit_code == 0
    for option in ("--body-file", "--html-file"):
        result = invoke("add", "s", "a.msg", option, "nul.txt")
        assert result.exit_code == 3, result.stderr
        assert "NUL at character 2" in one_error(result.stderr)
    (workdir / "nul.rtf").write_bytes(b"{\\rtf1 a\0}")
    result = invoke("add", "s", "a.msg", "--rtf-file", "nul.rtf")
    assert result.exit_code == 3 and "rtf: NUL" in one_error(result.stderr)
    assert invoke("show", "s", "--json").stdout == ""


# --- 7. one file through two paths ----------------------------------------------------------


@pytest.mark.parametrize("first", ["out", "lnk"])
def test_one_output_through_a_symlinked_folder_is_a_duplicate(
    invoke: Invoke, workdir: Path, first: str
) -> None:
    (workdir / "out").mkdir()
    (workdir / "lnk").symlink_to("out")
    second = "lnk" if first == "out" else "out"
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", f"{first}/a.msg", "--subject", "one").exit_code == 0
    result = invoke("add", "s", f"{second}/a.msg", "--subject", "two")
    assert result.exit_code == 10, result.stderr
    assert "same file" in one_error(result.stderr)
    # The path the user gave is what the session keeps.
    shown = json.loads(invoke("show", "s", "--json").stdout)
    assert shown["output"] == str(workdir / first / "a.msg")


def test_close_finds_outputs_that_became_one_file(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "out/a.msg", "--subject", "one").exit_code == 0
    assert invoke("add", "s", "lnk/a.msg", "--subject", "two").exit_code == 0
    (workdir / "out").mkdir()
    (workdir / "lnk").symlink_to("out")  # made after both were added
    result = invoke("close", "s")
    assert result.exit_code == 10, result.stderr
    assert "is the same file as" in one_error(result.stderr)
    assert list((workdir / "out").iterdir()) == [] and (workdir / "s").exists()


# --- 8. body files: BOM, line ends, stdin ---------------------------------------------------


def test_body_files_drop_a_bom_and_keep_crlf(invoke: Invoke, workdir: Path) -> None:
    (workdir / "b.txt").write_bytes(b"\xef\xbb\xbfline 1\r\nline 2\r\n")
    (workdir / "h.html").write_bytes(b"\xef\xbb\xbf<p>x</p>\r\n")
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--body-file", "b.txt", "--html-file", "h.html").exit_code == 0
    shown = json.loads(invoke("show", "s", "--json").stdout)
    assert shown["body"] == "line 1\r\nline 2\r\n"
    assert shown["html"] == "<p>x</p>\r\n"


def test_body_files_read_stdin_for_a_dash(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    done = run("add", "s", "a.msg", "--body-file", "-", input="\ufeffhi\r\nthere")
    assert done.returncode == 0, done.stderr
    done = run("add", "s", "b.msg", "--html-file", "-", input="<p>é</p>")
    assert done.returncode == 0, done.stderr
    bodies = [json.loads(line) for line in run("show", "s", "--json").stdout.splitlines()]
    assert bodies[0]["body"] == "hi\r\nthere"
    assert bodies[1]["html"] == "<p>é</p>"
    both = run("add", "s", "c.msg", "--body-file", "-", "--html-file", "-", input="x")
    assert both.returncode == 2
    assert "stdin" in one_error(both.stderr)


def test_a_body_file_that_is_not_utf8_is_named(invoke: Invoke, workdir: Path) -> None:
    (workdir / "latin.txt").write_bytes(b"caf\xe9")
    assert invoke("open", "s").exit_code == 0
    result = invoke("add", "s", "a.msg", "--body-file", "latin.txt")
    assert result.exit_code == 3
    assert "--body-file: latin.txt is not UTF-8" in one_error(result.stderr)
    done = subprocess.run(
        [*MSGSESS, "add", "s", "a.msg", "--body-file", "-"],
        cwd=workdir,
        input=b"caf\xe9",
        capture_output=True,
        env={**os.environ, **TEST_ENV},
        timeout=120,
    )
    assert done.returncode == 3
    assert "--body-file: stdin is not UTF-8" in one_error(done.stderr.decode())


# --- close and signals at its end (review 2) -------------------------------------------------


def test_a_signal_while_close_waits_on_an_empty_session_keeps_it(workdir: Path, run: Any) -> None:
    """SIGTERM to a close waiting for the lock of an empty session: exit 143, session kept.

    Whenever the signal lands (before close takes over the signals, or while it waits for the
    lock) the result is the same, so nothing here depends on timing.
    """
    import signal as sig

    assert run("open", "s").returncode == 0
    reader = sqlite3.connect(workdir / "s", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM messages").fetchone()  # a read lock close waits for
    proc = subprocess.Popen(
        [sys.executable, "-m", "msgsess", "close", "s"],
        cwd=workdir,
        env={**os.environ, "MSGSESS_LOCK_TIMEOUT": "60"},
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)  # not asserted on: earlier or later gives the same result
    proc.send_signal(sig.SIGTERM)
    reader.execute("COMMIT")
    reader.close()
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode in (143, -sig.SIGTERM), err
    assert (workdir / "s").exists()
    assert run("show", "s").returncode == 0


def test_a_signal_after_the_last_check_lets_close_finish() -> None:
    import signal as sig

    from msgsess.cli.cmd_close import _Termination

    term = _Termination()
    term.last_chance()  # nothing pending: close goes on to move its outputs
    term.handler(sig.SIGTERM, None)
    term.check()  # too late: does not stop
    assert term.came_late() == "SIGTERM"
    early = _Termination()
    early.handler(sig.SIGINT, None)
    with pytest.raises(KeyboardInterrupt):
        early.last_chance()
    assert early.came_late() is None


@pytest.mark.parametrize(
    ("value", "words"), [("-0", "must be digits"), ("-00", "must be digits"), ("-5", "negative")]
)
def test_minus_zero_source_date_epoch_is_not_digits(
    invoke: Invoke, workdir: Path, value: str, words: str
) -> None:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "x").exit_code == 0
    result = invoke("close", "s", env={"SOURCE_DATE_EPOCH": value})
    assert result.exit_code == 3, result.stderr
    assert words in one_error(result.stderr)


# --- closed stdin ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [["x.msg", "--body-file", "-"], ["x.msg", "--html-file", "-"], ["--json", "-"]]
)
def test_closed_stdin_is_an_invalid_value(run: Any, workdir: Path, args: list[str]) -> None:
    assert run("open", "s").returncode == 0
    command = " ".join([f'"{sys.executable}"', "-m", "msgsess", "add", "s", *args]) + " <&-"
    result = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, cwd=workdir, env=os.environ, timeout=120
    )
    assert result.returncode == 3, result.stderr
    assert "stdin is closed" in one_error(result.stderr)
    assert run("show", "s", "--json").stdout == ""
