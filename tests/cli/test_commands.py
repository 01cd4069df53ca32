"""The commands through click and through real processes: help, scenarios, concurrency, kills."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import extract_msg
import pytest
from click.testing import Result

from msgsess.cli.main import COMMANDS, SHORT_HELP
from tests.conftest import slow_session

Invoke = Callable[..., Result]
Run = Callable[..., Any]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help_and_an_example(invoke: Invoke, name: str) -> None:
    result = invoke(name, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout and f"msgsess {name} " in result.stdout
    assert name in SHORT_HELP


def test_top_level_help_lists_commands_without_importing_them(run: Run) -> None:
    code = "import sys; from msgsess.cli.main import main; sys.argv=['msgsess','--help']\ntry: main()\n"
    code += (
        "except SystemExit: pass\nprint(sorted(m for m in sys.modules if m.startswith('msgsess.cli.cmd')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert proc.stdout.strip().endswith("[]")
    assert all(name in proc.stdout for name in COMMANDS)


def test_add_imports_neither_rich_nor_readers_nor_tables(workdir: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from msgsess.cli.main import cli
        cli(["open", "s"], standalone_mode=False)
        cli(["add", "s", "a.msg", "--subject", "hi", "--to", "Bob <bob@example.com>"], standalone_mode=False)
        heavy = [m for m in ("rich", "extract_msg", "olefile", "msgsess.props.registry", "msgsess.cfb")
                 if m in sys.modules]
        print(heavy)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=workdir, check=True, timeout=300
    )
    assert proc.stdout.strip().endswith("[]")


def test_completion_scripts_are_current() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "completions" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout


def complete(workdir: Path, words: str) -> list[str]:
    env = dict(os.environ, COMP_WORDS=words, COMP_CWORD=str(len(words.split()) - 1))
    env["_MSGSESS_COMPLETE"] = "bash_complete"
    proc = subprocess.run(
        [sys.executable, "-m", "msgsess"],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
        check=False,
        timeout=300,
    )
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines()]


def test_completion_of_commands_ids_and_property_names(invoke: Invoke, workdir: Path) -> None:
    invoke("open", "s")
    invoke("add", "s", "--id", "report")
    invoke("add", "s", "--id", "reply")
    assert complete(workdir, "msgsess rec") == ["recipient"]
    assert complete(workdir, "msgsess re") == ["recipient", "remove"]
    assert complete(workdir, "msgsess set s rep") == ["report", "reply"]
    assert "PidTagImportance" in complete(workdir, "msgsess set s report PidTagImpo")
    assert complete(workdir, "msgsess close s --un") == ["--unicode"]


def test_flags_become_a_spec_and_show_prints_it(invoke: Invoke, workdir: Path) -> None:
    (workdir / "body.txt").write_text("Body from a file\n")
    (workdir / "logo.png").write_bytes(b"\x89PNG fake")
    invoke("open", "s")
    result = invoke(
        "add", "s", "out/a.msg", "--subject", "Hi", "--from", "Ann <ann@example.com>",
        "--to", "bob@example.com", "--cc", "Carol <carol@example.com>", "--body-file", "body.txt",
        "--sent", "--date", "2024-05-01T09:30:00+02:00", "--importance", "high", "--category", "Blue",
        "--header", "X-Tracking: 42", "--attach", "logo.png", "--set", "PidTagSensitivity=2",
    )  # fmt: skip
    assert (result.exit_code, result.stdout) == (0, "m1\n")
    assert (
        invoke("attach", "s", "m1", "logo.png", "--name", "inline.png", "--content-id", "logo").stdout
        == "1\n"
    )
    assert invoke("recipient", "s", "m1", "--bcc", "dan@example.com").stdout == "2\n"
    spec = json.loads(invoke("show", "s", "m1", "--json").stdout)
    assert spec["draft"] is False and spec["body"] == "Body from a file\n"
    assert spec["attachments"][1] == {"data": "iVBORyBmYWtl", "name": "inline.png", "content_id": "logo"}
    assert spec["properties"] == {"PidTagSensitivity": 2}
    text = invoke("show", "s").stdout
    assert text.splitlines()[0] == "s: 1 message, Unicode"
    assert "  m1 → " in text and "bcc #2: dan@example.com" in text and "1: inline.png (9 bytes)" in text


def test_show_json_rebuilds_an_identical_session(run: Run, workdir: Path) -> None:
    (workdir / "a.bin").write_bytes(bytes(range(256)))
    assert run("open", "one").returncode == 0
    run("add", "one", "a.msg", "--subject", "A", "--to", "x@example.com", "--attach", "a.bin")
    run("add", "one", "--id", "emb", "--subject", "Embedded", "--html", "<p>hi</p>")
    run("attach", "one", "m1", "--message", "emb")
    run("set", "one", "m1", "PS_PUBLIC_STRINGS:Project", "Apollo")
    run("set", "one", "m1", "PidTagAttachContentId", "c1", "--attachment", "0")
    run("unset", "one", "m1", "PidTagSensitivity")
    dump = run("show", "one", "--json").stdout
    assert run("open", "two").returncode == 0
    added = run("add", "two", "--json", "-", input=dump)
    assert added.stdout.split() == ["m1", "emb"], added.stderr
    assert run("show", "two", "--json").stdout == dump
    # Both sessions write the same bytes.
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    run("close", "one", env=env)
    first = (workdir / "a.msg").read_bytes()
    assert run("close", "two", env=env).returncode == 0
    assert (workdir / "a.msg").read_bytes() == first


MAKEFILE = """\
SESSION := build/mail.session
MSGSESS := {msgsess}
NAMES := alpha beta gamma delta epsilon zeta

all: build/.closed

$(SESSION):
\tmkdir -p build && $(MSGSESS) open $@

build/%.id: data/%.txt | $(SESSION)
\t$(MSGSESS) add $(SESSION) out/$*.msg --subject "Report $*" --from 'Ann <ann@example.com>' \\
\t    --to "$*@example.com" --body-file $< --attach $< > $@

build/.closed: $(NAMES:%=build/%.id)
\t$(MSGSESS) close $(SESSION) && touch $@
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_makefile_scenario_with_make_j(workdir: Path) -> None:
    names = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    (workdir / "data").mkdir()
    for name in names:
        (workdir / "data" / f"{name}.txt").write_text(f"numbers for {name}\n")
    (workdir / "Makefile").write_text(MAKEFILE.format(msgsess=f"{sys.executable} -m msgsess"))
    proc = subprocess.run(["make", "-j6"], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not (workdir / "build" / "mail.session").exists()
    ids = sorted((workdir / "build" / f"{n}.id").read_text().strip() for n in names)
    assert ids == sorted(f"m{i}" for i in range(1, 7))
    for name in names:
        with extract_msg.openMsg(str(workdir / "out" / f"{name}.msg")) as msg:
            assert msg.subject == f"Report {name}"
            assert [r.email for r in msg.recipients] == [f"{name}@example.com"]
            assert msg.attachments[0].data == f"numbers for {name}\n".encode()


ADDER = """
import sys
from msgsess.cli.main import cli
worker = sys.argv[1]
for i in range(50):
    try:
        cli(["add", "s", f"out/{worker}-{i}.msg", "--id", f"w{worker}-{i}", "--subject", f"{worker}/{i}",
             "--to", "bob@example.com"], standalone_mode=True)
    except SystemExit as exc:
        if exc.code:
            raise
"""


def test_eight_processes_add_fifty_messages_each(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    procs = [
        subprocess.Popen([sys.executable, "-c", ADDER, str(w)], cwd=workdir, stdout=subprocess.DEVNULL)
        for w in range(8)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    ids = {json.loads(line)["id"] for line in run("show", "s", "--json").stdout.splitlines()}
    assert ids == {f"w{w}-{i}" for w in range(8) for i in range(50)}
    assert run("close", "s").returncode == 0
    assert len(list((workdir / "out").iterdir())) == 400
    with extract_msg.openMsg(str(workdir / "out" / "7-49.msg")) as msg:
        assert msg.subject == "7/49"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_close_killed_halfway_writes_nothing(run: Run, workdir: Path, sig: signal.Signals) -> None:
    # Messages with many attachments take a while each to encode, so the close is
    # still writing temporary files, far from its final renames, when it is killed.
    before = slow_session(run, workdir, 40)
    proc = subprocess.Popen([sys.executable, "-m", "msgsess", "close", "s"], cwd=workdir)
    deadline = time.monotonic() + 60
    while not any((workdir / "out").glob(".*.tmp")) if (workdir / "out").exists() else True:
        assert time.monotonic() < deadline and proc.poll() is None, "close finished before it was killed"
        time.sleep(0.01)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    left = [p.name for p in (workdir / "out").iterdir()] if (workdir / "out").exists() else []
    assert [name for name in left if not name.startswith(".")] == []  # no output, complete or partial
    if sig != signal.SIGKILL:  # a terminated close cleans up its temporary files and folders
        # SIGHUP (the terminal closed) like SIGTERM; Ctrl-C is "interrupted", 130.
        assert proc.returncode == 128 + sig
        assert left == []
    assert run("show", "s", "--json").stdout == before


def test_close_with_fsync_writes_every_output(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    for name in ("a", "b"):
        assert invoke("add", "s", f"out/{name}.msg", "--subject", f"durable {name}").exit_code == 0
    result = invoke("close", "s", "--fsync")
    assert result.exit_code == 0, result.stderr
    for name in ("a", "b"):
        with extract_msg.openMsg(str(workdir / "out" / f"{name}.msg")) as msg:
            assert msg.subject == f"durable {name}"
    assert not (workdir / "s").exists()


def test_set_takes_negative_values_without_a_double_dash(run: Run, invoke: Invoke, workdir: Path) -> None:
    (workdir / "a.txt").write_text("a")
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--to", "bob@example.com", "--attach", "a.txt").exit_code == 0
    for args in (
        ["PidTagPriority", "-1"],
        ["0x66010002", "-5"],
        ["0x66040005", "-inf"],
        ["--type", "PT_DOUBLE", "0x6605", "-1.5e3"],  # options before, between and after
        ["0x6606", "--type=PT_LONG", "-0x10"],
        ["0x6607", "-.5", "--type", "PT_DOUBLE"],
    ):
        result = invoke("set", "s", "m1", *args)
        assert result.exit_code == 0, (args, result.stderr)
    assert invoke("set", "s", "--recipient", "0", "m1", "0x66080003", "-2").exit_code == 0
    assert invoke("set", "s", "m1", "0x66090003", "-3", "--attachment", "0").exit_code == 0
    # In a real process too; a value that starts with '-' and is no number still needs '--'.
    assert run("set", "s", "m1", "PidTagImportance", "-0").returncode == 0
    assert run("set", "s", "m1", "PidTagSubject", "--", "-draft-").returncode == 0
    bad = run("set", "s", "m1", "PidTagSubject", "-draft-")
    assert bad.returncode == 2 and bad.stderr == (
        "msgsess: error: No such option '-d' (see 'msgsess set --help')\n"
    )
    typo = invoke("set", "s", "m1", "PidTagPriority", "-1", "--recipeint", "0")
    assert typo.exit_code == 2 and "No such option '--recipeint'" in typo.stderr

    assert invoke("close", "s").exit_code == 0
    dump = json.loads(invoke("dump", "a.msg", "--json").stdout)
    props = {p["tag"]: p["value"] for p in dump["properties"]}
    assert props["0x00260003"] == -1
    assert props["0x66010002"] == -5
    assert props["0x66040005"] == "-Infinity"
    assert props["0x66050005"] == -1500.0
    assert props["0x66060003"] == -16
    assert props["0x66070005"] == -0.5
    assert props["0x00170003"] == 0
    assert props["0x0037001F"] == "-draft-"
    assert {p["tag"]: p["value"] for p in dump["recipients"][0]["properties"]}["0x66080003"] == -2
    assert {p["tag"]: p["value"] for p in dump["attachments"][0]["properties"]}["0x66090003"] == -3


@pytest.mark.parametrize("command", ["attach", "add", "edit"])
def test_input_files_are_read_before_the_session_is_locked(
    run: Run, invoke: Invoke, workdir: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """While a command reads its input file, another command can change the session.

    Inputs are regular files only (a FIFO is refused), so the read is made slow from inside:
    while the file is being read, a real second process changes the session with a short lock
    timeout, which it could not if the reading command held the lock.
    """
    from msgsess import inputs

    assert run("open", "s").returncode == 0
    assert run("add", "s", "first.msg", "--subject", "first").returncode == 0
    payload = b"attachment bytes"
    if command == "edit":
        assert run("open", "t").returncode == 0
        assert run("add", "t", "src.msg", "--subject", "the source").returncode == 0
        assert run("close", "t").returncode == 0
        payload = (workdir / "src.msg").read_bytes()
    (workdir / "slow").write_bytes(payload)
    others: list[Any] = []
    real_read_all = inputs._read_all

    def slow_read_all(stream: Any, first: int, limit: int) -> bytes | None:
        # The command is reading its file now; another command changes the session meanwhile.
        others.append(run("set", "s", "m1", "PidTagImportance", "2", env={"MSGSESS_LOCK_TIMEOUT": "2"}))
        return real_read_all(stream, first, limit)

    monkeypatch.setattr(inputs, "_read_all", slow_read_all)
    args = {
        "attach": ["attach", "s", "m1", "slow", "--name", "a.txt"],
        "add": ["add", "s", "b.msg", "--attach", "slow"],
        "edit": ["edit", "s", "slow", "--out", "e.msg"],
    }[command]
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    assert len(others) == 1 and others[0].returncode == 0, others[0].stderr
    specs = [json.loads(line) for line in run("show", "s", "--json").stdout.splitlines()]
    assert specs[0]["properties"] == {"PidTagImportance": 2}
    if command == "edit":
        assert result.stdout == "m2\n" and base64.b64decode(specs[1]["source"]["data"]) == payload
    else:
        added = specs[0] if command == "attach" else specs[1]
        assert base64.b64decode(added["attachments"][0]["data"]) == payload


def test_show_json_into_a_slow_pipe_keeps_no_writer_waiting(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    (workdir / "big.bin").write_bytes(os.urandom(64 << 10))
    lines = [
        {"output": f"{i}.msg", "attachments": [{"file": "big.bin", "name": f"{i}.bin"}]} for i in range(20)
    ]
    assert run("add", "s", "--json", "-", input="\n".join(json.dumps(x) for x in lines)).returncode == 0
    # Far more output than a pipe holds: the consumer reads one line, then stops reading.
    with subprocess.Popen(
        [sys.executable, "-m", "msgsess", "show", "s", "--json"], cwd=workdir, stdout=subprocess.PIPE
    ) as proc:
        try:
            assert proc.stdout is not None
            assert json.loads(proc.stdout.readline())["id"] == "m1"
            added = run("add", "s", "late.msg", "--subject", "late", env={"MSGSESS_LOCK_TIMEOUT": "2"})
            assert added.returncode == 0, added.stderr
            rest = proc.stdout.read()
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    assert len(rest.splitlines()) in (19, 20)  # the late message too if show had not read past it
