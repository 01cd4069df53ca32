"""``msgsess dump`` and ``msgsess check``; damaged and hostile input from ``edit``, ``attach --msg``,
``dump`` and ``check`` through real processes; everything msgsess writes passes ``check``."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import extract_msg
import pytest
from click.testing import Result

from msgsess import cfb
from msgsess.oxmsg import layout
from tests.conftest import ok

pytestmark = pytest.mark.usefixtures("quiet_extract_msg")

Invoke = Callable[..., Result]
Run = Callable[..., Any]
ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus"
FILES = sorted(CORPUS.rglob("*.msg")) if CORPUS.is_dir() else []
needs_corpus = pytest.mark.skipif(not FILES, reason=f"no corpus at {CORPUS}")
MAX_SECONDS = 10.0

# The crafted trees of the library's hostile-input tests, reused as is.
_spec = importlib.util.spec_from_file_location("_hostile", ROOT / "tests" / "test_hostile.py")
assert _spec is not None and _spec.loader is not None
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)


# --------------------------------------------------------------------------- dump


@needs_corpus
def test_dump_json_has_every_property_of_every_level(invoke: Invoke) -> None:
    path = CORPUS / "msgreader" / "msgInMsgInMsg.msg"
    data = json.loads(ok(invoke("dump", str(path), "--json")))
    with extract_msg.Message(str(path)) as msg:

        def compare(level: dict[str, Any], obj: Any, depth: int) -> int:
            assert len(level["properties"]) == len(obj.props), depth
            names = {p["name"] for p in level["properties"]}
            assert "PidTagSubject" in names or depth > 0 or not obj.subject
            count = 1
            for entry, att in zip(level["attachments"], obj.attachments, strict=True):
                assert len(entry["properties"]) == len(att.props)
                if "embedded" in entry:
                    count += compare(entry["embedded"], att.data, depth + 1)
            return count

        assert compare(data, msg, 0) == 3  # the message and two levels of embedded ones
        subject = next(p for p in data["properties"] if p["name"] == "PidTagSubject")
        assert subject["value"] == msg.subject and subject["tag"] == "0x0037001F"
    named = [p for p in data["properties"] if "named" in p]
    assert named and all("set" in p["named"] for p in named)


@needs_corpus
def test_dump_plain_text_lists_each_property_once(invoke: Invoke) -> None:
    path = CORPUS / "msgreader" / "nonUnicodeCP932.msg"
    text = ok(invoke("dump", str(path)))
    lines = text.splitlines()
    assert lines[0] == f"{path} (ANSI, code page 932)"
    # The tag and type as the file stores them (issue 12): PT_STRING8 in an ANSI file.
    assert any(
        line.split()[:3] == ["PidTagSubject", "0x0037001E", "PT_STRING8"]
        and "日本語 Non Unicode タイトル" in line
        for line in lines
    )
    data = json.loads(ok(invoke("dump", str(path), "--json")))
    top = [line for line in lines[1:] if line.startswith("  ") and not line.startswith("   ")]
    assert len([line for line in top if not line.strip().startswith("recipient")]) == len(data["properties"])
    assert "  recipient 0" in lines


def test_dump_of_a_missing_file(invoke: Invoke) -> None:
    result = invoke("dump", "nothing.msg")
    assert (
        result.exit_code == 4
        and result.stderr == "msgsess: error: file nothing.msg does not exist (check the path)\n"
    )


# --------------------------------------------------------------------------- check


@needs_corpus
def test_the_corpus_checks_without_errors(run: Run) -> None:
    """Outlook's files have no errors; the one file another program wrote lacks the root CLSID."""
    outlook = [path for path in FILES if path.name != "charset.msg"]
    proc = run("check", "--quiet", *map(str, outlook))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (line,) = proc.stdout.splitlines()
    assert re.fullmatch(rf"{len(outlook)} files: 0 errors, \d+ warnings, \d+ notes", line), line
    assert proc.stderr == ""
    other = CORPUS / "email-outlook-message-perl" / "charset.msg"
    proc = run("check", "--quiet", str(other))
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0] == (
        f"{other}: error: (root): the root storage has no CLSID (all zero): Outlook imports the file as "
        "an attachment instead of opening it as a message; it should be "
        "{00020D0B-0000-0000-C000-000000000046} ([MS-CFB] 2.6.1; Outlook)"
    )
    proc = run("check", "--json", str(CORPUS / "msgreader" / "Subject.msg"))
    (result,) = json.loads(proc.stdout)
    assert result["readable"] and result["findings"]
    # Outlook's own quirks only: notes.
    assert {f["severity"] for f in result["findings"]} == {"note"}
    assert all(f["rule"].startswith(("[MS-OXMSG]", "[MS-OXOMSG]")) for f in result["findings"])


def test_check_reports_errors_with_exit_1(workdir: Path, invoke: Invoke) -> None:
    tree = hostile._embedded_chain(1)
    att = tree.entries[layout.attach_storage(0)]
    att.entries[layout.PROPERTIES] = bytes(8) + layout.VAR_ENTRY.pack(0x37050102, 6, 4, 0)
    att.entries["__substg1.0_37050102"] = b"\x05\0\0\0"
    (workdir / "bad.msg").write_bytes(cfb.to_bytes(tree))
    result = invoke("check", "bad.msg")
    assert result.exit_code == 1
    *lines, last = result.stdout.splitlines()
    assert lines and all(line.startswith("bad.msg: ") for line in lines)
    assert last == "1 file: 1 error, 0 warnings, 0 notes"
    assert any(
        line.startswith("bad.msg: error: __attach_version1.0_#00000000/") and "not 5 or 6" in line
        for line in lines
    )
    assert result.stderr == "msgsess: error: bad.msg: structure errors found (see the findings above)\n"


def test_check_sums_up_many_findings_of_one_rule(workdir: Path, invoke: Invoke) -> None:
    """100 missing value streams of one multi-valued property: 20 lines, then a count."""
    from msgsess.composer import compose
    from msgsess.oxmsg import encode

    tree = encode(
        compose({"subject": "x", "properties": {"PS_PUBLIC_STRINGS:Tags": [str(i) for i in range(100)]}})
    )
    for name in [n for n in tree.entries if n.startswith("__substg1.0_8000101F-")]:
        del tree.entries[name]
    (workdir / "many.msg").write_bytes(cfb.to_bytes(tree))
    short = invoke("check", "many.msg")
    assert short.exit_code == 1
    errors = [line for line in short.stdout.splitlines() if line.startswith("many.msg: error: ")]
    assert 20 < len(errors) < 30
    assert any("more like these" in line and "--all" in line for line in errors)
    full = invoke("check", "many.msg", "--all")
    assert len([line for line in full.stdout.splitlines() if ": error: " in line]) >= 100
    as_json = json.loads(invoke("check", "many.msg", "--json").stdout)
    assert len([f for f in as_json[0]["findings"] if f["severity"] == "error"]) >= 100


def test_check_separates_errors_warnings_and_notes(run: Run, workdir: Path) -> None:
    """Issue 12: errors and warnings by default, notes with --all, one line for the run."""
    from msgsess import oxmsg
    from msgsess.composer import compose
    from msgsess.props import types as t

    msg = compose({"subject": "field", "to": ["Bob <bob@example.com>"]})  # a draft
    msg.props.set(0x0039, t.PT_SYSTIME, t.FileTime(133_000_000_000_000_000))  # with a submit time
    del msg.recipients[0].props[0x39FE]
    msg.recipients[0].props.set(0x3002, t.PT_UNICODE, "EX")  # and no SMTP address
    tree = oxmsg.encode(msg)
    (workdir / "field.msg").write_bytes(cfb.to_bytes(tree))
    tree.clsid = bytes(16)
    (workdir / "zero.msg").write_bytes(cfb.to_bytes(tree))

    proc = run("check", "field.msg")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    *lines, last = proc.stdout.splitlines()
    assert [line.split(": ")[1] for line in lines] == ["warning", "warning"]
    assert "PidTagClientSubmitTime" in lines[0] and "without an SMTP address" in lines[1]
    assert re.fullmatch(r"1 file: 0 errors, 2 warnings, [1-9]\d* notes?", last), last
    every = run("check", "--all", "field.msg").stdout.splitlines()
    assert any(": note: " in line and "PidTagMessageDeliveryTime" in line for line in every)
    assert every[-1] == last
    quiet = run("check", "--quiet", "field.msg", "zero.msg")
    assert quiet.returncode == 1
    *lines, last = quiet.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("zero.msg: error: (root): the root storage has no CLSID")
    assert last.startswith("2 files: 1 error, 4 warnings, ")
    assert quiet.stderr == "msgsess: error: zero.msg: structure errors found (see the findings above)\n"
    as_json = json.loads(run("check", "--json", "field.msg").stdout)
    assert {f["severity"] for f in as_json[0]["findings"]} == {"warning", "note"}


def test_check_reads_the_compound_file_as_windows_would(run: Run, workdir: Path) -> None:
    """Issue 12: a sibling tree out of order and a DIFAT that does not end, through `check`."""
    from msgsess import oxmsg
    from msgsess.composer import compose

    msg = compose({"subject": "tree", "to": ["Bob <bob@example.com>"], "attachments": [{"data": "aGk="}]})
    msg.attachments[0].props.set(0x3701, 0x0102, bytes(range(256)) * 30_000)  # 7.3 MiB: a DIFAT sector
    data = bytearray(cfb.to_bytes(oxmsg.encode(msg)))
    doc = hostile._Cfb(bytes(data))
    for off, name, *_ in doc.entries():
        if name == "__substg1.0_0037001F":  # the subject's stream takes a name that sorts elsewhere
            doc.data[off : off + 40] = "__substg1.0_FFFF001F".encode("utf-16-le")
    difat = struct.unpack_from("<I", doc.data, 68)[0]
    struct.pack_into("<I", doc.data, (difat + 1) * 512 + 508, 0xFFFFFFFF)  # the DIFAT does not end
    (workdir / "tree.msg").write_bytes(bytes(doc.data))
    proc = run("check", "--quiet", "tree.msg")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert any("out of order" in line and "([MS-CFB] 2.6.4)" in line for line in lines), lines
    assert any("over 6.8 MiB" in line and "ENDOFCHAIN" in line for line in lines), lines


# --------------------------------------------------------------------------- hostile input


def _crafted(workdir: Path) -> dict[str, Path]:
    """A truncated file, a damaged header, 10,000 attachments, and two nesting bombs."""
    files: dict[str, Path] = {}
    if CORPUS.is_dir():
        data = (CORPUS / "msgreader" / "msgInMsg.msg").read_bytes()
        files["truncated"] = workdir / "truncated.msg"
        files["truncated"].write_bytes(data[: len(data) // 2])
        flipped = bytearray(data)
        flipped[48] ^= 0x40  # a bit of the header's first directory sector number
        files["bit-flipped"] = workdir / "bit-flipped.msg"
        files["bit-flipped"].write_bytes(bytes(flipped))
    tree = hostile._message_node(layout.TOP_HEADER, 10_000)
    tree.entries.update(hostile._embedded_chain(0).entries)
    tree.entries[layout.PROPERTIES] = layout.TOP_HEADER.pack(0, 10_000, 0, 10_000)
    body = bytes(8) + layout.ENTRY.pack(0x37050003, 7, struct.pack("<Q", 1))
    for index in range(10_000):
        att = tree.storage(layout.attach_storage(index))
        att.entries[layout.PROPERTIES] = body
        att.entries["__substg1.0_37010102"] = b""
    files["10000-attachments"] = workdir / "many.msg"
    files["10000-attachments"].write_bytes(cfb.to_bytes(tree))
    files["embedded-100-deep"] = workdir / "deep.msg"
    files["embedded-100-deep"].write_bytes(cfb.to_bytes(hostile._embedded_chain(100)))
    nest = hostile._embedded_chain(0)
    node = nest
    for _ in range(1000):
        node = node.storage("s")
    files["storages-1000-deep"] = workdir / "nested.msg"
    files["storages-1000-deep"].write_bytes(cfb.to_bytes(nest))
    return files


@pytest.mark.parametrize("command", ["edit", "attach --msg", "dump", "check"])
def test_hostile_files_get_one_line_and_a_non_zero_exit(run: Run, workdir: Path, command: str) -> None:
    files = _crafted(workdir)
    assert run("open", "s").returncode == 0
    assert run("add", "s", "--id", "x").returncode == 0
    for kind, path in files.items():
        args = {
            "edit": ["edit", "s", path.name],
            "attach --msg": ["attach", "s", "x", "--msg", path.name],
            "dump": ["dump", path.name],
            "check": ["check", path.name],
        }[command]
        start = time.perf_counter()
        proc = run(*args)
        elapsed = time.perf_counter() - start
        assert elapsed < MAX_SECONDS, (kind, elapsed)
        assert proc.returncode != 0, (kind, proc.stdout[:200])
        lines = proc.stderr.splitlines()
        assert len(lines) == 1, (kind, proc.stderr)
        # attach --msg: located at the attachment of the message it was to go into.
        where = "message x: attachment 0: " if command == "attach --msg" else ""
        assert lines[0].startswith(f"msgsess: error: {where}{path.name}"), (kind, lines[0])
        assert "internal error" not in lines[0]
        expected = 1 if command == "check" and kind == "10000-attachments" else 8
        assert proc.returncode == expected, (kind, proc.returncode, lines[0])
    # Nothing was added by the refused imports.
    shown = [json.loads(line) for line in run("show", "s", "--json").stdout.splitlines()]
    assert [m["id"] for m in shown] == ["x"] and "attachments" not in shown[0]


@needs_corpus
@pytest.mark.parametrize(
    "sample", ["msgreader/msgInMsg.msg", "email-outlook-message-perl/plain_jpeg_attached.msg"]
)
def test_bit_flipped_files_fail_cleanly_or_work(invoke: Invoke, workdir: Path, sample: str) -> None:
    """Seeded random bit flips: every command ends with success or one error line, never a traceback."""
    data = (CORPUS / sample).read_bytes()
    rng = random.Random(f"cli-{sample}")
    ok(invoke("open", "s"))
    outcomes: dict[int, int] = {}
    for number in range(40):
        mutant = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(mutant))
            mutant[pos] ^= 1 << rng.randrange(8)
        name = f"mutant{number}.msg"
        (workdir / name).write_bytes(bytes(mutant))
        for args in (("edit", "s", name), ("dump", name), ("check", name)):
            result = invoke(*args)
            outcomes[result.exit_code] = outcomes.get(result.exit_code, 0) + 1
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
            if result.exit_code != 0:
                assert "internal error" not in result.stderr
                assert args[0] == "check" or len(result.stderr.splitlines()) == 1, result.stderr
                assert name in result.stderr
    assert set(outcomes) <= {0, 1, 3, 4, 8, 11}, outcomes
    assert 8 in outcomes


# --------------------------------------------------------------------------- what we write


def _edited_outputs(invoke: Invoke, workdir: Path) -> list[Path]:
    """Every corpus file edited with a few changes, plus ANSI ones turned into Unicode."""
    outputs: list[Path] = []
    ok(invoke("open", "e"))
    for index, path in enumerate(FILES):
        out = workdir / "edited" / f"{index}.msg"
        msg_id = ok(invoke("edit", "e", str(path), "--out", str(out))).strip()
        shown = ok(invoke("show", "e", msg_id))
        ok(invoke("set", "e", msg_id, "PidTagSubject", f"RE: edited {index}"))
        if "recipients" in shown:
            ok(invoke("recipient", "e", msg_id, "--remove", "0"))
        if "\n      attachments" in shown:
            ok(invoke("detach", "e", msg_id, "0"))
        ok(invoke("recipient", "e", msg_id, "--cc", "Added <added@example.com>"))
        ok(invoke("attach", "e", msg_id, str(FILES[0]), "--name", "note.bin"))
        outputs.append(out)
    ok(invoke("close", "e"))
    ok(invoke("open", "u"))
    for index, path in enumerate(FILES):
        out = workdir / "unicode" / f"{index}.msg"
        ok(invoke("edit", "u", str(path), "--out", str(out)))
        outputs.append(out)
    ok(invoke("close", "u", "--unicode"))
    return outputs


@needs_corpus
def test_everything_msgsess_writes_passes_check(invoke: Invoke, run: Run, workdir: Path) -> None:
    demo = workdir / "demo"
    env = {**os.environ, "MSGSESS": f"{sys.executable} -m msgsess"}
    proc = subprocess.run(
        ["sh", str(ROOT / "examples" / "demo.sh"), str(demo)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    written = sorted([*demo.glob("*.msg"), *demo.glob("*.oft")])
    assert len(written) >= 6
    written += _edited_outputs(invoke, workdir)
    assert len(written) >= 6 + 2 * len(FILES)
    proc = run("check", "--quiet", *map(str, written))
    assert proc.returncode == 0, proc.stdout[:2000] + proc.stderr
    # No error, so only the line for the run (warnings come from the corpus files edited:
    # recipients without an SMTP address).
    (line,) = proc.stdout.splitlines()
    assert line.startswith(f"{len(written)} files: 0 errors, "), line
    # And they read back: the edited subjects are there.
    with extract_msg.Message(str(workdir / "edited" / "0.msg")) as msg:
        assert msg.subject == "RE: edited 0"


def test_check_copies_are_not_needed_for_a_missing_file(invoke: Invoke, workdir: Path) -> None:
    shutil.copyfile(ROOT / "pyproject.toml", workdir / "p.msg")
    result = invoke("check", "p.msg", "missing.msg")
    assert result.exit_code == 8
    assert result.stderr.splitlines()[0].startswith("msgsess: error: p.msg: ")
    assert result.stderr.splitlines()[1] == "msgsess: error: file missing.msg does not exist (check the path)"
