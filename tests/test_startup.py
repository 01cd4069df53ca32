"""Start-up (issue 11): a command imports what it needs, never the heavy parts it does not.

Checked by the modules a real ``python -m msgsess`` process holds once the command is done, not
by timing it (the ratios to ``python -c pass`` are measured by ``benchmarks/bench_e2e.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_PROBE = """
import runpy, sys
print("BEFORE", *sorted(sys.modules), file=sys.stderr)
sys.argv = ["msgsess", *sys.argv[1:]]
try:
    runpy.run_module("msgsess", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("MODULES", code, *sorted(sys.modules), file=sys.stderr)
"""

#: Never on these paths: click (cli/fast.py reads their options), readers and parsers of other
#: formats, rich (terminal output only).
NEVER = {
    "click", "extract_msg", "rich", "bs4", "lark", "compressed_rtf", "RTFDE", "icalendar", "vobject",
    "dateutil", "email", "msgsess.mime", "msgsess.items", "msgsess.convert",
    "msgsess.oxmsg.encoder", "msgsess.oxmsg.rtf", "msgsess.oxmsg.html", "tempfile",
}  # fmt: skip
#: ``add`` checks a spec and stores it: no compound file, no property tables, no MIME types.
ADD = NEVER | {
    "olefile", "msgsess.cfb", "msgsess.cfbwriter", "msgsess.oxmsg.decoder", "msgsess.props.registry",
    "msgsess.props.values", "msgsess.dump", "mimetypes", "secrets", "random", "shutil", "decimal",
}  # fmt: skip
#: ``dump`` and ``check`` read a file: nothing of the session (msgsess.msgfile reads it), no
#: SQLite, no composer; our own compound-file reader (msgsess.cfbreader), so neither olefile
#: (nor the logging it loads) nor the writing side (msgsess.cfb, msgsess.cfbwriter).
READ = NEVER | {
    "sqlite3", "msgsess.session", "msgsess.composer", "mimetypes", "secrets", "shutil", "fractions",
    "hashlib", "olefile", "logging", "msgsess.cfb", "msgsess.cfbwriter",
}  # fmt: skip


#: What ``add`` of a plain mail never imports either (issue 11: add within 4x ``python -c pass``):
#: the standard library's costly modules (dataclasses with inspect and ast, typing, pathlib with
#: urllib.parse, uuid with platform; records are plain classes, paths text, types checked by
#: mypy only) and the parts of msgsess that need them (property model, codec, result records).
LEAN = {
    "dataclasses", "inspect", "ast", "typing", "pathlib", "urllib", "uuid", "platform", "base64",
    "copy", "msgsess.props", "msgsess.oxmsg", "msgsess.msgfile", "msgsess.model", "msgsess.storage",
    "msgsess.spectypes", "msgsess.results", "msgsess.composer",
}  # fmt: skip


def modules(cwd: Path, *args: str) -> set[str]:
    return probe(cwd, *args)[1]


def probe(cwd: Path, *args: str) -> tuple[set[str], set[str]]:
    """The modules loaded before the command started (the interpreter's, an editable install's
    import hook's) and those loaded once it is done."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    lines = done.stderr.splitlines()
    before = lines[0].split()
    line = lines[-1].split()
    assert before[:1] == ["BEFORE"], done.stderr[-800:]
    assert line[:2] == ["MODULES", "0"], done.stderr[-800:]
    return set(before[1:]), set(line[2:])


def heavy(loaded: set[str], forbidden: set[str]) -> list[str]:
    """The forbidden modules loaded, packages with their submodules."""
    return sorted(m for m in loaded if m in forbidden or m.split(".")[0] in forbidden)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("startup")
    for args in (["open", "s"], ["add", "-q", "s", "w1.msg", "--subject", "Hi", "--body", "Hello"],
                 ["close", "s"], ["open", "s"]):  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "msgsess", *args], cwd=folder, capture_output=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
    return folder


def test_add_imports_no_codec_no_writer_and_no_rich(made: Path) -> None:
    flags = ["--subject", "Hi", "--from", "Ann <ann@example.com>", "--to", "Bob <bob@example.com>"]
    loaded = modules(made, "add", "-q", "s", "a.msg", *flags, "--body", "Hello")
    assert heavy(loaded, ADD) == []
    assert {"sqlite3", "msgsess.session.store"} <= loaded  # what it needs


@pytest.mark.parametrize("command", ["dump", "check"])
def test_dump_and_check_import_no_session_and_no_composer(made: Path, command: str) -> None:
    loaded = modules(made, command, "w1.msg")
    assert heavy(loaded, READ | {"msgsess.spec"}) == []  # dump of a mail: no item, no spec
    assert "msgsess.cfbreader" in loaded  # the reader


def test_edit_imports_no_encoder_and_no_rich(made: Path) -> None:
    loaded = modules(made, "edit", "s", "w1.msg", "--out", "e.msg")
    assert heavy(loaded, NEVER | {"mimetypes", "shutil"}) == []


def test_open_imports_no_click_no_codec_and_no_tempfile(made: Path) -> None:
    loaded = modules(made, "open", "o.session")
    assert heavy(loaded, ADD | {"msgsess.composer", "msgsess.model"}) == []


def test_add_of_a_plain_mail_imports_no_composer(made: Path) -> None:
    # A plain new mail is checked field by field (session.usecases.surely_composable), from
    # flags or JSON; one that needs composing (a property to parse) still loads the composer.
    flags = ["--subject", "Hi", "--from", "Ann <ann@example.com>", "--to", "Bob <bob@example.com>"]
    (made / "plain.jsonl").write_text('{"output": "j.msg", "subject": "Hi", "to": ["b@example.com"]}\n')
    for args in (["p.msg", *flags, "--importance", "high"], ["--json", "plain.jsonl"]):
        loaded = modules(made, "add", "-q", "s", *args)
        assert heavy(loaded, ADD | {"msgsess.composer", "msgsess.model"}) == [], args
    loaded = modules(made, "add", "-q", "s", "q.msg", *flags, "--set", "PidTagSensitivity=2")
    assert "msgsess.composer" in loaded


def test_add_of_a_plain_mail_imports_only_what_it_needs(made: Path) -> None:
    # Anything loaded before msgsess ran (an editable install's hook loads pathlib) is not its.
    flags = ["--subject", "Hi", "--from", "Ann <ann@example.com>", "--to", "Bob <bob@example.com>"]
    for args in (["lean.msg", *flags, "--body", "Hello", "--category", "x"], ["--json", "plain.jsonl"]):
        if args[0] == "--json":
            (made / "plain.jsonl").write_text(
                '{"output": "lean-j.msg", "subject": "Hi", "to": ["b@example.com"]}\n'
            )
        before, loaded = probe(made, "add", "-q", "s", *args)
        assert heavy(loaded - before, LEAN) == [], args


#: What ``dump``, ``check`` and ``edit`` of a file never import (issue 11: within 6x ``python -c
#: pass``): dataclasses (with inspect and ast), pathlib (with urllib.parse), olefile and its
#: logging, typing; the model, the tree and the records are plain classes (msgsess.records), the
#: reader our own (msgsess.cfbreader). ``dump`` and ``check`` no decimal, base64 or json either
#: (the value syntax imports them where used), ``check`` no property tables or value syntax.
READ_LEAN = {
    "dataclasses", "inspect", "ast", "typing", "pathlib", "urllib", "copy", "olefile", "logging", "threading",
}  # fmt: skip


@pytest.mark.parametrize("command", ["dump", "check", "edit"])
def test_reading_a_file_imports_only_what_it_needs(made: Path, command: str) -> None:
    args = ["s", "w1.msg", "--out", "lean-e.msg"] if command == "edit" else ["w1.msg"]
    before, loaded = probe(made, command, *args)
    lean = set(READ_LEAN)
    if command != "edit":  # edit stores a spec in the session: JSON
        lean |= {"decimal", "base64", "json"}
    if command == "check":
        lean |= {"msgsess.props.values", "msgsess.props.registry"}
    assert heavy(loaded - before, lean) == []
