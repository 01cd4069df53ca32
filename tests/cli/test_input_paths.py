"""A folder or a missing path where a command reads a file: one rule for every command and option.

Issue 12 made ``attach`` of a folder exit 4, like a missing file; every other door that reads a
file (body and HTML files, JSON, EML, iCalendar, vCard, photos, ``@file`` values, the ``.msg``
files of edit/dump/check/extract/export) now answers the same: exit 4, one line naming the path
and the option, and the session left as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Invoke, ok, one_error

#: Every command line that reads one input file, with PATH where the file goes.
READERS = [
    ["add", "s", "o.msg", "--body-file", "PATH"],
    ["add", "s", "o.msg", "--html-file", "PATH"],
    ["add", "s", "o.msg", "--rtf-file", "PATH"],
    ["add", "s", "o.msg", "--attach", "PATH"],
    ["add", "s", "--json", "PATH"],
    ["add", "s", "o.msg", "--eml", "PATH"],
    ["add", "s", "o.msg", "--ics", "PATH"],
    ["add", "s", "o.msg", "--vcard", "PATH"],
    ["add", "s", "o.msg", "--kind", "contact", "--name", "Bob", "--photo", "PATH"],
    ["add", "s", "o.msg", "--subject", "x", "--set", "PidTagBody=@PATH"],
    ["set", "s", "m1", "PidTagBody", "@PATH"],
    ["attach", "s", "m1", "PATH"],
    ["attach", "s", "m1", "--msg", "PATH"],
    ["edit", "s", "PATH"],
    ["dump", "PATH"],
    ["dump", "--json", "PATH"],
    ["check", "PATH"],
    ["extract", "PATH", "-d", "out"],
    ["export", "PATH", "--out-dir", "eo"],
    ["export", "--ics", "PATH", "--out-dir", "eo"],
    ["export", "--vcard", "PATH", "-o", "c.vcf"],
]


def _ids(args: list[str]) -> str:
    return " ".join(a for a in args if a not in ("s", "o.msg", "PATH", "m1"))


@pytest.fixture
def session(invoke: Invoke, workdir: Path) -> Invoke:
    """A session ``s`` with one message m1, a folder ``box`` and nothing called ``gone``."""
    (workdir / "box").mkdir()
    ok(invoke("open", "s"))
    ok(invoke("add", "s", "a.msg", "--id", "m1", "--subject", "kept", "-q"))
    return invoke


def _spelled(args: list[str], path: str) -> list[str]:
    return [a.replace("PATH", path) for a in args]


def _unchanged(invoke: Invoke) -> None:
    rows = [json.loads(line) for line in ok(invoke("show", "s", "--json")).splitlines()]
    assert [(r["id"], r["subject"], r.get("attachments")) for r in rows] == [("m1", "kept", None)]


@pytest.mark.parametrize("args", READERS, ids=_ids)
def test_a_folder_where_a_file_is_read_is_exit_4_in_one_line(session: Invoke, args: list[str]) -> None:
    line = one_error(session(*_spelled(args, "box")), 4, "box is a folder, not a file")
    assert "Invalid value" not in line  # msgsess's own line, not click's usage error (exit 2)
    at = next(n for n, a in enumerate(args) if "PATH" in a)
    if args[0] == "add" and args[at - 1] in (
        "--body-file",
        "--html-file",
        "--rtf-file",
        "--json",
        "--ics",
        "--vcard",
        "--set",
    ):
        assert args[at - 1] in line, line  # the flag the user typed is named
    _unchanged(session)


@pytest.mark.parametrize("args", READERS, ids=_ids)
def test_a_missing_file_is_exit_4_in_one_line(session: Invoke, args: list[str]) -> None:
    one_error(session(*_spelled(args, "gone")), 4, "gone does not exist", "(check the path)")
    _unchanged(session)


def test_a_trailing_slash_is_a_folder_too(session: Invoke) -> None:
    one_error(session("add", "s", "o.msg", "--body-file", "box/"), 4, "is a folder, not a file")
    one_error(session("dump", "box/"), 4, "is a folder, not a file")


def test_check_goes_on_past_a_folder_and_exits_4(session: Invoke, workdir: Path) -> None:
    ok(session("close", "s"))
    result = session("check", "a.msg", "box")
    assert result.exit_code == 4, result.output
    assert "box is a folder, not a file" in result.stderr
    assert "2 files: 1 unreadable" in result.stdout


def test_import_and_convert_take_folders_and_name_a_missing_input(session: Invoke, workdir: Path) -> None:
    """import refuses a missing INPUT before reading any (one transaction: exit 4); convert's
    results are per file (issue 13), so a missing INPUT is one failed input among converted ones:
    the others are written and the exit code is convert's 1, with the same words as import's."""
    (workdir / "box" / "one.eml").write_bytes(b"Subject: one\r\n\r\nbody\r\n")
    one_error(session("import", "s", "box", "gone", "--out-dir", "io"), 4, "gone: no such file or folder")
    _unchanged(session)
    result = session("convert", "box", "gone", "--out-dir", "co")
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0] == "msgsess: error: gone: no such file or folder (check the path)"
    assert (workdir / "co" / "one.msg").is_file()
