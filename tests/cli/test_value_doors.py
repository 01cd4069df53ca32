"""docs/VALUES.md's table of examples, every row through the three doors.

``add --set PROP=VALUE``, ``set SESSION ID PROP VALUE`` and ``add --json`` with
``{"properties": {PROP: JSON}}`` must store the same thing, or fail with the same exit code. The
stored values are read back from the written files with our decoder (type and value, as
``dump --json`` shows them) and with extract-msg (the type code in the file, and the value).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import extract_msg
import pytest
from click.testing import CliRunner

from msgsess import cfb, oxmsg
from msgsess.cli.main import cli
from msgsess.props import registry, values
from msgsess.props import types as t
from msgsess.props.keys import NamedId
from tests.conftest import TEST_ENV, Run

DOC = Path(__file__).resolve().parents[2] / "docs" / "VALUES.md"
#: The files the table's @ rows read (the text above the table says what they hold).
FILES = {"body.txt": b"Hello from a file\n", "data.bin": b"\x01\x02\x03"}


@dataclass(frozen=True)
class Row:
    prop: str
    text: str  # the command line's VALUE
    json_value: Any  # the JSON door's value
    ptype: int | None  # the type stored, or None for an error row
    stored: Any  # the value as dump --json shows it
    code: int  # the exit code of an error row
    fragment: str  # what the error line says


def _code(cell: str) -> str:
    match = re.fullmatch(r"`(.*)`", cell.strip())
    assert match, cell
    return match.group(1)


def table() -> list[Row]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Examples", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        prop, cli_text, json_text, gives = (cell.strip() for cell in line.strip().strip("|").split(" | "))
        error = re.fullmatch(r"exit (\d+): `(.+)`", gives)
        if error:
            ptype, stored, code, fragment = None, None, int(error.group(1)), error.group(2)
        else:
            typed = re.match(r"`(PT_\w+)` `(.+?)`(?: \(.*\))?$", gives)
            assert typed, gives
            ptype, stored, code, fragment = (
                t.parse_type_name(typed.group(1)),
                json.loads(typed.group(2)),
                0,
                "",
            )
        rows.append(
            Row(_code(prop), _code(cli_text), json.loads(_code(json_text)), ptype, stored, code, fragment)
        )
    return rows


ROWS = table()
OK = [row for row in ROWS if row.ptype is not None]
FAIL = [row for row in ROWS if row.ptype is None]


def _id(row: Row) -> str:
    return f"{row.prop}={row.text}"


def test_the_table_covers_every_rule() -> None:
    assert len(ROWS) >= 30 and len(FAIL) >= 6
    texts = [row.text for row in ROWS]
    assert any(x.startswith("@@") for x in texts) and any(x.startswith("@") and x[1] != "@" for x in texts)
    assert any(x.startswith('{"type"') for x in texts) and any(x.startswith("[") for x in texts)
    assert {row.ptype for row in OK} >= {t.PT_UNICODE, t.PT_LONG, t.PT_I8, t.PT_DOUBLE, t.PT_BOOLEAN}


class Doors:
    """A session in a folder, each OK row added through each door as its own message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.runner = CliRunner()

    def invoke(self, *args: str, input: str | None = None) -> Any:
        return self.runner.invoke(cli, list(args), input=input, env=TEST_ENV)

    def through(self, door: str, row: Row, output: str) -> Any:
        if door == "add --set":
            return self.invoke("add", "s", output, "--id", output, "--set", f"{row.prop}={row.text}")
        if door == "set":
            added = self.invoke("add", "s", output, "--id", output)
            assert added.exit_code == 0, added.stderr
            return self.invoke("set", "s", output, row.prop, row.text)
        spec = {"id": output, "output": output, "properties": {row.prop: row.json_value}}
        return self.invoke("add", "s", "--json", "-", input=json.dumps(spec))


DOORS = ("add --set", "set", "add --json")


def _output(number: int, door: str) -> str:
    return f"r{number}-{door.replace(' ', '').strip('-')}.msg"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every OK row through every door, closed once (a real process) into .msg files."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("doors")
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        doors = Doors(folder)
        assert doors.invoke("open", "s").exit_code == 0
        for number, row in enumerate(OK):
            for door in DOORS:
                result = doors.through(door, row, _output(number, door))
                assert result.exit_code == 0, (door, row, result.stderr)
    closed = subprocess.run(
        [sys.executable, "-m", "msgsess", "close", "s"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert closed.returncode == 0, closed.stderr
    yield folder


def _stream_id(path: Path, pid: Any) -> str:
    """The 4-hex id of a property in the file, through extract-msg's own named-property map."""
    if not isinstance(pid, NamedId):
        return f"{pid:04X}"
    key = pid.name if pid.name is not None else f"{pid.lid:04X}"
    with extract_msg.openMsg(str(path)) as msg:
        for (ident, guid), entry in msg.named.items():
            if guid.strip("{}").lower() == str(pid.guid) and ident.upper() == key.upper():
                return str(entry.propertyStreamID).upper()
    raise AssertionError(f"{pid} is not in the named-property map of {path}")


def _their_value(ptype: int, value: Any) -> Any:
    """extract-msg's value in the form of dump --json, for the types the table uses."""
    if ptype == t.PT_SYSTIME:
        assert isinstance(value, dt.datetime)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if ptype == t.PT_BINARY:
        return values.to_json(ptype, bytes(value))
    if ptype == t.PT_UNICODE:
        return values.to_json(ptype, value)
    bits = {t.PT_SHORT: 16, t.PT_LONG: 32, t.PT_I8: 64}.get(ptype)
    if bits is not None and value >= 1 << (bits - 1):
        return value - (1 << bits)  # extract-msg reads integers unsigned
    return value


@pytest.mark.parametrize("row", OK, ids=_id)
@pytest.mark.parametrize("door", DOORS)
def test_each_door_stores_what_the_table_says(written: Path, row: Row, door: str) -> None:
    path = written / _output(OK.index(row), door)
    msg = oxmsg.decode(cfb.read_file(path))
    pid = registry.resolve(row.prop, row.ptype).pid
    prop = msg.props[pid]
    assert (prop.type, values.to_json(prop.type, prop.value)) == (row.ptype, row.stored)
    # extract-msg: the type code written in the file, and the value it reads.
    sid = _stream_id(path, pid)
    with extract_msg.openMsg(str(path)) as theirs:
        tags = [key for key in theirs.props if key.upper().startswith(sid)]
        assert [int(tag[4:], 16) for tag in tags] == [row.ptype], tags
        assert _their_value(row.ptype, theirs._getTypedData(sid)) == row.stored


@pytest.mark.parametrize("row", FAIL, ids=_id)
def test_each_door_refuses_what_the_table_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row: Row
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    doors = Doors(tmp_path)
    assert doors.invoke("open", "s").exit_code == 0
    for door in DOORS:
        result = doors.through(door, row, _output(0, door))
        assert result.exit_code == row.code, (door, result.stderr)
        assert row.fragment in result.stderr and result.stderr.count("\n") == 1, (door, result.stderr)
    shown = doors.invoke("show", "s", "--json").stdout
    assert all("properties" not in json.loads(line) for line in shown.splitlines())


def test_a_real_process_reads_the_table_the_same_way(run: Run, workdir: Path) -> None:
    """One row per rule through a real `msgsess` process, the rest through CliRunner above."""
    (workdir / "body.txt").write_bytes(FILES["body.txt"])
    assert run("open", "s").returncode == 0
    cases = [
        ("PS_PUBLIC_STRINGS:Tags", '["alpha", "beta"]', ["alpha", "beta"]),
        ("PS_PUBLIC_STRINGS:Count", "5", 5),
        ("PS_PUBLIC_STRINGS:Code", '"5"', "5"),
        ("PidTagSubject", "@@home", "@@home"),
        ("PidTagBody", "@body.txt", "Hello from a file\n"),
    ]
    args = [f"--set={prop}={text}" for prop, text, _ in cases]
    assert run("add", "s", "a.msg", *args).returncode == 0
    assert run("add", "s", "b.msg", "--id", "b").returncode == 0
    for prop, text, _ in cases:
        assert run("set", "s", "b", prop, text).returncode == 0
    assert run("close", "s").returncode == 0
    for name in ("a.msg", "b.msg"):
        dumped = json.loads(run("dump", name, "--json").stdout)
        found = {p["name"]: p["value"] for p in dumped["properties"]}
        assert [found[prop] for prop, _, _ in cases] == [expected for _, _, expected in cases]
    assert run("open", "s2").returncode == 0
    bad = run("add", "s2", "x.msg", "--set", "PidTagImportance=5")
    assert bad.returncode == 3 and "is not one of 0 (low), 1 (normal), 2 (high)" in bad.stderr


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("9" * 5000, 3, "5000 digits"),
        ("-" + "9" * 5000, 3, "5000 digits"),
        ("[" * 3000 + "]" * 3000, (3, 8), "deep"),
    ],
    ids=["5000 digits", "-5000 digits", "arrays 3000 deep"],
)
def test_every_door_refuses_a_huge_number_or_arrays_nested_thousands_deep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, code: int | tuple[int, int], words: str
) -> None:
    """Issue 9 item 9 through the three doors: the JSON door refused these (a number of 5000
    digits: exit 3; JSON nested too deep: exit 8, the whole document), while ``--set`` and
    ``set`` stored them as a 5000-character string because they were no JSON Python would read."""
    monkeypatch.chdir(tmp_path)
    doors = Doors(tmp_path)
    assert doors.invoke("open", "s").exit_code == 0
    codes = code if isinstance(code, tuple) else (code,)
    for door in DOORS:
        row = Row("PS_PUBLIC_STRINGS:Huge", text, None, None, None, 0, "")
        if door == "add --json":
            spec = '{"id": "j", "output": "j.msg", "properties": {"PS_PUBLIC_STRINGS:Huge": ' + text + "}}"
            result = doors.invoke("add", "s", "--json", "-", input=spec)
        else:
            result = doors.through(door, row, _output(0, door))
        assert result.exit_code in codes, (door, result.stderr[-300:])
        assert words in result.stderr and result.stderr.count("\n") == 1, (door, result.stderr[-300:])
    shown = doors.invoke("show", "s", "--json").stdout
    assert all("properties" not in json.loads(line) for line in shown.splitlines())
