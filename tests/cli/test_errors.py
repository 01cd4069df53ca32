"""The error table: one line on stderr naming what is at fault, and the documented exit code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.conftest import one_error

Invoke = Callable[..., Result]
Run = Callable[..., Any]


@pytest.fixture
def s(invoke: Invoke, workdir: Path) -> str:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "x").stdout == "m1\n"
    return "s"


def test_missing_session(invoke: Invoke) -> None:
    one_error(
        invoke("add", "nope.session", "--subject", "x"), 5, "nope.session", "does not exist", "msgsess open"
    )


def test_not_a_session(invoke: Invoke, workdir: Path) -> None:
    (workdir / "notes.txt").write_text("just text\n" * 100)
    one_error(invoke("show", "notes.txt"), 5, "notes.txt", "not a msgsess session")


def test_session_exists(invoke: Invoke, s: str) -> None:
    one_error(invoke("open", s), 5, "already exists", "--force")


def test_unknown_message_id(invoke: Invoke, s: str) -> None:
    one_error(invoke("set", s, "m7", "PidTagImportance", "2"), 4, "'m7'")


def test_unknown_property(invoke: Invoke, s: str) -> None:
    line = one_error(invoke("set", s, "m1", "PidTagImportanse", "2"), 4, "message m1", "PidTagImportanse")
    assert "did you mean PidTagImportance" in line


def test_wrong_typed_value(invoke: Invoke, s: str) -> None:
    one_error(
        invoke("set", s, "m1", "PidTagImportance", "very"), 3, "message m1", "PidTagImportance", "'very'"
    )
    one_error(invoke("add", s, "--set", "PidTagHasAttachments=maybe"), 3, "PidTagHasAttachments", "'maybe'")


def test_missing_attachment_file(invoke: Invoke, s: str) -> None:
    one_error(invoke("attach", s, "m1", "report.pdf"), 4, "message m1", "report.pdf", "does not exist")
    one_error(invoke("add", s, "--attach", "gone.txt"), 4, "gone.txt")


def test_malformed_address(invoke: Invoke, s: str) -> None:
    one_error(invoke("add", s, "--to", "Bob <bob.example.com>"), 3, "to", "'Bob <bob.example.com>'", "e-mail")
    one_error(invoke("recipient", s, "m1", "--cc", "nobody"), 3, "message m1", "'nobody'")


def test_invalid_json_names_line_and_column(invoke: Invoke, s: str, workdir: Path) -> None:
    (workdir / "in.jsonl").write_text('{"subject": "a"}\n{"subject": "b",\n  "to": [}\n')
    one_error(invoke("add", s, "--json", "in.jsonl"), 8, "in.jsonl", "line 3, column 10")
    one_error(invoke("add", s, "--json", "-", input="[1, 2"), 8, "stdin", "line 1, column 6")


def test_json_breaking_the_schema_names_the_path(invoke: Invoke, s: str) -> None:
    text = "\n".join(json.dumps(x) for x in ({"subject": "ok"}, {"to": [{"address": "a@b.c", "props": {}}]}))
    one_error(invoke("add", s, "--json", "-", input=text), 3, "stdin line 2", "$.to[0]")
    # Nothing of the batch was added.
    assert invoke("show", s, "--json").stdout.count("\n") == 1


def test_embedding_cycle(invoke: Invoke, s: str) -> None:
    assert invoke("add", s, "--id", "inner").exit_code == 0
    assert invoke("attach", s, "m1", "--message", "inner").stdout == "0\n"
    one_error(invoke("attach", s, "inner", "--message", "m1"), 3, "cycle", "inner → m1 → inner")


def test_ansi_text_the_code_page_cannot_hold(invoke: Invoke, workdir: Path) -> None:
    invoke("open", "a", "--ansi")
    invoke("add", "a", "x.msg", "--subject", "日本語")
    one_error(invoke("close", "a"), 7, "message m1", "$.subject", "U+65E5", "code page 1252")
    assert (workdir / "a").exists() and not (workdir / "x.msg").exists()


def test_unwritable_output(invoke: Invoke, s: str, workdir: Path) -> None:
    (workdir / "file").write_text("x")
    invoke("add", s, "file/b.msg")
    one_error(invoke("close", s), 9, "b.msg")
    assert (workdir / s).exists() and not (workdir / "a.msg").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["add", "s", "--importance", "urgent"],
            ["Invalid value for '--importance': 'urgent' is not one of", "(see 'msgsess add --help')"],
        ),
        (["add", "s", "--bogus"], ["No such option '--bogus'", "(see 'msgsess add --help')"]),
        (["add"], ["Missing argument 'SESSION'", "(see 'msgsess add --help')"]),
        (["set", "s", "m1", "PidTagSubject"], ["Missing argument 'VALUE'", "(see 'msgsess set --help')"]),
        (
            ["add", "s", "--json", "f.json", "--subject", "x"],
            ["--json takes every message from the JSON; --subject cannot", "(see 'msgsess add --help')"],
        ),
        (
            ["add", "s", "--draft", "--sent"],
            ["give --draft or --sent, not both", "(see 'msgsess add --help')"],
        ),
        (["add", "s", "--sent", "--draft"], ["give --draft or --sent, not both"]),
        (
            ["recipient", "s", "m1", "x@example.com"],
            ["give --to, --cc or --bcc", "'msgsess recipient --help'"],
        ),
        (["recipient", "s", "m1", "--remove", "-1"], ["Invalid value for '--remove'"]),
        (["attach", "s", "m1"], ["exactly one", "(see 'msgsess attach --help')"]),
        (["show", "s", "m1", "extra"], ["unexpected extra argument (extra)", "'msgsess show --help'"]),
        (["--bogus"], ["No such option '--bogus'", "(see 'msgsess --help')"]),
        (["nope"], ["No such command 'nope'", "(see 'msgsess --help')"]),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    invoke: Invoke, s: str, args: list[str], words: list[str]
) -> None:
    result = invoke(*args)
    line = one_error(result, 2, *words)
    assert "Usage:" not in result.stderr and "Try " not in result.stderr
    assert not line.endswith(".)")
    # Nothing was added by the refused commands.
    assert invoke("show", s, "--json").stdout.count("\n") == 1


def test_usage_error_in_a_real_process(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    proc = run("add", "s", "--importance", "urgent")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        "msgsess: error: Invalid value for '--importance': 'urgent' is not one of 'low', 'normal', "
        "'high' (see 'msgsess add --help')\n"
    )


def test_help_still_works(invoke: Invoke) -> None:
    result = invoke("add", "--help")
    assert result.exit_code == 0 and "--draft" in result.stdout and "--sent" in result.stdout
    bare = invoke()
    assert "Commands:" in bare.output  # `msgsess` alone prints its help, as before


def test_draft_and_sent_each_alone(invoke: Invoke, s: str) -> None:
    assert invoke("add", s, "--id", "d", "--draft").exit_code == 0
    assert invoke("add", s, "--id", "p", "--sent").exit_code == 0
    specs = {x["id"]: x for x in map(json.loads, invoke("show", s, "--json").stdout.splitlines())}
    assert specs["d"]["draft"] is True and specs["p"]["draft"] is False and "draft" not in specs["m1"]
    one_error(invoke("add", s, "--json", "-", "--sent", input="{}"), 2, "--sent cannot be added")


def test_type_contradicting_the_tables_is_refused(invoke: Invoke, s: str) -> None:
    line = one_error(
        invoke("set", s, "m1", "PidTagSubject", "5", "--type", "PT_LONG"),
        3,
        "message m1: property PidTagSubject is PT_UNICODE; --type PT_LONG does not fit",
        "use a hex tag such as 0x00370003 to force another type",
    )
    assert line.endswith(")")
    one_error(
        invoke("set", s, "m1", "PidLidSmartNoAttach", "5", "--type", "PT_LONG"),
        3,
        "property PidLidSmartNoAttach is PT_BOOLEAN; --type PT_LONG does not fit",
        "PSETID_Common:0x8514",
    )
    before = invoke("show", s, "--json").stdout
    assert json.loads(before)["subject"] == "x"
    # String types are one model type; hex tags and SET:LID spellings take any type.
    assert invoke("set", s, "m1", "PidTagSubject", "y", "--type", "PT_STRING8").exit_code == 0
    assert invoke("set", s, "m1", "PidNameKeywords", '["a"]', "--type", "PT_MV_STRING8").exit_code == 0
    assert invoke("set", s, "m1", "0x00260014", "5").exit_code == 0
    assert invoke("set", s, "m1", "PSETID_Common:0x8514", "5", "--type", "PT_LONG").exit_code == 0
    spec = json.loads(invoke("show", s, "--json").stdout)
    assert spec["subject"] == "y"
    assert spec["properties"] == {
        "PidNameKeywords": ["a"],
        "0x00260014": 5,
        "PSETID_Common:0x8514": {"type": "PT_LONG", "value": 5},
    }


def test_unknown_property_set_is_not_found(invoke: Invoke, s: str) -> None:
    line = one_error(
        invoke("set", s, "m1", "PSETID_Bogus:0x8000", "1"),
        4,
        "message m1: property 'PSETID_Bogus:0x8000': unknown property set 'PSETID_Bogus'",
        "known sets: PS_MAPI, PS_PUBLIC_STRINGS",
        "{00062008-0000-0000-C000-000000000046}",
    )
    assert "PSETID_Common" in line
    one_error(invoke("add", s, "--set", "PSETID_Comon:0x8514=1"), 4, "did you mean PSETID_Common?")
    one_error(invoke("unset", s, "m1", "PSETID_Bogus:Name"), 4, "unknown property set 'PSETID_Bogus'")
    # Malformed syntax stays an invalid parameter.
    one_error(invoke("set", s, "m1", "{1234}:0x8000", "1"), 3, "malformed GUID '{1234}'")
    one_error(invoke("set", s, "m1", "PSETID_Common:0xZZ", "1"), 3, "malformed LID '0xZZ'")
    one_error(invoke("set", s, "m1", "0x12345", "1"), 3, "malformed property tag")


def _session(invoke: Invoke, s: str) -> str:
    result = invoke("show", s, "--json")
    assert result.exit_code == 0
    return result.stdout


def _files(workdir: Path, count: int) -> list[str]:
    for i in range(count):
        (workdir / f"{i}.txt").write_text(str(i))
    return [f"{i}.txt" for i in range(count)]


def _addresses(count: int, start: int = 0) -> list[str]:
    return [f"u{i}@example.com" for i in range(start, start + count)]


def test_more_than_2048_attachments_or_recipients_is_refused_at_the_command(
    invoke: Invoke, s: str, workdir: Path
) -> None:
    files = _files(workdir, 2047)
    assert invoke("attach", s, "m1", *files).stdout.splitlines()[-1] == "2046"
    before = _session(invoke, s)
    one_error(
        invoke("attach", s, "m1", "0.txt", "1.txt"),
        11,
        "message m1: 2049 attachments; MS-OXMSG allows at most 2048 per message",
        "it has 2047",
    )
    assert _session(invoke, s) == before
    assert invoke("attach", s, "m1", "0.txt").stdout == "2047\n"
    assert invoke("add", s, "--id", "inner").exit_code == 0
    one_error(
        invoke("attach", s, "m1", "--message", "inner"), 11, "message m1: 2049 attachments", "it has 2048"
    )

    assert invoke("recipient", s, "m1", "--to", *_addresses(2000)).stdout.splitlines()[-1] == "1999"
    assert invoke("recipient", s, "m1", "--bcc", *_addresses(48, 2000)).stdout.splitlines()[-1] == "2047"
    before = _session(invoke, s)
    one_error(
        invoke("recipient", s, "m1", "--cc", "one.more@example.com"),
        11,
        "message m1: 2049 recipients; MS-OXMSG allows at most 2048 per message",
        "it has 2048",
    )
    assert _session(invoke, s) == before
    # After removing one there is room for one.
    assert invoke("recipient", s, "m1", "--remove", "0").exit_code == 0
    assert invoke("recipient", s, "m1", "--cc", "one.more@example.com").stdout == "1999\n"

    # add (flags or JSON) is held to the same limit; nothing of the batch is added.
    count = len(_session(invoke, s).splitlines())
    attach_2049 = [a for f in [*files, "0.txt", "1.txt"] for a in ("--attach", f)]
    line = one_error(invoke("add", s, *attach_2049), 11, "msgsess: error: 2049 attachments")
    assert "m2" not in line  # the id an add that fails never gives is named nowhere
    spec = {"to": _addresses(2049)}
    one_error(invoke("add", s, "--json", "-", input=json.dumps(spec)), 11, "2049 recipients")
    assert len(_session(invoke, s).splitlines()) == count


def test_the_limit_counts_an_edited_files_own_rows(invoke: Invoke, s: str, workdir: Path) -> None:
    # A file at the limit: 2048 attachments and 2048 recipients.
    assert invoke("attach", s, "m1", *_files(workdir, 2048)).exit_code == 0
    assert invoke("recipient", s, "m1", "--to", *_addresses(2048)).exit_code == 0
    assert invoke("close", s).exit_code == 0
    assert invoke("open", "e").exit_code == 0
    assert invoke("edit", "e", "a.msg", "--out", "b.msg").stdout == "m1\n"
    before = _session(invoke, "e")
    one_error(invoke("attach", "e", "m1", "0.txt"), 11, "message m1: 2049 attachments", "it has 2048")
    one_error(invoke("recipient", "e", "m1", "--bcc", "x@example.com"), 11, "message m1: 2049 recipients")
    assert _session(invoke, "e") == before
    assert invoke("detach", "e", "m1", "5").exit_code == 0
    assert invoke("attach", "e", "m1", "0.txt").stdout == "2047\n"
    assert invoke("recipient", "e", "m1", "--remove", "7").exit_code == 0
    assert invoke("recipient", "e", "m1", "--bcc", "x@example.com").stdout == "2047\n"
    assert invoke("close", "e").exit_code == 0
    assert (workdir / "b.msg").exists()


def test_lock_timeout_is_session_busy(run: Run, workdir: Path) -> None:
    import sqlite3

    assert run("open", "s").returncode == 0
    holder = sqlite3.connect(workdir / "s", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        proc = run("add", "s", "--subject", "x", env={"MSGSESS_LOCK_TIMEOUT": "0.3"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 6
    assert proc.stderr.startswith("msgsess: error: session s is locked by another command")


def test_unexpected_errors_are_one_line_unless_debug(run: Run, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    # A damaged table: the spec column holds text that is not JSON.
    import sqlite3

    conn = sqlite3.connect(workdir / "s")
    conn.execute("INSERT INTO messages (id, output, spec) VALUES ('bad', NULL, 'not json')")
    conn.commit()
    conn.close()
    proc = run("show", "s")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "internal error" in proc.stderr and "--debug" in proc.stderr
    debug = run("--debug", "show", "s")
    assert debug.returncode == 1 and "Traceback" in debug.stderr


@pytest.mark.parametrize("codepage", ["1200", "1201", "12000", "12001", "65000", "500"])
def test_ansi_needs_an_8_bit_code_page(invoke: Invoke, workdir: Path, codepage: str) -> None:
    # UTF-16/UTF-32/UTF-7 (and EBCDIC, which does not write "A" as 0x41) cannot be PtypString8.
    line = one_error(
        invoke("open", "s", "--ansi", "--codepage", codepage), 3, f"code page {codepage}", "e.g. 1252"
    )
    assert "8-bit" in line or "ASCII" in line
    assert not (workdir / "s").exists()
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "x").exit_code == 0
    one_error(invoke("close", "s", "--ansi", "--codepage", codepage), 3, f"code page {codepage}")
    assert not (workdir / "a.msg").exists() and (workdir / "s").exists()


def test_ansi_with_utf8_is_allowed(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s", "--ansi", "--codepage", "65001").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "Grüße").exit_code == 0
    assert invoke("close", "s").exit_code == 0
    assert (workdir / "a.msg").exists()


def _a_msg_file(invoke: Invoke, workdir: Path) -> bytes:
    assert invoke("open", "src").exit_code == 0
    assert invoke("add", "src", "made.msg", "--subject", "x").exit_code == 0
    assert invoke("close", "src").exit_code == 0
    return (workdir / "made.msg").read_bytes()


def test_edit_of_a_file_whose_name_is_no_utf8_is_refused(invoke: Invoke, workdir: Path) -> None:
    import os

    data = _a_msg_file(invoke, workdir)
    (workdir / os.fsdecode(b"e\xff.msg")).write_bytes(data)
    assert invoke("open", "s").exit_code == 0
    name = os.fsdecode(b"e\xff.msg")
    one_error(invoke("edit", "s", name, "--out", "o.msg"), 3, "source.file", "surrogate")
    one_error(invoke("edit", "s", name), 3, "surrogate")
    assert invoke("show", "s", "--json").stdout == ""


@pytest.mark.parametrize("bad", ["x\u0000.msg", "x\ud800.msg"])
def test_add_json_source_file_text_is_checked(invoke: Invoke, workdir: Path, bad: str) -> None:
    import base64

    data = base64.b64encode(_a_msg_file(invoke, workdir)).decode("ascii")
    assert invoke("open", "s").exit_code == 0
    spec = json.dumps({"source": {"file": bad, "data": data}, "output": "o.msg"})
    one_error(invoke("add", "s", "--json", "-", input=spec), 3, "source.file")
    assert invoke("show", "s", "--json").stdout == ""


@pytest.mark.parametrize("codepage", ["50220", "50221", "50222", "50225", "50227", "50229", "52936"])
def test_stateful_code_pages_are_refused(invoke: Invoke, codepage: str) -> None:
    one_error(invoke("open", "s", "--ansi", "--codepage", codepage), 3, "stateful", "932", "949", "936")
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "日本").exit_code == 0
    one_error(invoke("close", "s", "--ansi", "--codepage", codepage), 3, "stateful")


def test_stateful_codecs_are_found_by_their_output() -> None:
    from msgsess.oxmsg.codepages import _STATE_SAMPLE

    # What the generic check looks for, for a codec reached under any number.
    assert any(b"\x1b" in s.encode("iso2022_jp") for s in _STATE_SAMPLE if s in "あ")
    assert any(b"~{" in s.encode("hz") for s in _STATE_SAMPLE if s == "中")


def test_a_failed_add_is_named_by_what_the_user_typed(invoke: Invoke, s: str, workdir: Path) -> None:
    # Issue 8: the OUTPUT (or --id) of the message being added, never an id assigned before the
    # add succeeded (m2 here would be another message's id later).
    line = one_error(invoke("add", s, "out/r07.msg", "--attach", "r07.bin"), 4, "does not exist")
    assert line == ("msgsess: error: out/r07.msg: attachment 0: file r07.bin does not exist (check the path)")
    line = one_error(invoke("add", s, "out/r07.msg", "--id", "r07", "--to", "bob"), 3)
    assert line.startswith("msgsess: error: message r07: --to: 'bob' is not an e-mail address")
    # --json: the input's line (JSON Lines) or index (an array), then the message as typed.
    lines = '{"output": "ok.msg"}\n{"output": "out/b.msg", "attachments": [{"file": "b.bin"}]}\n'
    line = one_error(invoke("add", s, "--json", "-", input=lines), 4)
    assert line.startswith("msgsess: error: stdin line 2: out/b.msg: attachment 0: file b.bin")
    (workdir / "in.json").write_text(json.dumps([{"id": "x1"}, {"id": "x2", "cc": ["nobody"]}]))
    line = one_error(invoke("add", s, "--json", "in.json"), 3)
    assert line.startswith("msgsess: error: in.json $[1]: message x2: cc: 'nobody' is not")
    assert invoke("show", s, "--json").stdout.count("\n") == 1  # nothing of a refused input is added


def test_codepage_without_ansi_is_a_usage_error(invoke: Invoke, workdir: Path) -> None:
    assert invoke("open", "s").exit_code == 0
    assert invoke("add", "s", "a.msg", "--subject", "Привет").exit_code == 0
    for args in (["close", "s", "--codepage", "1251"], ["close", "s", "--unicode", "--codepage", "1251"]):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert "--codepage needs --ansi" in one_error(result.stderr)
    assert not (workdir / "a.msg").exists() and (workdir / "s").exists()
    result = invoke("open", "t", "--codepage", "1251")
    assert result.exit_code == 2 and "--codepage needs --ansi" in one_error(result.stderr)
    assert not (workdir / "t").exists()
    result = invoke("close", "s", "--ansi", "--codepage", "1251")
    assert result.exit_code == 0, result.stderr
    assert (workdir / "a.msg").exists()
