"""Shared fixtures: run msgsess in-process (click's CliRunner) or as a real subprocess."""

from __future__ import annotations

import faulthandler
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

# The property-based tests run on a fixed set of examples wherever the suite runs (CI may or may
# not set $CI): a red run can be reproduced and a green one is not luck.
# MSGSESS_HYPOTHESIS=explore makes them try new examples on every run, to hunt for bugs.
settings.register_profile("fixed", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile("explore" if os.environ.get("MSGSESS_HYPOTHESIS") == "explore" else "fixed")

#: Seconds after which a test that pytest-timeout could not stop (stuck where no signal handler
#: runs) ends its worker process: xdist then names the test as crashed and the suite goes on.
WATCHDOG = 600


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """A test that timed out and runs again: where it was stuck goes to the log (the summary
    only names it), so that a hang that does not recur can still be understood."""
    if report.outcome == "rerun" and report.longrepr is not None:  # type: ignore[comparison-overlap]
        sys.stderr.write(f"\n--- {report.nodeid} timed out; it runs again. Where it was:\n")
        sys.stderr.write(f"{report.longreprtext}\n---\n")
        sys.stderr.flush()


@pytest.fixture(autouse=True)
def _watchdog() -> Iterator[None]:
    faulthandler.dump_traceback_later(WATCHDOG, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


#: A short lock timeout keeps tests that wait for locks quick; tests that need more set their own.
TEST_ENV = {"MSGSESS_LOCK_TIMEOUT": "30"}

Invoke = Callable[..., Result]
Run = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """tmp_path as the current folder (relative paths in commands resolve there)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    yield tmp_path


@pytest.fixture
def invoke(workdir: Path) -> Invoke:
    """Run ``msgsess ARGS…`` in-process; stdout and stderr kept apart."""
    from msgsess.cli.main import cli

    runner = CliRunner()

    def call(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, env={**TEST_ENV, **(env or {})})

    return call


@pytest.fixture
def run(workdir: Path) -> Run:
    """Run ``python -m msgsess ARGS…`` as a real process in the work folder."""

    def call(
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 120,
        **kw: Any,
    ) -> Any:
        """``kw`` goes to subprocess.run (``preexec_fn`` to set limits in the child…)."""
        full_env = {**os.environ, **TEST_ENV, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "msgsess", *args],
            input=input,
            capture_output=True,
            text=True,
            cwd=cwd or workdir,
            env=full_env,
            timeout=timeout,
            **kw,
        )

    return call


# --- helpers shared by the test modules (``from tests.conftest import ok, one_error``) ----------


def ok(result: Result) -> str:
    """The stdout of a command that succeeded."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.stdout


def one_error(result: Result | str, code: int | None = None, *words: str) -> str:
    """The one line on stderr, ``msgsess: error: …``, holding each of ``words``; for a Result, its
    exit code must be ``code``, one of the documented codes."""
    from msgsess.errors import EXIT_CODES

    stderr = result if isinstance(result, str) else result.stderr
    if not isinstance(result, str):
        assert result.exit_code == code, (result.stdout, result.stderr)
        assert code in EXIT_CODES
    assert stderr.count("\n") == 1 and stderr.startswith("msgsess: error: "), stderr
    line = stderr.rstrip("\n")
    for word in words:
        assert word in line, (word, line)
    return line


def slow_session(run: Run, workdir: Path, count: int) -> str:
    """A session "s" of ``count`` messages that take a while each to write (1,500 attachments):
    a signal or a kill lands while close is still writing temporary files. Returns what
    ``show --json`` prints of it (to check it is left as it was)."""
    import json

    assert run("open", "s").returncode == 0
    (workdir / "small.bin").write_bytes(os.urandom(2_000))
    many = [{"file": "small.bin", "name": f"part{j}.bin"} for j in range(1_500)]
    lines = [{"output": f"out/{i}.msg", "subject": f"n{i}", "attachments": many} for i in range(count)]
    assert run("add", "s", "--json", "-", input="\n".join(json.dumps(x) for x in lines)).returncode == 0
    shown: str = run("show", "s", "--json").stdout
    return shown


def check_errors(path: Path) -> list[str]:
    """The errors ``msgsess.oxmsg.check`` finds in a written file (warnings are Outlook's own habits)."""
    from msgsess import cfb
    from msgsess.oxmsg import check

    return [f"{f.path}: {f.message}" for f in check.check(cfb.read_file(path)) if f.severity == "error"]


def prop(msg: Any, key: str) -> Any:
    """A property's value as extract-msg reads it (``prop(message, "00170003")``), or None."""
    entry = msg.props.get(key)
    return None if entry is None else entry.value


@pytest.fixture
def quiet_extract_msg() -> Iterator[None]:
    """extract-msg logs Outlook's quirks (and with filterwarnings=error nothing may warn): modules
    that read with it silence it (``pytestmark = pytest.mark.usefixtures("quiet_extract_msg")``)."""
    import logging

    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)
