"""Text a command brings in: bodies from files or stdin (BOM, line ends), text a message cannot
hold (NUL, unpaired surrogates) refused by the command that brings it, a closed stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
    # Named by the option that gave the RTF (the spec key "rtf" names it in JSON).
    assert result.exit_code == 3 and "a.msg: --rtf-file: NUL" in one_error(result.stderr)
    assert invoke("show", "s", "--json").stdout == ""


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
