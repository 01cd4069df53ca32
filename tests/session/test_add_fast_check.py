"""``add`` checks a plain new mail without composing it (usecases.surely_composable): the same
verdicts as composing it, shown on a matrix of good and bad specs added both ways.

The reference is ``add`` with the shortcut turned off (every spec composed, as before it
existed): errors (class, text, hint, exit code), ids, stored rows and warnings must be equal.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from msgsess import api
from msgsess.errors import MsgsessError
from msgsess.session import usecases
from msgsess.spec import KEYS

# Candidate values per key, good and bad ones (wrong type, bad address, NUL, bad date…).
ADDRESSES = [
    "Alice Example <alice@example.com>",
    "bob@example.com",
    '"Doe, Jane" <jane@example.com>',
    "mailto:m@example.com",
    "  Spaced <s@example.com>  ",
    "Ünïcode Näme <u@exämple.com>",
    "not an address",
    "Bob <bob@x.com>, Carol <carol@x.com>",
    "<>",
    "a@b@c",
    "nul\x00@example.com",
    "",
    7,
]
RECIPIENTS = [
    [],
    ["bob@example.com"],
    ["Reader 1 <r1@example.com>", "r2@example.com"],
    ["bad"],
    ["ok@example.com", "Carol <carol"],
    [{"address": "c@example.com"}],
    [{"address": "c@example.com", "properties": {}}],
    [{"address": "c@example.com", "properties": {"PidTagDisplayName": "Cee"}}],
    [{"address": "c@example.com", "properties": {"PidTagNoSuchThing": 1}}],
    [{"address": "bad"}],
    [{"address": 5}],
    [{"addr": "c@example.com"}],
    [{"address": "c@example.com", "extra": 1}],
    "bob@example.com",
    [None],
]
VALUES: dict[str, list[Any]] = {
    "subject": ["Report 1", "", "RE: Hello", "FW: AW: x", 5, "a\x00b", None, "x" * 300],
    "class": ["IPM.Note", "IPM.Note.Custom", "", 3],
    "body": ["Hello\nworld\n", "", 4],
    "html": ["<p>Hi</p>", '<img src="cid:img1">', 1],
    "rtf": ["{\\rtf1 hello}", "not rtf"],
    "from": ADDRESSES,
    "sender": ADDRESSES,
    "to": RECIPIENTS,
    "cc": RECIPIENTS,
    "bcc": RECIPIENTS,
    "reply_to": [["r@example.com"], ["bad"], [{"address": "r@example.com"}], [], "r@example.com"],
    "date": [
        "2024-05-01T09:30:00+02:00",
        "2024-05-01T09:30:00Z",
        "2024-05-01",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "",
        5,
        "1600-01-01T00:00:00Z",
    ],
    "draft": [True, False, "yes", None],
    "template": [True, False, 1],
    "importance": ["low", "high", "HIGH", "urgent", 2],
    "sensitivity": ["private", "confidential", "secret"],
    "categories": [["a", "b"], [], [""], "a", [1], ["x\x00"]],
    "message_id": ["<a@b>", "a@b", "", 9],
    "read_receipt": [True, False, 1],
    "delivery_receipt": [True, "no"],
    "flag": ["Follow up", "", 3],
    "due": ["2024-05-01", "bad"],
    # Keys beyond the shortcut: such a spec is always composed.
    "headers": [["X-A: b"], ["bad header"]],
    "properties": [{"PidTagImportance": 2}, {"PidTagImportance": "high"}],
    "kind": ["mail", "note"],
    "output": ["o.msg", "o.oft", "o.txt", "sub/dir/o.msg", "", 3],
    "id": ["given-1", "bad id!"],
    "attachments": [[{"data": "aGk=", "name": "a.txt"}]],
}


def _specs() -> list[dict[str, Any]]:
    """Every value of every key alone (with an output), then random mixes of a few keys (the
    first two values of each key are good ones)."""
    specs: list[dict[str, Any]] = [
        {"output": f"one/{key}{i}.msg", key: value}
        for key, values in VALUES.items()
        for i, value in enumerate(values)
        if key != "output"
    ]
    pick = random.Random(20261206)
    keys = sorted(VALUES)
    for n in range(700):
        chosen = pick.sample(keys, pick.randint(1, 7))
        # Mostly the first two values of a key (good ones), else any.
        spec = {key: pick.choice(VALUES[key][:2] if pick.random() < 0.7 else VALUES[key]) for key in chosen}
        if "output" not in spec and pick.random() < 0.9:
            spec["output"] = f"mix/m{n}.msg"
        specs.append(spec)
    return specs


def _outcome(session: api.Session, text: str) -> tuple[Any, ...]:
    warnings: list[str] = []
    try:
        ids = session.add_json(text, source="in.jsonl", warn=warnings.append)
    except MsgsessError as exc:
        return ("error", type(exc).__name__, str(exc), exc.hint, exc.exit_code, warnings)
    return ("added", ids, warnings)


def _rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute("SELECT seq, id, output, spec FROM messages ORDER BY seq"))


def _add_both_ways(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, texts: list[str]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    """Each text added to one session with the shortcut and to another without it."""
    real: Callable[[dict[str, Any]], bool] = usecases.surely_composable
    fast_calls = 0

    def counted(spec: dict[str, Any]) -> bool:
        nonlocal fast_calls
        verdict = real(spec)
        fast_calls += verdict
        return verdict

    outcomes = []
    for check in (counted, lambda _spec: False):
        # One path for both sessions: warnings name it, and outputs are kept absolute.
        monkeypatch.setattr(usecases, "surely_composable", check)
        session = api.Session.create(workdir / "s.session")
        results = [_outcome(session, text) for text in texts]
        outcomes.append((results, _rows(workdir / "s.session")))
        session.discard()
    (fast, fast_rows), (composed, composed_rows) = outcomes
    assert fast_rows == composed_rows
    return fast, composed, fast_calls


def test_same_verdicts_errors_and_stored_specs_as_composing(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = _specs()
    texts = [json.dumps(spec) for spec in specs]
    fast, composed, fast_calls = _add_both_ways(workdir, monkeypatch, texts)
    for text, one, other in zip(texts, fast, composed, strict=True):
        assert one == other, text
    # The matrix reaches both sides: many specs pass by the shortcut, many fail.
    errors = sum(1 for one in fast if one[0] == "error")
    assert fast_calls > 150 and errors > 300, (fast_calls, errors)
    assert len({one[2] for one in fast if one[0] == "error"}) > 40  # many distinct errors


def test_same_error_lines_in_json_lines_and_arrays(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Good lines, then a bad one: the error names its line (or index), nothing is added.
    pick = random.Random(11)
    good = [
        {"output": f"b/{i}.msg", "subject": f"S{i}", "from": "a@example.com", "to": [f"r{i}@example.com"]}
        for i in range(30)
    ]
    bad = [spec for spec in _specs() if "output" in spec][:60]
    texts = []
    for spec in bad:
        lines = [*pick.sample(good, 5), spec, *pick.sample(good, 2)]
        texts.append("\n".join(json.dumps(line) for line in lines) + "\n")
        texts.append(json.dumps(lines))
    fast, composed, _ = _add_both_ways(workdir, monkeypatch, texts)
    assert fast == composed
    assert any(one[0] == "error" and "in.jsonl line 6" in one[2] for one in fast)
    assert any(one[0] == "error" and "in.jsonl $[5]" in one[2] for one in fast)


def test_a_spec_the_shortcut_lets_through_composes(workdir: Path) -> None:
    # Without the schema in front (values of any JSON type): whatever the shortcut lets
    # through, composing accepts too.
    settings = usecases.Settings(unicode=True, codepage=1252)
    through = 0
    for spec in _specs():
        spec = {k: v for k, v in spec.items() if k not in ("output", "id")}
        for one in (spec, *({key: value} for key, value in spec.items())):
            if usecases.surely_composable(one):
                through += 1
                usecases.check_composable(one, "m", settings)
    assert through > 1000


def test_plain_keys_are_spec_keys() -> None:
    assert usecases._PLAIN_KEYS <= KEYS


def test_a_plain_mail_takes_the_shortcut() -> None:
    spec = {
        "subject": "RE: Hi",
        "from": "Alice <alice@example.com>",
        "sender": "s@example.com",
        "to": ["Bob <bob@example.com>", {"address": "c@example.com"}],
        "cc": ["d@example.com"],
        "reply_to": ["r@example.com"],
        "date": "2024-05-01T09:30:00+02:00",
        "draft": False,
        "importance": "High",
        "sensitivity": "private",
        "categories": ["a"],
        "message_id": "<m@example.com>",
        "read_receipt": True,
        "flag": "",
        "body": "b",
        "html": "<p>x</p>",
    }
    assert usecases.surely_composable(spec)
    for doubt in (
        {"to": ["bob"]},
        {"date": "soon"},
        {"template": True, "draft": False},
        {"due": "2024-05-01"},
        {"to": [{"address": "c@example.com", "properties": {"PidTagDisplayName": "C"}}]},
        {"subject": "x\ud800"},
        {"draft": 1},
        {"read_receipt": 0},
    ):
        assert not usecases.surely_composable({**spec, **doubt}), doubt
