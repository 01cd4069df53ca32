"""Damaged and hostile .msg files through real processes (issue 9, items 3, 5, 6, 7).

Each test builds its file from a reproduction of the audit, runs the commands a user would
(``dump``, ``dump --json``, ``check``, ``edit`` + ``close``, ``show``) as subprocesses, and looks
at the bytes they print: one line on stderr for a refusal, never an internal error, and stdout
that is valid UTF-8 with nothing from the file that a terminal would act on.
"""

from __future__ import annotations

import importlib.util
import json
import struct
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
