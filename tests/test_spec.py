"""The message spec's one home (msgsess/spec.py): its keys, their types, the flags that fill
them, and the numbering of recipients and attachments."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import click
import pytest

from msgsess import spec, spectypes
from msgsess.errors import NotFound
from msgsess.session import jsonspec

SCHEMA = jsonspec.schema()


def _schema_keys(definition: dict[str, Any]) -> set[str]:
    return set(definition["properties"])


def test_the_key_set_is_the_schema_s() -> None:
    assert _schema_keys(SCHEMA) == spec.KEYS | spec.ADD_ONLY_KEYS
    assert spec._keys(spec.MessageSpec) == spec.KEYS


def test_each_kind_s_keys_are_its_typed_dict_s() -> None:
    # spec.py spells the keys out (no typing at run time); spectypes types them.
    typed = {
        "session": "SessionKeys",
        "mail": "MailKeys",
        "edit": "EditKeys",
        "items": "ItemKeys",
        "eml": "EmlKeys",
    }
    assert [kind.name for kind in spec.KINDS] == list(typed)
    for kind in spec.KINDS:
        assert kind.keys == spec._keys(getattr(spectypes, typed[kind.name])), kind.name


def test_the_spec_s_types_are_given_on_first_use() -> None:
    assert spec.MessageSpec is spectypes.MessageSpec
    assert spec.Table is spectypes.Table
    assert spec.kind_of_class("IPM.Appointment") == "appointment"
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        spec.Nothing  # noqa: B018


def test_spec_gives_every_type_of_spectypes() -> None:
    typed = {
        name
        for name, value in vars(spectypes).items()
        if getattr(value, "__module__", "") == spectypes.__name__
    }
    assert typed <= set(spec._LAZY)
    assert all(getattr(spec, name) is getattr(spectypes, name) for name in typed)


def test_the_room_add_checks_is_the_codec_s() -> None:
    from msgsess.oxmsg.layout import MAX_OBJECTS
    from msgsess.session.edit import MAX_OBJECTS as checked

    assert checked == MAX_OBJECTS


def test_the_typed_dicts_say_what_the_schema_says() -> None:
    defs = SCHEMA["$defs"]
    assert spec._keys(spec.AttachmentSpec) >= _schema_keys(defs["attachment"])
    assert spec._keys(spec.RecipientSpec) == _schema_keys(defs["recipient"]["oneOf"][1])
    assert spec._keys(spec.SourceSpec) >= _schema_keys(SCHEMA["properties"]["source"])
    # Keys only a session or `show` writes are not inputs of the schema.
    stored = {"blob", "msg_blob", "size"}
    assert spec._keys(spec.AttachmentSpec) - _schema_keys(defs["attachment"]) == stored


def test_each_key_has_one_kind() -> None:
    owners: dict[str, str] = {}
    for kind in spec.KINDS:
        for key in kind.keys:
            assert key not in owners, f"{key} is {owners[key]}'s and {kind.name}'s"
            owners[key] = kind.name
        assert kind.table_keys <= kind.keys
    assert spec.kind_of_key("subject") is spec.MAIL
    assert spec.kind_of_key("source") is spec.EDIT
    assert spec.kind_of_key("nope") is None


def test_every_flag_of_add_that_describes_a_message_fills_a_key() -> None:
    from msgsess.cli.cmd_add import add_cmd

    params = {p.name for p in add_cmd.params if isinstance(p, click.Option | click.Argument)}
    assert set(spec.FLAG_KEYS) <= params
    assert set(spec.FLAG_KEYS.values()) <= spec.KEYS
    # What is left are the options about the command itself, not about one message.
    assert params - set(spec.FLAG_KEYS) - {"session", "json_input"} <= {"replace", "quiet", "ics", "vcard"}


def _edited() -> dict[str, Any]:
    return {
        "source": {"blob": "0" * 64, "info": {"recipients": 3, "attachments": 2}},
        "remove_recipients": [1],
        "to": ["a@example.com"],
        "bcc": ["b@example.com"],
        "cc": ["c@example.com"],
        "remove_attachments": [0],
        "attachments": [{"blob": "1" * 64}],
    }


def test_rows_are_the_file_s_own_minus_removed_then_added() -> None:
    edited = _edited()
    assert spec.rows(edited, "recipients") == [
        ("original", 0),
        ("original", 2),
        ("to", 0),
        ("cc", 0),
        ("bcc", 0),
    ]
    assert spec.rows(edited, "attachments") == [("original", 1), ("attachments", 0)]
    assert spec.row(edited, "recipients", 3) == ("cc", 0)
    assert spec.kept_originals(edited, "recipients") == 2
    assert spec.number_of(edited, "bcc", 0) == 4 and spec.number_of(edited, "attachments", 0) == 1
    with pytest.raises(NotFound, match=r"^no attachment 2 \(it has 2\)$"):
        spec.row(edited, "attachments", 2)
    # A new message numbers as before: to, cc, bcc.
    assert spec.rows({"to": ["x@y.z"], "cc": ["u@v.w"]}, "recipients") == [("to", 0), ("cc", 0)]
    # show's form has no captured info: the caller says how many rows the file has.
    shown = {k: v for k, v in edited.items() if k != "source"} | {"source": {"file": "x.msg"}}
    assert spec.rows(shown, "attachments", originals=2) == spec.rows(edited, "attachments")


GOOD = """
from msgsess.spec import MessageSpec

ok: MessageSpec = {
    "output": "out/a.msg",
    "from": "Ann <ann@example.com>",
    "to": ["bob@example.com", {"address": "c@example.com", "properties": {"PidTagRecipientTrackStatus": 0}}],
    "importance": "high",
    "attachments": [{"file": "a.pdf", "hidden": True}],
    "properties": {"PidTagSensitivity": None},
}
"""
BAD = """
from msgsess.spec import MessageSpec

typo: MessageSpec = {"subjet": "Hi"}
wrong: MessageSpec = {"importance": "urgent"}
flag: MessageSpec = {"draft": "yes"}
who: MessageSpec = {"to": [{"properties": {}}]}
"""


@pytest.mark.skipif(
    shutil.which("mypy") is None and not (Path(sys.executable).parent / "mypy").exists(),
    reason="mypy is not installed",
)
def test_mypy_strict_checks_specs_written_in_python(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(textwrap.dedent(GOOD))
    (tmp_path / "bad.py").write_text(textwrap.dedent(BAD))
    cmd = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path)]
    # The package as this checkout has it (an editable install may hide it from mypy).
    env = {**os.environ, "MYPYPATH": str(Path(spec.__file__).parents[1])}
    run = functools.partial(
        subprocess.run, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env
    )
    good = run([*cmd, "good.py"])
    assert good.returncode == 0, good.stdout
    bad = run([*cmd, "bad.py"])
    errors = [line for line in bad.stdout.splitlines() if ": error:" in line]
    # One error per wrong line: the misspelled key, the value outside the enum, the type, the
    # recipient without its address.
    assert sorted({int(line.split(":")[1]) for line in errors}) == [4, 5, 6, 7], bad.stdout
    assert '"subjet"' in bad.stdout


def test_the_schema_s_example_is_a_message_spec() -> None:
    example = SCHEMA["examples"][0]
    assert set(example) <= spec.KEYS
    assert json.loads(json.dumps(example)) == example


def test_kinds_with_steps_name_a_module_that_prepares_and_applies() -> None:
    import importlib

    for kind in spec.KINDS:
        if kind.steps is not None:
            module = importlib.import_module(kind.steps)
            assert callable(module.prepare) and callable(module.apply), kind.name
    assert spec.steps_for({"subject": "Hi"}) == []  # mail: the composer's own keys


def test_the_item_kinds_already_have_the_shape_of_a_kinds_steps() -> None:
    """msgsess.items (issue 14) plugs in as a Kind's ``steps`` once its keys join the schema:
    ``prepare(spec, *, label)`` gives a ``mail_spec``, ``apply(prepared, msg, *, now)``."""
    import inspect

    items = pytest.importorskip("msgsess.items")
    prepare, apply = inspect.signature(items.prepare), inspect.signature(items.apply)
    assert (
        list(prepare.parameters)[:1] == ["spec"] and prepare.parameters["label"].kind.name == "KEYWORD_ONLY"
    )
    assert (
        list(apply.parameters)[:2] == ["prepared", "msg"]
        and apply.parameters["now"].kind.name == "KEYWORD_ONLY"
    )
    prepared = items.prepare({"kind": "task", "subject": "Call Bob", "due": "2024-05-03"}, label="message m1")
    assert "kind" not in prepared.mail_spec and prepared.mail_spec["class"] == "IPM.Task"
