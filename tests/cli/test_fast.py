"""The fast start (msgsess/cli/fast.py) against click: same table, same reading, same results.

The fast start runs ``open``, ``add``, ``edit``, ``dump`` and ``check`` without importing
click; these tests hold it to the click commands: its option table is the one click declares,
whatever it reads it reads as click does (or leaves to click), and every run of a large matrix
of command lines, good and bad, prints the same bytes, exits with the same status and leaves
the same session and files as the same run through click (``MSGSESS_NO_FAST=1``).
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from msgsess.cli import fast
from msgsess.cli.main import cli
from tests.conftest import TEST_ENV


def _kind(param: click.Parameter) -> str | tuple[str, ...]:
    """The fast table's kind of a click parameter (see fast.py), from what click declares."""
    t = param.type
    many = "*" if param.multiple else ""
    if isinstance(param, click.Option) and param.is_flag:
        return "flag?" if param.default is None else "flag"
    if isinstance(t, click.Choice) and t.case_sensitive and all(isinstance(c, str) for c in t.choices):
        return tuple(str(c) for c in t.choices)
    if isinstance(t, click.Path):
        plain = (
            not t.exists and t.file_okay and t.readable and not t.writable and not t.executable
            and not t.resolve_path and not t.allow_dash and t.type in (None, str)
        )  # fmt: skip
        if plain:
            return ("path" if t.dir_okay else "file") + many
    elif type(t).convert is click.ParamType.convert or isinstance(t, click.types.StringParamType):
        return "text" + many  # a string as given (PROP=VALUE completes, converts nothing)
    return "click"


def _from_click(name: str) -> tuple[fast.Arguments, fast.Options]:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    assert command.allow_interspersed_args and not command.ignore_unknown_options
    assert not command.context_settings and type(command) is click.Command
    arguments: list[tuple[str, str, int]] = []
    options: fast.Options = {}
    for param in command.params:
        assert param.name is not None
        assert param.callback is None and param.envvar is None and param.expose_value, param.name
        assert not param.is_eager, param.name
        kind = _kind(param)
        if isinstance(param, click.Argument):
            assert isinstance(kind, str) and kind in ("file", "path"), param.name
            assert param.nargs in (1, -1)
            arguments.append((param.name, kind, param.nargs if param.required else 0))
            continue
        assert isinstance(param, click.Option)
        assert not param.secondary_opts and not param.count and not param.prompt and param.nargs == 1
        if kind != "click" and not str(kind).startswith("flag"):
            assert param.default in (None, ()) or repr(param.default) == "Sentinel.UNSET", param.name
        for opt in param.opts:
            options[opt] = (param.name, kind)
    return tuple(arguments), options


@pytest.mark.parametrize("name", sorted(fast.TABLE))
def test_the_table_is_the_click_commands_own(name: str) -> None:
    """Every parameter, in order, with its kind; the table may leave any option to click."""
    arguments, options = fast.TABLE[name]
    declared = _from_click(name)
    assert arguments == declared[0]
    assert list(options) == list(declared[1])
    for opt, (param, kind) in options.items():
        assert (param, kind) == declared[1][opt] or (param, kind) == (declared[1][opt][0], "click"), opt


# --- reading: what the fast start takes, it takes as click does ------------------------------------------

MATRIX: list[list[str]] = [
    ["open", "s"],
    ["open", "new.session"],
    ["open", "--force", "s"],
    ["open", "s", "--ansi"],
    ["open", "--ansi", "--codepage", "1251", "ansi.session"],
    ["open", "--codepage", "1251", "x.session"],
    ["open"],
    ["open", "a", "b"],
    ["open", "folder"],
    ["open", "--force=1", "s"],
    ["open", "--help"],
    ["add", "s", "o/a.msg", "--subject", "Hi", "--to", "Bob <bob@example.com>", "--body", "Hello"],
    ["add", "-q", "s", "o/b.msg", "--subject=Hé ☃", "--to", "a@example.com", "--to", "b@example.com"],
    ["add", "s", "--subject", "embedded only"],
    ["add", "s", "o/c.txt", "--subject", "warned"],
    ["add", "s", "o/d.msg", "--draft", "--sent"],
    ["add", "s", "o/e.msg", "--sent", "--date", "2024-05-01T09:30:00+02:00", "--importance", "high"],
    ["add", "s", "o/f.msg", "--importance", "urgent"],
    ["add", "s", "o/g.msg", "--due", "2024-05-03"],
    [
        "add",
        "s",
        "o/h.msg",
        "--flag",
        "Follow up",
        "--due",
        "2024-05-03",
        "--category",
        "a",
        "--category",
        "b",
    ],
    ["add", "s", "o/i.msg", "--to", "not an <address"],
    ["add", "s", "o/j.msg", "--attach", "note.txt", "--attach", "missing.bin"],
    ["add", "s", "o/k.msg", "--attach", "note.txt", "--header", "X-A: 1", "--set", "PidTagPriority=1"],
    ["add", "s", "o/l.msg", "--subject", "--to"],
    ["add", "s", "o/m.msg", "--subject"],
    ["add", "s", "o/n.msg", "extra"],
    ["add", "s", "o/o.msg", "--bogus"],
    ["add", "s", "o/p.msg", "-qq"],
    ["add", "s", "o/q.msg", "--quiet=yes"],
    ["add", "s", "o/r.msg", "--", "--subject"],
    ["add", "s", "folder"],
    ["add", "s", "o/s.msg", "--body-file", "note.txt", "--html", "<p>x</p>"],
    ["add", "s", "o/t.msg", "--body", "a", "--body-file", "note.txt"],
    ["add", "s", "o/u.msg", "--body-file", "-"],
    ["add", "s", "o/v.msg", "--id", "m1"],
    ["add", "--replace", "s", "o/v.msg", "--id", "m1", "--subject", "again"],
    ["add", "s", "--json", "specs.jsonl"],
    ["add", "s", "--json", "-"],
    ["add", "s", "--json", "specs.jsonl", "--subject", "x"],
    ["add", "s", "--json", "broken.json"],
    ["add", "s", "o/w.msg", "--kind", "note", "--color", "pink", "--body", "sticky"],
    ["add", "s", "o/x.msg", "--kind", "task", "--sequence", "2"],
    ["add", "s", "o/y.msg", "--location", "Room 1"],
    ["add", "s", "o/z.msg", "--ics", "missing.ics"],
    ["add", "nope.session", "o/a.msg"],
    ["add", "note.txt", "o/a.msg"],
    ["add", "s", "o/\x1b[31mred.txt", "--subject", "escape"],
    ["add", "s", "o/set.msg", "--subject", "x", "--set", "PidTagSubject=y"],
    ["add", "s", "o/h.msg", "--help"],
    ["add"],
    ["edit", "s", "a.msg"],
    ["edit", "s", "a.msg", "--out", "o/e.msg", "--id", "e1"],
    ["edit", "s", "a.msg", "--codepage", "1252"],
    ["edit", "s", "missing.msg"],
    ["edit", "s", "note.txt"],
    ["edit", "s", "folder"],
    ["edit", "s"],
    ["dump", "a.msg"],
    ["dump", "--json", "a.msg"],
    ["dump", "a.msg", "--json", "--full"],
    ["dump", "--full", "a.msg"],
    ["dump", "-"],
    ["dump", "note.txt"],
    ["dump", "missing.msg"],
    ["dump", "folder"],
    ["dump", "a.msg", "a.msg"],
    ["dump"],
    ["check", "a.msg"],
    ["check", "a.msg", "note.txt", "missing.msg"],
    ["check", "--json", "a.msg"],
    ["check", "-q", "--all", "a.msg"],
    ["check", "--all", "a.msg"],
    ["check"],
    ["check", "folder"],
    ["check", "-x", "a.msg"],
]


def _make_files(folder: Path) -> None:
    """The files the matrix names, and a session ``s`` with one message, in ``folder``."""
    (folder / "o").mkdir()
    (folder / "folder").mkdir()
    (folder / "note.txt").write_text("a note\n")
    (folder / "specs.jsonl").write_text('{"output": "o/j1.msg", "subject": "one"}\n{"subject": "two"}\n')
    (folder / "broken.json").write_text('{"subject": ')
    runner = CliRunner()
    sample = ["add", "s", "a.msg", "--subject", "Sample", "--to", "b@example.com"]
    for args in (
        ["open", "s"],
        sample,
        ["close", "s"],
        ["open", "s"],
        ["add", "s", "o/m.msg", "--subject", "m"],
    ):
        done = runner.invoke(cli, args, env=TEST_ENV)
        assert done.exit_code == 0, done.output


@pytest.mark.parametrize("argv", MATRIX, ids=lambda a: " ".join(a)[:60])
def test_what_the_fast_start_reads_click_reads_the_same(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _make_files(tmp_path)
    mine = fast.parse(argv[0], argv[1:])
    command = cli.get_command(click.Context(cli), argv[0])
    assert command is not None
    try:
        theirs: dict[str, Any] | None = command.make_context(
            argv[0], argv[1:], parent=click.Context(cli)
        ).params
    except (click.ClickException, click.exceptions.Exit):
        theirs = None
    if mine is not None:
        assert mine == theirs


def test_the_matrix_mostly_takes_the_fast_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a vacuous comparison: most of the matrix is run without click."""
    monkeypatch.chdir(tmp_path)
    _make_files(tmp_path)
    taken = [a for a in MATRIX if fast.parse(a[0], a[1:]) is not None]
    assert len(taken) >= 45, len(taken)
    assert ["add", "s", "--json", "specs.jsonl"] in taken and ["check", "--json", "a.msg"] in taken


# --- running: the same bytes, status, session and files -------------------------------------------------


def _state(folder: Path) -> dict[str, Any]:
    """What a command left: every file's bytes (the session's rows instead of its bytes)."""
    out: dict[str, Any] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_dir():
            out[rel] = "folder"
        elif path.name.endswith("session") and path.read_bytes()[:6] == b"SQLite":
            conn = sqlite3.connect(path)
            try:
                rows = conn.execute("SELECT seq, id, output, spec FROM messages ORDER BY seq").fetchall()
                meta = conn.execute(
                    "SELECT key, value FROM meta WHERE key != 'session' ORDER BY key"
                ).fetchall()
                blobs = conn.execute("SELECT sha256 FROM blobs ORDER BY sha256").fetchall()
            finally:
                conn.close()
            out[rel] = (rows, meta, blobs)
        else:
            out[rel] = path.read_bytes()
    return out


def _run_main(argv: list[str], env: dict[str, str], stdin: bytes) -> tuple[int, bytes, bytes]:
    """``msgsess ARGV`` through the console script's entry, in this process."""
    runner = CliRunner()
    with runner.isolation(input=stdin, env={**TEST_ENV, **env}) as (out, err, _):
        old = sys.argv
        sys.argv = ["msgsess", *argv]
        try:
            fast.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.argv = old
        return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv", MATRIX, ids=lambda a: " ".join(a)[:60])
def test_the_fast_start_runs_as_click_does(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "--help" in argv:
        pytest.skip("help is click's alone")
    stdin = b'{"output": "o/in.msg", "subject": "from stdin"}' if "--json" in argv else b"body from stdin\n"
    if argv[:1] == ["dump"]:
        stdin = b""
    folder, kept = tmp_path / "work", tmp_path / "kept"
    folder.mkdir()
    monkeypatch.chdir(folder)
    _make_files(folder)
    shutil.copytree(folder, kept)
    monkeypatch.delenv("MSGSESS_NO_FAST", raising=False)
    results = []
    for env in ({"MSGSESS_NO_FAST": "1"}, {}):
        shutil.rmtree(folder)
        shutil.copytree(kept, folder)
        code, out, err = _run_main(argv, env, stdin)
        results.append((code, out.decode(), err.decode(), _state(folder)))
    click_run, fast_run = results
    assert fast_run[:3] == click_run[:3]
    assert fast_run[3] == click_run[3]


def test_a_real_process_takes_the_fast_start_and_agrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through ``python -m msgsess``: click is not imported, and the results are click's."""
    monkeypatch.chdir(tmp_path)
    _make_files(tmp_path)
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['msgsess', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('msgsess', run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print('CLICK' if 'click' in sys.modules else 'NO-CLICK', file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    for args in (
        ["dump", "a.msg"],
        ["check", "a.msg", "note.txt"],
        ["add", "s", "o/p{}.msg", "--subject", "p"],
    ):
        runs = []
        for n, env in enumerate(({"MSGSESS_NO_FAST": "1"}, {})):
            done = subprocess.run(
                [sys.executable, "-c", probe, *(a.format(n) for a in args)],
                cwd=tmp_path,
                capture_output=True,
                env={**os.environ, **TEST_ENV, **env},
                timeout=120,
            )
            *lines, marker = done.stderr.decode().splitlines()
            runs.append((done.returncode, done.stdout, lines, marker))
        assert runs[0][3] == "CLICK" and runs[1][3] == "NO-CLICK", args
        if args[0] == "add":  # two messages: m2 and m3
            assert (runs[0][:3], runs[1][:3]) == ((0, b"m2\n", []), (0, b"m3\n", []))
        else:
            assert runs[1][:3] == runs[0][:3], args


def test_output_lines_are_click_echo_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """ANSI escapes in a line to a pipe: stripped as click.echo strips them."""
    from msgsess.cli.output import echo

    buf = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", buf)
    echo("a\x1b[31mred\x1b[0m")
    echo("plain ☃")
    buf.seek(0)
    assert buf.read() == "ared\nplain ☃\n"
