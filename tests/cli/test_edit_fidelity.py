"""The two fidelity leftovers of issue 9: unchanged edits of files no one here wrote.

- A property at a 0x8000+ id that the file's own name map does not define: ``close`` refused
  the whole file. Now it is written with its own id when no named property of the new map takes
  that id (as unnamed as it was), and left out with a warning naming it otherwise.
- An embedded message stored with 8-bit strings inside a Unicode file (Aspose.Email writes
  these): an unchanged edit turned it Unicode and changed its PidTagStoreSupportMask. Each
  embedded message now keeps its own string mode unless ``close --unicode``/``--ansi`` asks.

Files are built as those writers build them, edited and closed through real processes, and the
outputs compared stream by stream with olefile, a reader we did not write.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import olefile

from msgsess import cfb, oxmsg
from msgsess.composer import compose
from msgsess.model import Attachment
from msgsess.oxmsg import layout
from msgsess.oxmsg.check import check, errors
from msgsess.props import ids
from msgsess.props import types as t

EMBEDDED = f"{layout.attach_storage(0)}/{layout.ATTACH_OBJECT}"


def _streams(path: Path, under: str = "") -> dict[str, bytes]:
    """Every stream of a file (below ``under``) by path, read with olefile."""
    with olefile.OleFileIO(str(path)) as ole:
        out = {}
        for parts in ole.listdir(streams=True, storages=False):
            name = "/".join(parts)
            if name.startswith(under):
                out[name[len(under) :]] = ole.openstream(parts).read()
        return out


def _entries(data: bytes, header: int) -> dict[int, bytes]:
    return {
        struct.unpack_from("<I", data, off)[0]: data[off + 4 : off + 16]
        for off in range(header, len(data), 16)
    }


def _edit_and_close(run: Any, name: str, *close_args: str) -> Any:
    assert run("open", "--force", "s.session").returncode == 0
    assert run("edit", "s.session", name, "--out", "out.msg").returncode == 0, name
    return run("close", "s.session", *close_args)


def _unnamed(workdir: Path, pid: int, *, categories: bool = False) -> Path:
    """A file with a PT_LONG property at ``pid`` (0x8000+) that its name map does not define."""
    spec: dict[str, Any] = {"subject": "unnamed", "to": ["Bob <bob@example.com>"]}
    if categories:
        spec["categories"] = ["a"]  # PidNameKeywords: the map's first named property, 0x8000
    tree = oxmsg.encode(compose(spec))
    props = tree.entries[layout.PROPERTIES]
    assert isinstance(props, bytes)
    tree.entries[layout.PROPERTIES] = props + layout.ENTRY.pack(
        (pid << 16) | t.PT_LONG, 6, struct.pack("<Q", 77)
    )
    path = workdir / f"unnamed-{pid:04X}.msg"
    path.write_bytes(cfb.to_bytes(tree))
    return path


def test_a_property_the_name_map_does_not_define_is_kept(run: Any, workdir: Path) -> None:
    _unnamed(workdir, 0x8A5C)
    result = _edit_and_close(run, "unnamed-8A5C.msg")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    props = _streams(workdir / "out.msg")[layout.PROPERTIES]
    assert _entries(props, 32)[0x8A5C0003] == struct.pack("<IQ", 6, 77)


def test_one_whose_id_the_new_map_takes_is_left_out_with_a_warning(run: Any, workdir: Path) -> None:
    # The file's map defines one name (0x8000, PidNameKeywords); 0x8001 is unnamed. A named
    # property added by the edit takes 0x8001 in the new map: the unnamed one cannot keep its id.
    _unnamed(workdir, 0x8001, categories=True)
    assert run("open", "s.session").returncode == 0
    assert run("edit", "s.session", "unnamed-8001.msg", "--out", "out.msg").returncode == 0
    assert run("set", "s.session", "m1", "PS_PUBLIC_STRINGS:Added", "yes").returncode == 0
    result = run("close", "s.session")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "msgsess: warning: message m1: property 0x8001 has a named-property id that the file's name "
        "map does not define, and that id now names another property; it is left out"
    ]
    with olefile.OleFileIO(str(workdir / "out.msg")) as ole:
        entries = _entries(ole.openstream(layout.PROPERTIES).read(), 32)
        assert 0x80010003 not in entries and 0x8001001F in entries  # the added one
    assert errors(check(cfb.read_file(workdir / "out.msg"))) == []


def _aspose_like(workdir: Path) -> Path:
    """A Unicode message holding an embedded message with 8-bit (code page 1251) strings."""
    inner_tree = oxmsg.encode(
        compose({"subject": "Привет", "to": ["Оля <olya@example.com>"], "body": "Текст"}),
        unicode=False,
        codepage=1251,
    )
    inner = oxmsg.decode(inner_tree)
    inner.props.set(ids.STORE_SUPPORT_MASK, t.PT_LONG, 0x00000E79, ids.PROPATTR_READABLE)
    outer = compose({"subject": "outer", "to": ["Bob <bob@example.com>"]})
    att = Attachment(embedded=inner)
    att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG)
    att.props.set(ids.DISPLAY_NAME, t.PT_UNICODE, "Привет")
    outer.attachments.append(att)
    tree = oxmsg.encode(outer)  # Unicode outside; the decoded inner message keeps its ANSI strings
    assert errors(check(tree)) == []
    path = workdir / "aspose.msg"
    path.write_bytes(cfb.to_bytes(tree))
    return path


def test_an_ansi_message_embedded_in_a_unicode_file_stays_ansi(run: Any, workdir: Path) -> None:
    source = _streams(_aspose_like(workdir), EMBEDDED + "/")
    assert "__substg1.0_0037001E" in source and "__substg1.0_0037001F" not in source
    result = _edit_and_close(run, "aspose.msg")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    out = _streams(workdir / "out.msg", EMBEDDED + "/")
    # Every stream of the embedded message as it was, its property stream included.
    assert out == source
    mask = _entries(out[layout.PROPERTIES], 24)[0x340D0003]
    assert struct.unpack_from("<I", mask, 4)[0] == 0x00000E79
    assert _streams(workdir / "out.msg")["__substg1.0_0037001F"] == "outer".encode("utf-16-le")
    assert errors(check(cfb.read_file(workdir / "out.msg"))) == []


def test_close_unicode_converts_every_level(run: Any, workdir: Path) -> None:
    _aspose_like(workdir)
    result = _edit_and_close(run, "aspose.msg", "--unicode")
    assert result.returncode == 0, result.stderr
    out = _streams(workdir / "out.msg", EMBEDDED + "/")
    assert out["__substg1.0_0037001F"] == "Привет".encode("utf-16-le")
    assert "__substg1.0_0037001E" not in out
    mask = _entries(out[layout.PROPERTIES], 24)[0x340D0003]
    assert struct.unpack_from("<I", mask, 4)[0] & ids.STORE_UNICODE_OK
    assert errors(check(cfb.read_file(workdir / "out.msg"))) == []
