"""Helpers for the MIME tests: convert mail to ``.msg`` files and open them with extract-msg."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import extract_msg
import pytest

from msgsess.convert import eml_to_msg

ToMsg = Callable[..., Any]


@pytest.fixture(autouse=True)
def _quiet_extract_msg() -> Iterator[None]:
    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    yield


@pytest.fixture
def to_msg(tmp_path: Path) -> Iterator[ToMsg]:
    """Convert EML bytes to a .msg file and open it with extract-msg (closed after the test)."""
    opened: list[Any] = []

    def convert(data: bytes, name: str = "m.msg", **options: Any) -> Any:
        path = tmp_path / name
        path.write_bytes(eml_to_msg(data, **options))
        msg = extract_msg.openMsg(str(path))
        opened.append(msg)
        return msg

    yield convert
    for msg in opened:
        msg.close()
