"""What happens when stdout or the user goes away: clear status, one line, nothing half-done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Run = Callable[..., Any]
MSGSESS = [sys.executable, "-m", "msgsess"]


def _messages(count: int) -> str:
    return "\n".join(json.dumps({"output": f"{i}.msg", "subject": f"s{i}"}) for i in range(count))


def test_a_reader_that_stops_early_ends_the_command_like_sigpipe(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    writer = subprocess.Popen(
        [*MSGSESS, "add", "s", "--json", "-"],
        cwd=workdir,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert writer.stdout is not None
    writer.stdout.close()  # the reader is gone before the ids come
    _, err = writer.communicate(_messages(500), timeout=120)
    assert writer.returncode == 141
    assert err == ""
    assert len(run("show", "s", "--json").stdout.splitlines()) == 500  # the add itself happened


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_full_stdout_is_an_error_not_an_internal_one(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [*MSGSESS, "add", "s", "x.msg", "--subject", "x"],
            cwd=workdir,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert done.returncode == 9
    assert done.stderr == "msgsess: error: cannot write the output: No space left on device\n"


def test_a_closed_stdout_is_refused_before_anything_changes(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    done = subprocess.run(
        [*MSGSESS, "add", "s", "--subject", "x"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(1),
    )
    assert done.returncode == 9
    assert "stdout is closed" in done.stderr and done.stderr.count("\n") == 1
    assert run("show", "s", "--json").stdout == ""


def test_ctrl_c_is_one_line_and_status_130(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    adder = subprocess.Popen(
        [*MSGSESS, "add", "s", "--json", "-"],
        cwd=workdir,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert adder.stdin is not None
    adder.stdin.write(_messages(10))  # started, and now waiting for more input
    adder.stdin.flush()
    time.sleep(1.0)
    adder.send_signal(signal.SIGINT)
    _, err = adder.communicate(timeout=60)
    assert adder.returncode == 130
    assert err == "msgsess: error: interrupted\n"
    assert run("show", "s", "--json").stdout == ""  # one transaction: none of it was added
