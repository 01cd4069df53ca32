"""Issue 9's two fidelity leftovers, over the real files of ``../shared/corpus``.

``test_edit_fidelity.py`` builds each case from our own messages; here each case is made of files
no one here wrote, the way the audit met them:

- every corpus file with a property at a 0x8000+ id that its own name map does not define (the
  audit's ``0x8A5C``): an unchanged ``edit`` + ``close`` must not refuse it, and keeps it as it
  stands, every other property unchanged (extract-msg reads both files);
- every ANSI corpus message embedded in a Unicode corpus message (as Aspose.Email writes them):
  an unchanged edit keeps the embedded message's 8-bit strings and its PidTagStoreSupportMask,
  every one of its streams byte for byte (olefile reads both files).

Without ``../shared`` the tests skip.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import olefile
import pytest

from msgsess import cfb, oxmsg
from msgsess.model import Attachment
from msgsess.oxmsg import layout
from msgsess.oxmsg.check import check, errors
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.storage import Storage
from tests.cli.test_edit import rt  # the level-by-level comparison of the corpus round trip
from tests.conftest import Invoke, ok

pytestmark = pytest.mark.usefixtures("quiet_extract_msg")

CORPUS: Path = rt.CORPUS
FILES: list[Path] = rt.FILES
#: The id of the audit's report; every corpus file's name map defines far fewer ids.
UNDEFINED = 0x8A5C
EMBEDDED = f"{layout.attach_storage(0)}/{layout.ATTACH_OBJECT}"


def _edit_and_close(invoke: Invoke, source: Path, out: str = "out.msg") -> Any:
    ok(invoke("open", "--force", "s.session"))
    ok(invoke("edit", "s.session", str(source), "--out", out))
    return invoke("close", "s.session")


def _entries(data: bytes, header: int) -> dict[int, bytes]:
    return {struct.unpack_from("<I", data, o)[0]: data[o + 4 : o + 16] for o in range(header, len(data), 16)}


def _named_count(tree: Any) -> int:
    names = tree.entries.get(layout.NAMEID)
    entries = names.stream("__substg1.0_00030102") if isinstance(names, Storage) else None
    return 0 if entries is None else len(entries) // 8


def _with_undefined(path: Path, out: Path) -> bytes:
    """``path`` with a PT_LONG property at :data:`UNDEFINED` on its top level; its 16-byte entry."""
    tree = cfb.read_file(path)
    assert _named_count(tree) < UNDEFINED - 0x8000
    props = tree.entries[layout.PROPERTIES]
    assert isinstance(props, bytes)
    entry = layout.ENTRY.pack((UNDEFINED << 16) | t.PT_LONG, 6, struct.pack("<Q", 0xA5C))
    tree.entries[layout.PROPERTIES] = props + entry
    out.write_bytes(cfb.to_bytes(tree))
    return entry


def _without_undefined(path: Path, out: Path) -> None:
    """``path`` without the entry :func:`_with_undefined` added (extract-msg asserts every 0x8000+ id
    is named), so that the rest compares with the original."""
    tree = cfb.read_file(path)
    props = tree.entries[layout.PROPERTIES]
    assert isinstance(props, bytes)
    kept = [
        props[o : o + 16]
        for o in range(32, len(props), 16)
        if props[o : o + 4] != struct.pack("<I", (UNDEFINED << 16) | t.PT_LONG)
    ]
    tree.entries[layout.PROPERTIES] = props[:32] + b"".join(kept)
    out.write_bytes(cfb.to_bytes(tree))


@pytest.mark.parametrize("path", rt._params())
def test_a_property_the_name_map_does_not_define_survives_an_unchanged_edit(
    invoke: Invoke, workdir: Path, path: Path
) -> None:
    entry = _with_undefined(path, workdir / "in.msg")
    closed = _edit_and_close(invoke, workdir / "in.msg")
    # Before the fix: exit 8, "property 0x8A5C has a named-property id that the source file's
    # name map does not define", and no file.
    assert closed.exit_code == 0, closed.stderr
    with olefile.OleFileIO(str(workdir / "out.msg")) as ole:
        written = ole.openstream(layout.PROPERTIES).read()
    assert _entries(written, 32).get((UNDEFINED << 16) | t.PT_LONG) == entry[4:]
    _without_undefined(workdir / "out.msg", workdir / "rest.msg")
    before, after = rt._read_levels(path), rt._read_levels(workdir / "rest.msg")
    assert list(before) == list(after)
    problems = [f"{level}: {key} {what}" for level, key, what in rt._differences(before, after)]
    assert not problems, "\n".join(problems[:40])


def _unicode(path: Path) -> bool:
    return bool(oxmsg.decode(cfb.read_file(path)).source_unicode)


ANSI = [p for p in FILES if not _unicode(p)] if FILES else []
HOST = CORPUS / "msgreader" / "Simple.msg"


def _streams(path: Path, under: str) -> dict[str, bytes]:
    with olefile.OleFileIO(str(path)) as ole:
        return {
            "/".join(parts)[len(under) :]: ole.openstream(parts).read()
            for parts in ole.listdir(streams=True, storages=False)
            if "/".join(parts).startswith(under)
        }


@pytest.mark.skipif(not ANSI, reason=f"no ANSI files in a corpus at {CORPUS}")
@pytest.mark.parametrize("inner", ANSI, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_an_ansi_corpus_message_embedded_in_a_unicode_one_stays_ansi(
    invoke: Invoke, workdir: Path, inner: Path
) -> None:
    host = oxmsg.decode(cfb.read_file(HOST))
    assert host.source_unicode
    embedded = oxmsg.decode(cfb.read_file(inner))
    att = Attachment(embedded=embedded)
    att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG)
    att.props.set(ids.DISPLAY_NAME, t.PT_UNICODE, inner.stem)
    host.attachments.insert(0, att)
    (workdir / "aspose.msg").write_bytes(cfb.to_bytes(oxmsg.encode(host)))
    source = _streams(workdir / "aspose.msg", EMBEDDED + "/")
    assert any(n.endswith("001E") for n in source) and not any(n.endswith("001F") for n in source)

    closed = _edit_and_close(invoke, workdir / "aspose.msg")

    assert closed.exit_code == 0 and closed.stderr == "", closed.stderr
    out = _streams(workdir / "out.msg", EMBEDDED + "/")
    assert out == source  # strings, their code page and PidTagStoreSupportMask, byte for byte
    assert errors(check(cfb.read_file(workdir / "out.msg"))) == []
