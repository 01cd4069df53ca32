"""add --replace, rm (remove), output and add's warnings on the command line (issue 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import extract_msg
import pytest
from click.testing import Result

from tests.conftest import ok, one_error

Invoke = Callable[..., Result]
Run = Callable[..., Any]


@pytest.fixture
def s(invoke: Invoke) -> str:
    ok(invoke("open", "s"))
    return "s"


def test_add_replace_by_output_and_by_id(invoke: Invoke, s: str, workdir: Path) -> None:
    assert ok(invoke("add", s, "out/a.msg", "--subject", "one")) == "m1\n"
    one_error(
        invoke("add", s, "out/a.msg", "--subject", "two"), 10, "already the output of message m1", "--replace"
    )
    assert (
        ok(invoke("add", "--replace", s, "out/a.msg", "--subject", "two", "--to", "b@example.com")) == "m1\n"
    )
    assert ok(invoke("add", s, "--replace", "out/b.msg", "--id", "b", "--subject", "b1")) == "b\n"
    assert ok(invoke("add", s, "out/b2.msg", "--id", "b", "--subject", "b2", "--replace")) == "b\n"
    shown = [json.loads(line) for line in ok(invoke("show", s, "--json")).splitlines()]
    assert [(m["id"], m["output"], m["subject"]) for m in shown] == [
        ("m1", str(workdir / "out/a.msg"), "two"),
        ("b", str(workdir / "out/b2.msg"), "b2"),
    ]
    ok(invoke("close", s))
    with extract_msg.openMsg(str(workdir / "out/a.msg")) as msg:
        assert msg.subject == "two" and [r.email for r in msg.recipients] == ["b@example.com"]
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["a.msg", "b2.msg"]


def test_add_json_replace_flag_and_key(invoke: Invoke, s: str) -> None:
    lines = "\n".join(json.dumps({"id": f"r{i}", "output": f"r{i}.msg", "subject": "v1"}) for i in range(3))
    assert ok(invoke("add", s, "--json", "-", input=lines)) == "r0\nr1\nr2\n"
    one_error(
        invoke("add", s, "--json", "-", input=lines),
        10,
        "already the output of message r0",
        "--replace",
        "msgsess rm s r0",
    )
    again = lines.replace("v1", "v2")
    assert ok(invoke("add", s, "--json", "-", "--replace", input=again)) == "r0\nr1\nr2\n"
    one = json.dumps({"id": "r1", "output": "r1.msg", "subject": "v3", "replace": True})
    assert ok(invoke("add", s, "--json", "-", input=one)) == "r1\n"
    subjects = [json.loads(line)["subject"] for line in ok(invoke("show", s, "--json")).splitlines()]
    assert subjects == ["v2", "v3", "v2"]


def test_rm_and_its_alias(invoke: Invoke, s: str) -> None:
    for name in ("a", "b", "c", "d"):
        ok(invoke("add", s, f"{name}.msg", "--id", name))
    assert ok(invoke("rm", s, "b")) == ""
    assert ok(invoke("remove", s, "c", "a")) == ""
    assert ok(invoke("show", s, "--json")).count('"id"') == 1
    one_error(invoke("rm", s, "zz"), 4, "no message with id 'zz'")
    one_error(invoke("rm", s), 2, "Missing argument")
    one_error(invoke("remove", s, "--bogus"), 2, "msgsess remove --help")


def test_rm_refuses_an_embedded_message_and_force_detaches_it(invoke: Invoke, s: str, workdir: Path) -> None:
    ok(invoke("add", s, "--id", "inner", "--subject", "inner", "-q"))
    ok(invoke("add", s, "outer.msg", "--id", "outer", "--subject", "outer"))
    assert ok(invoke("attach", s, "outer", "--message", "inner")) == "0\n"
    line = one_error(invoke("rm", s, "inner"), 3, "message inner is embedded in message outer", "--force")
    assert "msgsess rm s outer inner" in line
    done = invoke("rm", "--force", s, "inner")
    assert done.exit_code == 0
    assert done.stderr == "msgsess: warning: outer: attachment 0 (embedded message inner) removed\n"
    ok(invoke("close", s))
    with extract_msg.openMsg(str(workdir / "outer.msg")) as msg:
        assert msg.subject == "outer" and list(msg.attachments) == []


def test_output_prints_changes_and_clears(invoke: Invoke, s: str, workdir: Path) -> None:
    ok(invoke("add", s, "a.msg", "--id", "a"))
    ok(invoke("add", s, "--id", "b", "-q"))
    assert ok(invoke("output", s, "a")) == f"{workdir / 'a.msg'}\n"
    assert ok(invoke("output", s, "b")) == ""
    assert ok(invoke("output", s, "b", "out/b.msg")) == ""
    assert ok(invoke("output", s, "b")) == f"{workdir / 'out/b.msg'}\n"
    one_error(invoke("output", s, "b", "a.msg"), 10, "already the output of message a", "msgsess rm s a")
    one_error(invoke("output", s, "b", "x.msg", "--none"), 2, "PATH or --none")
    one_error(invoke("output", s, "nope"), 4, "no message with id 'nope'")
    cleared = invoke("output", s, "a", "--none")
    assert cleared.exit_code == 0 and "a has no output" in cleared.stderr
    assert invoke("output", s, "a", "--none", "--quiet").stderr == ""
    line = one_error(invoke("close", s), 3, "message a has no output")
    assert "msgsess output s a PATH" in line and "msgsess rm s a" in line
    warned = invoke("output", s, "a", "a.txt")
    assert warned.exit_code == 0 and "a: output a.txt does not end in .msg or .oft" in warned.stderr
    ok(invoke("close", s))
    assert sorted(p.name for p in workdir.iterdir()) == ["a.txt", "out"]


def test_add_warnings_go_to_stderr_and_quiet_drops_them(invoke: Invoke, s: str, workdir: Path) -> None:
    loose = invoke("add", s, "--subject", "Hello", "world")  # an unquoted subject
    assert loose.exit_code == 0 and loose.stdout == "m1\n"
    assert loose.stderr == (
        "msgsess: warning: m1: output world does not end in .msg or .oft (was it a word of an unquoted "
        "text? `msgsess output s m1 PATH` changes it)\n"
    )
    bare = invoke("add", s, "--subject", "Hello")
    assert bare.exit_code == 0 and bare.stdout == "m2\n"
    assert bare.stderr.startswith("msgsess: warning: m2 has no output and no message embeds it")
    assert "`msgsess output s m2 PATH`" in bare.stderr
    assert invoke("add", s, "--subject", "x", "--quiet").stderr == ""
    assert invoke("add", s, "-q", "out/h").stderr == ""
    assert invoke("add", s, "ok.MSG").stderr == ""
    json_in = '{"output": "x.txt"}\n{"subject": "no output"}\n'
    assert invoke("add", s, "--json", "-", "--quiet", input=json_in).stderr == ""
    assert (
        len(invoke("add", s, "--json", "-", input=json_in.replace("x.txt", "y.txt")).stderr.splitlines()) == 2
    )


def test_ids_complete_for_rm_and_output(invoke: Invoke, s: str, workdir: Path) -> None:
    ok(invoke("add", s, "r.msg", "--id", "report"))
    ok(invoke("add", s, "q.msg", "--id", "reply"))

    def complete(words: str) -> list[str]:
        env = dict(os.environ, COMP_WORDS=words, COMP_CWORD=str(len(words.split()) - 1))
        env["_MSGSESS_COMPLETE"] = "bash_complete"
        proc = subprocess.run(
            [sys.executable, "-m", "msgsess"],
            capture_output=True,
            text=True,
            env=env,
            cwd=workdir,
            timeout=300,
        )
        return [line.split(",", 1)[1] for line in proc.stdout.splitlines()]

    assert complete("msgsess rm s rep") == ["report", "reply"]
    assert complete("msgsess rm s report rep") == ["report", "reply"]
    assert complete("msgsess remove s rep") == ["report", "reply"]
    assert complete("msgsess output s rep") == ["report", "reply"]
    assert complete("msgsess o") == ["open", "output"]
    assert complete("msgsess add s --repl") == ["--reply-to", "--replace"]
    assert complete("msgsess rm s --f") == ["--force"]


def test_rm_and_output_through_a_real_process(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    assert run("add", "s", "a.msg", "--subject", "a").stdout == "m1\n"
    assert run("add", "s", "b.msg", "--subject", "b").stdout == "m2\n"
    assert run("rm", "s", "m1").returncode == 0
    assert run("output", "s", "m2").stdout == f"{workdir / 'b.msg'}\n"
    assert run("output", "s", "m2", "a.msg").returncode == 0
    done = run("close", "s")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["a.msg"]
    with extract_msg.openMsg(str(workdir / "a.msg")) as msg:
        assert msg.subject == "b"
