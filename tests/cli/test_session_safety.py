"""A session stays whole when its folder is read-only, when open --force replaces it under
running commands, and when close is signalled; one output reached through two paths is one file."""

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
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=300)
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
