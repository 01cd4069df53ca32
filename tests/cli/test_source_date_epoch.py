"""SOURCE_DATE_EPOCH (reproducible builds): digits only, up to 9999-12-31, or a clear error."""

from __future__ import annotations

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
