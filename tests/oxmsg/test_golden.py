"""Golden tests: the stream tree of a few messages, as readable text.

Each case composes a message with a fixed clock, encodes it, renders the tree
with ``treetext`` (names, sizes, property stream headers and entries) and
compares with ``golden/<case>.txt``. The tree read back from the written file
must render the same. Regenerate after an intended change with::

    MSGSESS_UPDATE_GOLDEN=1 pytest tests/oxmsg/test_golden.py

and review the diff against ``oxmsg-facts.md`` before committing it.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from msgsess import cfb, oxmsg
from msgsess.composer import compose
from msgsess.model import Message
from msgsess.props import types as t

sys.path.insert(0, str(Path(__file__).parent))
import treetext

GOLDEN = Path(__file__).parent / "golden"
NOW = t.FileTime.from_datetime(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC))


def plain_unicode() -> tuple[Message, dict[str, Any]]:
    return compose({"subject": "Hi", "to": "Bob Example <bob@example.com>"}, now=NOW), {}


def ansi_with_attachment() -> tuple[Message, dict[str, Any]]:
    spec = {
        "subject": "RE: Café menu",
        "body": "Voilà the menu.\r\n",
        "from": "Zoë <zoe@example.com>",
        "to": "Bob <bob@example.com>",
        "attachments": [{"data": base64.b64encode(b"soup,5\r\nbread,2\r\n").decode(), "name": "menu.csv"}],
    }
    msg = compose(spec, now=NOW, unicode=False, codepage=1252)
    return msg, {"unicode": False, "codepage": 1252}


def embedded_and_named() -> tuple[Message, dict[str, Any]]:
    def inner(_spec: Mapping[str, Any]) -> Message:
        return compose(
            {
                "subject": "Inner",
                "body": "inner body",
                "headers": ["X-Mailer: inner"],
                "categories": ["blue"],
            },
            now=NOW,
        )

    spec = {
        "subject": "FW: Inner",
        "to": "Ann <ann@example.com>",
        "headers": ["X-Mailer: msgsess"],
        "categories": ["red", "green"],
        "attachments": [{"message": "inner"}],
    }
    return compose(spec, now=NOW, embedded=inner), {}


CASES: dict[str, Callable[[], tuple[Message, dict[str, Any]]]] = {
    "plain_unicode": plain_unicode,
    "ansi_with_attachment": ansi_with_attachment,
    "embedded_and_named": embedded_and_named,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_tree(tmp_path: Path, case: str) -> None:
    msg, options = CASES[case]()
    tree = oxmsg.encode(msg, **options)
    text = treetext.render(tree)
    golden = GOLDEN / f"{case}.txt"
    if os.environ.get("MSGSESS_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}: run with MSGSESS_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")
    # The compound file holds exactly that tree.
    path = tmp_path / f"{case}.msg"
    cfb.write_atomic(tree, path)
    assert treetext.render(cfb.read_file(path)) == text


def test_same_input_same_golden() -> None:
    """The golden text does not depend on anything but the input (no clock, no randomness)."""
    for build in CASES.values():
        first, options = build()
        second, _ = build()
        assert treetext.render(oxmsg.encode(first, **options)) == treetext.render(
            oxmsg.encode(second, **options)
        )
