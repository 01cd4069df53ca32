"""Hostile attachment names through the ``extract`` command itself (issue 12).

``tests/test_extract.py`` fuzzes the names given to the planner and the folder writer; here the
names sit in a real .msg file — as the long file name, the short one, the display name, or the
subject of an embedded message — and ``msgsess extract FILE -d DIR --json`` runs on it. Whatever
the names, the command succeeds, writes one file per attachment, every file lands directly in
DIR (nothing anywhere else below the test's folder, no folder made inside DIR), and ``--json``
names each of them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msgsess import cfb, oxmsg
from msgsess.cli.main import cli
from msgsess.model import Attachment, Message
from msgsess.props import ids
from msgsess.props import types as t

_HOSTILE = ("..", ".", "/", "\\", "C:", "c:\\", "\\\\srv\\share\\", "CON", "nul.txt", "LPT1", "\n", "\x1b[2J")
_PIECES = st.sampled_from([*_HOSTILE, "\u202e", "~", " ", "é", "e\u0301", ".msg", "A", "a", "x" * 300])
_NAMES = st.lists(
    st.one_of(
        _PIECES, st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=10)
    ),
    max_size=6,
).map("".join)
_WHERE = st.sampled_from(["long", "short", "display", "embedded"])


def _attachment(where: str, name: str, number: int) -> Attachment:
    if where == "embedded":
        inner = Message()
        inner.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, "IPM.Note")
        if name:
            inner.props.set(ids.SUBJECT, t.PT_UNICODE, name)
        att = Attachment(embedded=inner)
        att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG)
        return att
    att = Attachment()
    att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE)
    att.props.set(ids.ATTACH_DATA, t.PT_BINARY, str(number).encode())
    pid = {"long": ids.ATTACH_LONG_FILENAME, "short": ids.ATTACH_FILENAME, "display": ids.DISPLAY_NAME}[where]
    if name:
        att.props.set(pid, t.PT_UNICODE, name)
    return att


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.tuples(_WHERE, _NAMES), min_size=1, max_size=5))
def test_extract_keeps_every_hostile_name_inside_the_folder(
    tmp_path_factory: pytest.TempPathFactory, names: list[tuple[str, str]]
) -> None:
    root = tmp_path_factory.mktemp("extract")
    msg = Message()
    msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, "IPM.Note")
    msg.attachments = [_attachment(where, name, i) for i, (where, name) in enumerate(names)]
    source = root / "in" / "hostile.msg"
    source.parent.mkdir()
    source.write_bytes(cfb.to_bytes(oxmsg.encode(msg)))
    out = root / "box" / "out"

    result = CliRunner().invoke(cli, ["extract", str(source), "-d", str(out), "--json"])

    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == len(names)
    written = sorted(Path(r["path"]) if os.path.isabs(r["path"]) else Path.cwd() / r["path"] for r in rows)
    assert all(p.parent == out for p in written), written
    found = sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())
    assert found == sorted([source, *written])
    assert sorted(p for p in out.rglob("*")) == written  # no folders inside DIR either
    for row, (where, _) in zip(rows, names, strict=True):
        if where != "embedded":
            assert Path(row["path"]).read_bytes() == str(row["attachment"]).encode()


def test_names_that_are_no_text_are_extracted_safely(tmp_path: Path) -> None:
    """A lone UTF-16 surrogate in a Unicode file's long file name, an undefined byte in an ANSI
    file's: bytes our encoder will not write for a new name, so they are put in the streams."""
    for unicode, stream, raw in (
        (True, "__substg1.0_3707001F", "../a".encode("utf-16-le") + b"\x00\xd8" + ".txt".encode("utf-16-le")),
        (False, "__substg1.0_3707001E", b"../b\x81.txt"),
    ):
        msg = Message()
        msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, "IPM.Note")
        msg.attachments = [_attachment("long", "placeholder", 7)]
        tree = oxmsg.encode(msg, unicode=unicode)
        tree.storage("__attach_version1.0_#00000000").entries[stream] = raw
        source = tmp_path / f"{unicode}.msg"
        source.write_bytes(cfb.to_bytes(tree))
        out = tmp_path / f"out-{unicode}"
        result = CliRunner().invoke(cli, ["extract", str(source), "-d", str(out), "--json"])
        assert result.exit_code == 0, result.stderr
        (row,) = json.loads(result.stdout)
        written = Path(row["path"])
        assert written.parent == out and written.read_bytes() == b"7"
        assert written.name.encode("utf-8")  # a name the file system and UTF-8 output can take
        assert {p.name for p in tmp_path.iterdir()} <= {"True.msg", "False.msg", "out-True", "out-False"}
        assert [p.name for p in out.iterdir()] == [written.name]
