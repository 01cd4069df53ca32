"""Damaged and hostile .msg files through real processes (issue 9, items 3, 5, 6, 7).

Each test builds its file from a reproduction of the audit, runs the commands a user would
(``dump``, ``dump --json``, ``check``, ``edit`` + ``close``, ``show``) as subprocesses, and looks
at the bytes they print: one line on stderr for a refusal, never an internal error, and stdout
that is valid UTF-8 with nothing from the file that a terminal would act on.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

from msgsess import cfb, oxmsg
from msgsess.composer import compose
from msgsess.oxmsg import layout
from msgsess.storage import Storage

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_hostile_lib", ROOT / "tests" / "test_hostile.py")
assert _spec is not None and _spec.loader is not None
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)


def one_line_refusal(result: Any, code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("msgsess: error: "), result.stderr
    assert "internal error" not in result.stderr
    return str(lines[0])


def _retype(node: Storage, old: int, new: int) -> None:
    data = bytearray(node.entries[layout.PROPERTIES])  # type: ignore[arg-type]
    header = 8 if len(data) % 16 == 8 else 32
    for off in range(header, len(data), 16):
        if struct.unpack_from("<I", data, off)[0] == old:
            struct.pack_into("<I", data, off, new)
    node.entries[layout.PROPERTIES] = bytes(data)


def test_a_directory_entry_whose_name_length_is_1_is_refused_when_read(run: Any, workdir: Path) -> None:
    """Item 6: ``edit`` accepted such a file and ``close`` failed with an internal ValueError."""
    data = cfb.to_bytes(oxmsg.encode(compose({"subject": "name length"})))
    doc = hostile._Cfb(data)
    off = doc.entry(lambda name, kind, size: name == layout.PROPERTIES)[0]
    struct.pack_into("<H", doc.data, off + 64, 1)
    (workdir / "bad.msg").write_bytes(bytes(doc.data))
    assert run("open", "s.session").returncode == 0
    line = one_line_refusal(run("edit", "s.session", "bad.msg"), 8)
    assert "bad.msg" in line and "name-length field 1" in line
    one_line_refusal(run("dump", "bad.msg"), 8)
    one_line_refusal(run("check", "bad.msg"), 8)


def test_dump_json_of_an_attach_method_stored_as_another_type(run: Any, workdir: Path) -> None:
    """Item 7: PidTagAttachMethod stored as PT_BINARY without its stream (a raw value) or as PT_SHORT."""
    for ptype, method in ((0x0102, None), (0x0002, 1), (0x000B, None)):
        tree = oxmsg.encode(compose({"subject": "m", "attachments": [{"data": "aGk=", "name": "a.txt"}]}))
        att = tree.entries[layout.attach_storage(0)]
        assert isinstance(att, Storage)
        _retype(att, 0x37050003, 0x3705 << 16 | ptype)
        (workdir / "m.msg").write_bytes(cfb.to_bytes(tree))
        result = run("dump", "--json", "m.msg")
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert out["attachments"][0]["method"] == method
        tags = [p["tag"] for p in out["attachments"][0]["properties"] if "tag" in p]
        assert f"0x3705{ptype:04X}" in tags
        assert run("dump", "m.msg").returncode == 0


def _file_with_subject(workdir: Path, name: str, stream: bytes, *, unicode: bool = True) -> Path:
    """A file whose subject stream holds ``stream`` (UTF-16LE for Unicode, cp1252 bytes for ANSI)."""
    spec = {"subject": "placeholder", "to": ["Bob <bob@example.com>"]}
    tree = oxmsg.encode(compose(spec), unicode=unicode, codepage=1252)
    tag = 0x0037001F if unicode else 0x0037001E
    tree.entries[layout.value_stream(tag)] = stream
    data = bytearray(tree.entries[layout.PROPERTIES])  # type: ignore[arg-type]
    for off in range(32, len(data), 16):
        if struct.unpack_from("<I", data, off)[0] == tag:
            struct.pack_into("<I", data, off + 8, len(stream) + (2 if unicode else 1))
    tree.entries[layout.PROPERTIES] = bytes(data)
    path = workdir / name
    path.write_bytes(cfb.to_bytes(tree))
    return path


def _stream(path: Path, name: str) -> bytes:
    tree = cfb.read_file(path)
    data = tree.entries[name]
    assert isinstance(data, bytes)
    return data


def _utf8(data: str | bytes) -> str:
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    return raw.decode("utf-8")  # raises on invalid UTF-8


LONE = "A".encode("utf-16-le") + b"\x00\xd8" + "Z".encode("utf-16-le")  # A, lone U+D800, Z
ANSI = b"caf\xe9 \x81 end"  # 0x81 is no character of code page 1252


def test_strings_that_are_no_text_are_shown_escaped(run: Any, workdir: Path) -> None:
    """Item 3: dump printed part of its output, then failed; the ANSI byte went out raw (invalid UTF-8)."""
    _file_with_subject(workdir, "u.msg", LONE)
    _file_with_subject(workdir, "a.msg", ANSI, unicode=False)
    for env in ({}, {"PYTHONIOENCODING": "utf-8"}):
        for name, shown, invalid, text in (
            ("u.msg", "A\\ud800Z", LONE.hex(), "A\ufffdZ"),
            ("a.msg", "café \\x81 end", ANSI.hex(), "café \ufffd end"),
        ):
            result = run("dump", name, env=env)
            assert result.returncode == 0 and result.stderr == "", result.stderr
            subject = next(line for line in _utf8(result.stdout).splitlines() if "PidTagSubject" in line)
            assert subject.endswith(f"  {shown}")
            result = run("dump", "--json", name, env=env)
            assert result.returncode == 0 and result.stderr == "", result.stderr
            data = json.loads(_utf8(result.stdout))
            value = next(p["value"] for p in data["properties"] if p["name"] == "PidTagSubject")
            assert value == {"invalid": invalid, "text": text}


def test_strings_that_are_no_text_are_kept_byte_for_byte_on_edit(run: Any, workdir: Path) -> None:
    u = _file_with_subject(workdir, "u.msg", LONE)
    a = _file_with_subject(workdir, "a.msg", ANSI, unicode=False)
    assert run("open", "s.session").returncode == 0
    for path in (u, a):
        assert run("edit", "s.session", path.name, "--out", f"out-{path.name}").returncode == 0
    result = run("close", "s.session")
    assert result.returncode == 0, result.stderr
    assert _stream(workdir / "out-u.msg", "__substg1.0_0037001F") == LONE
    assert _stream(workdir / "out-a.msg", "__substg1.0_0037001E") == ANSI


def test_converting_strings_that_are_no_text_is_refused(run: Any, workdir: Path) -> None:
    """A lone surrogate has no ANSI form; a byte no code page character has no Unicode one."""
    _file_with_subject(workdir, "u.msg", LONE)
    _file_with_subject(workdir, "a.msg", ANSI, unicode=False)
    for name, flag, words in (
        ("u.msg", "--ansi", "unpaired UTF-16 surrogate 0xD800"),
        ("a.msg", "--unicode", "byte 0x81, which code page 1252 does not define"),
    ):
        assert run("open", "--force", "s.session").returncode == 0
        assert run("edit", "s.session", name, "--out", "out.msg").returncode == 0
        line = one_line_refusal(run("close", "s.session", flag), 7)
        assert "PidTagSubject" in line and words in line
        assert not (workdir / "out.msg").exists()


OSC = "\x1b]52;c;SGVsbG8=\x07"  # OSC 52: set the clipboard
FORGED = f"Hi{OSC}\nmsgsess: forged line\x1b[2J\u202etxt.exe"


def test_text_from_files_cannot_drive_the_terminal(run: Any, workdir: Path) -> None:
    """Item 5: dump and show printed escape sequences and raw newlines from a subject."""
    path = _file_with_subject(workdir, "t.msg", FORGED.encode("utf-16-le"))
    escaped = "Hi\\x1b]52;c;SGVsbG8=\\x07\\nmsgsess: forged line\\x1b[2J\\u202etxt.exe"
    out = run("dump", "t.msg").stdout
    assert "\x1b" not in out and "\u202e" not in out and escaped in out
    assert not any(line.startswith("msgsess: forged") for line in out.splitlines())
    assert run("open", "s.session").returncode == 0
    assert run("edit", "s.session", path.name).returncode == 0
    out = run("show", "s.session").stdout
    assert "\x1b" not in out and "\u202e" not in out and escaped in out
    assert not any(line.startswith("msgsess: forged") for line in out.splitlines())
    # JSON is exact: its own escapes say what the file holds.
    data = json.loads(run("dump", "--json", "t.msg").stdout)
    assert next(p["value"] for p in data["properties"] if p["name"] == "PidTagSubject") == FORGED


def test_dump_on_a_terminal_escapes_text_and_fits_the_width(workdir: Path) -> None:
    """The rich tree on a terminal (a pseudo-terminal 100 columns wide): escaped, names whole."""
    # Markup is no markup here: "[/]" alone would stop rich with an error.
    _file_with_subject(workdir, "t.msg", ("[/][red]" + FORGED + " " + "long " * 40).encode("utf-16-le"))
    out = _on_terminal(["dump", "t.msg"], columns=100)
    text = ANSI_SGR.sub("", out)
    assert "\x1b" not in text and "\u202e" not in text
    assert "[/][red]Hi\\x1b]" in text
    lines = text.splitlines()
    assert all(len(line) <= 100 for line in lines), max(lines, key=len)
    for name in ("PidTagSubject", "PidTagMessageClass", "PidTagRecipientType", "PidTagDisplayName"):
        assert any(f"│ {name} " in line for line in lines), name
    assert any("PT_UNICODE" in line and "0x0037001F" in line for line in lines)


ANSI_SGR = re.compile("\x1b\\[[0-9;]*m")


def _on_terminal(args: list[str], columns: int) -> str:
    """Run msgsess with stdout on a pseudo-terminal of ``columns`` columns; its output, decoded."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "msgsess", *args], stdout=slave, stderr=subprocess.PIPE, env=env
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.stderr is not None
    with proc.stderr:
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def _dump_stdin(workdir: Path, stdin: Any, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "msgsess", "dump", *args, "-"],
        stdin=stdin,
        capture_output=True,
        cwd=workdir,
        timeout=60,
        check=False,
    )


def test_dump_reads_a_file_from_stdin(workdir: Path) -> None:
    """Issue 12: ``dump -``; the plain text has aligned columns and the stored types."""
    path = _file_with_subject(workdir, "a.msg", "Grüße".encode("cp1252"), unicode=False)
    with path.open("rb") as stdin:
        result = _dump_stdin(workdir, stdin)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode("utf-8").splitlines()
    assert lines[0] == "stdin (ANSI, code page 1252)"
    subject = next(line for line in lines if line.split()[0] == "PidTagSubject")
    assert subject.split()[1:4] == ["0x0037001E", "PT_STRING8", "flags=0x6"]
    assert subject.endswith("  Grüße")
    top = [line for line in lines[1:] if line.startswith("  ") and not line.startswith("   ")]
    starts = {line.index(" 0x", 3) for line in top if line.split()[0].startswith("Pid")}
    assert len(starts) == 1  # tags start in one column
    with path.open("rb") as stdin:
        assert json.loads(_dump_stdin(workdir, stdin, "--json").stdout)["file"] == "stdin"
    empty = _dump_stdin(workdir, subprocess.DEVNULL)
    assert empty.returncode == 8 and empty.stderr.decode().startswith("msgsess: error: stdin: ")
