"""Damaged and hostile input: read, decode and check either succeed or raise MsgsessError.

Every case runs the whole library path a command takes on a file
(``cfb.read_bytes`` -> ``oxmsg.decode`` -> ``oxmsg.check.check``) and must end
within seconds, in bounded memory, with a result or a ``MsgsessError``
(``CorruptFile``, ``TooBig``, ``NotFound``...) -- never another exception.
"""

from __future__ import annotations

import random
import struct
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from msgsess import cfb, oxmsg
from msgsess.errors import CorruptFile, MsgsessError
from msgsess.oxmsg import layout
from msgsess.oxmsg.check import check, errors
from msgsess.storage import Storage

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
SAMPLES = ["msgreader/msgInMsg.msg", "email-outlook-message-perl/plain_jpeg_attached.msg"]
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")

MAX_SECONDS = 10.0
MAX_PEAK = 200 << 20

ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF


def _pipeline(data: bytes) -> None:
    tree = cfb.read_bytes(data, "hostile.msg")
    _tree_pipeline(tree)


def _tree_pipeline(tree: Storage) -> None:
    check(tree)
    oxmsg.decode(tree, label="hostile.msg")


def _bounded(run: Callable[[], None]) -> str:
    """Run one case; return 'ok' or the MsgsessError class name. Anything else propagates.

    Timed on a plain run, then run again under tracemalloc for its peak memory
    (tracemalloc slows allocation-heavy code several times over, so it would
    distort the time).
    """

    def once() -> str:
        try:
            run()
        except MsgsessError as exc:
            assert str(exc), "a MsgsessError must say what is wrong"
            assert "\n" not in exc.one_line()
            return type(exc).__name__
        return "ok"

    start = time.perf_counter()
    outcome = once()
    elapsed = time.perf_counter() - start
    assert elapsed < MAX_SECONDS, f"took {elapsed:.1f} s"
    tracemalloc.start()
    try:
        assert once() == outcome
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_PEAK, f"peak memory {peak >> 20} MiB"
    return outcome


def _sample(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


# --------------------------------------------------------------------------- compound-file surgery


class _Cfb:
    """Just enough of [MS-CFB] 2.2-2.6 (version 3) to damage a file on purpose."""

    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)
        assert struct.unpack_from("<H", data, 30)[0] == 9, "version 3 files only"
        self.first_dir = struct.unpack_from("<I", data, 48)[0]
        self.first_minifat = struct.unpack_from("<I", data, 60)[0]
        n_fat = struct.unpack_from("<I", data, 44)[0]
        self.fat_sectors = list(struct.unpack_from("<109I", data, 76))[: min(n_fat, 109)]

    def offset(self, sector: int) -> int:
        return (sector + 1) * 512

    def fat_offset(self, sector: int) -> int:
        return self.offset(self.fat_sectors[sector // 128]) + 4 * (sector % 128)

    def next(self, sector: int) -> int:
        return int(struct.unpack_from("<I", self.data, self.fat_offset(sector))[0])

    def set_next(self, sector: int, value: int) -> None:
        struct.pack_into("<I", self.data, self.fat_offset(sector), value)

    def chain(self, start: int) -> list[int]:
        out = []
        while start < 0xFFFFFFFA and len(out) < 100_000:
            out.append(start)
            start = self.next(start)
        return out

    def entries(self) -> list[tuple[int, str, int, int, int]]:
        """(byte offset, name, type, start sector, size) of every directory entry."""
        out = []
        for sector in self.chain(self.first_dir):
            for i in range(4):
                off = self.offset(sector) + 128 * i
                name_len = struct.unpack_from("<H", self.data, off + 64)[0]
                name = bytes(self.data[off : off + max(name_len - 2, 0)]).decode("utf-16-le", "replace")
                kind = self.data[off + 66]
                start, size = struct.unpack_from("<II", self.data, off + 116)
                out.append((off, name, kind, start, size))
        return out

    def entry(self, pred: Callable[[str, int, int], bool]) -> tuple[int, str, int, int, int]:
        return next(e for e in self.entries() if pred(e[1], e[2], e[4]))


# --------------------------------------------------------------------------- mutated corpus files


@needs_corpus
@pytest.mark.parametrize("name", SAMPLES)
def test_truncated(name: str) -> None:
    data = _sample(name)
    outcomes = set()
    for cut in sorted({0, 7, 8, 511, 512, 1535, 1536, 4096, len(data) // 3, len(data) // 2, len(data) - 512}):
        outcomes.add(_bounded(lambda cut=cut: _pipeline(data[:cut])))
    assert outcomes <= {"ok", "CorruptFile"}
    assert "CorruptFile" in outcomes


@needs_corpus
@pytest.mark.parametrize("name", SAMPLES)
def test_bit_flips(name: str) -> None:
    """Seeded random bit flips over the whole file, one to eight per mutant."""
    data = _sample(name)
    rng = random.Random(f"msgsess-{name}")
    seen: dict[str, int] = {}
    for _ in range(150):
        mutant = bytearray(data)
        for _flip in range(rng.randint(1, 8)):
            pos = rng.randrange(len(mutant))
            mutant[pos] ^= 1 << rng.randrange(8)
        outcome = _bounded(lambda m=bytes(mutant): _pipeline(m))
        seen[outcome] = seen.get(outcome, 0) + 1
    assert set(seen) <= {"ok", "CorruptFile", "TooBig", "NotFound", "InvalidParameter"}, seen


@needs_corpus
@pytest.mark.parametrize("name", SAMPLES, ids=SAMPLES)
def test_bytes_in_the_property_streams(name: str) -> None:
    """Random bytes over the streams the codec itself parses (property streams, named map)."""
    tree0 = cfb.read_bytes(_sample(name))
    targets = [
        p
        for p, entry in tree0.walk()
        if isinstance(entry, bytes)
        and (p.endswith(layout.PROPERTIES) or "__nameid" in p or p.endswith("101F") or p.endswith("1102"))
    ]
    rng = random.Random(f"streams-{name}")
    for _ in range(200):
        tree = cfb.read_bytes(_sample(name))
        path = rng.choice(targets)
        parts = path.split("/")
        node = tree
        for part in parts[:-1]:
            child = node.entries[part]
            assert isinstance(child, Storage)
            node = child
        stream = bytearray(node.entries[parts[-1]])  # type: ignore[arg-type]
        if stream and rng.random() < 0.8:
            for _flip in range(rng.randint(1, 6)):
                pos = rng.randrange(len(stream))
                stream[pos] = rng.randrange(256)
        else:
            stream = stream[: rng.randrange(len(stream) + 1)]
        node.entries[parts[-1]] = bytes(stream)
        _bounded(lambda tree=tree: _tree_pipeline(tree))


@needs_corpus
def test_fat_chain_loop() -> None:
    doc = _Cfb(_sample("msgreader/msgInMsg.msg"))
    _off, _name, _kind, start, _size = doc.entry(lambda n, k, s: k == 2 and s >= 4096)
    doc.set_next(start, start)
    assert _bounded(lambda: _pipeline(bytes(doc.data))) == "CorruptFile"


@needs_corpus
def test_directory_chain_loop() -> None:
    doc = _Cfb(_sample("msgreader/msgInMsg.msg"))
    last = doc.chain(doc.first_dir)[-1]
    doc.set_next(last, doc.first_dir)
    assert _bounded(lambda: _pipeline(bytes(doc.data))) == "CorruptFile"


@needs_corpus
def test_minifat_chain_loop() -> None:
    doc = _Cfb(_sample("msgreader/msgInMsg.msg"))
    minifat = doc.offset(doc.first_minifat)
    _off, _name, _kind, start, _size = doc.entry(lambda n, k, s: k == 2 and 128 < s < 4096)
    struct.pack_into("<I", doc.data, minifat + 4 * start, start)
    assert _bounded(lambda: _pipeline(bytes(doc.data))) == "CorruptFile"


@needs_corpus
@pytest.mark.parametrize("size", [4095, 1 << 20, 0x7FFFFFFF, 0xFFFFFFFF])
def test_stream_size_beyond_the_file(size: int) -> None:
    doc = _Cfb(_sample("msgreader/msgInMsg.msg"))
    off, _name, _kind, _start, _size = doc.entry(lambda n, k, s: n == layout.PROPERTIES)
    struct.pack_into("<I", doc.data, off + 120, size)
    assert _bounded(lambda: _pipeline(bytes(doc.data))) == "CorruptFile"


@needs_corpus
def test_root_mini_stream_size_beyond_the_file() -> None:
    doc = _Cfb(_sample("msgreader/msgInMsg.msg"))
    off = doc.entries()[0][0]
    struct.pack_into("<I", doc.data, off + 120, 0x7FFFFFF0)
    assert _bounded(lambda: _pipeline(bytes(doc.data))) == "CorruptFile"


@needs_corpus
def test_directory_sibling_cycle() -> None:
    """A directory entry whose right sibling is itself (a cycle in the red-black tree)."""
    doc = _Cfb(_sample("msgreader/msgInMsg.msg"))
    entries = doc.entries()
    index = next(i for i, e in enumerate(entries) if e[1] == layout.PROPERTIES)
    struct.pack_into("<I", doc.data, entries[index][0] + 72, index)  # right sibling id
    assert _bounded(lambda: _pipeline(bytes(doc.data))) == "CorruptFile"


# --------------------------------------------------------------------------- crafted trees


def _message_node(header: struct.Struct, n_att: int) -> Storage:
    node = Storage()
    node.entries[layout.PROPERTIES] = header.pack(0, n_att, 0, n_att)
    return node


def _embedded_chain(depth: int) -> Storage:
    """A message holding an embedded message holding one... ``depth`` levels below the top."""
    root = _message_node(layout.TOP_HEADER, 1)
    root.clsid = layout.CLSID_MAIL_MESSAGE
    nameid = root.storage(layout.NAMEID)
    for stream in ("__substg1.0_00020102", "__substg1.0_00030102", "__substg1.0_00040102"):
        nameid.entries[stream] = b""
    node = root
    for level in range(depth):
        att = node.storage(layout.attach_storage(0))
        att.entries[layout.PROPERTIES] = (
            bytes(8)
            + layout.ENTRY.pack(0x37050003, 7, struct.pack("<Q", 5))
            + layout.VAR_ENTRY.pack(0x3701000D, 6, 0xFFFFFFFF, 1)
        )
        child = _message_node(layout.EMBEDDED_HEADER, 1 if level < depth - 1 else 0)
        att.entries[layout.ATTACH_OBJECT] = child
        node = child
    return root


def test_embedded_chain_100_deep_in_a_file() -> None:
    data = cfb.to_bytes(_embedded_chain(100))
    assert _bounded(lambda: _pipeline(data)) == "CorruptFile"


def test_embedded_chain_100_deep_in_memory() -> None:
    tree = _embedded_chain(100)
    findings = check(tree)
    assert any("nested more than" in f.message for f in errors(findings))
    with pytest.raises(CorruptFile, match="nested"):
        oxmsg.decode(tree)
    assert _bounded(lambda: _tree_pipeline(tree)) == "CorruptFile"


def test_embedded_chain_within_limits_decodes() -> None:
    tree = _embedded_chain(20)
    assert errors(check(tree)) == []
    msg = oxmsg.decode(cfb.read_bytes(cfb.to_bytes(tree)))
    assert len(list(msg.walk())) == 21


def test_nested_storages_1000_deep() -> None:
    tree = _embedded_chain(0)
    node = tree
    for _ in range(1000):
        node = node.storage("s")
    data = cfb.to_bytes(tree)
    assert _bounded(lambda: _pipeline(data)) == "CorruptFile"
    # The same tree in memory: nothing in it is a message object, so it checks and decodes.
    assert _bounded(lambda: _tree_pipeline(tree)) == "ok"


def test_ten_thousand_attachments() -> None:
    tree = _message_node(layout.TOP_HEADER, 10_000)
    tree.entries.update(_embedded_chain(0).entries)
    tree.entries[layout.PROPERTIES] = layout.TOP_HEADER.pack(0, 10_000, 0, 10_000)
    body = bytes(8) + layout.ENTRY.pack(0x37050003, 7, struct.pack("<Q", 1))
    for index in range(10_000):
        att = tree.storage(layout.attach_storage(index))
        att.entries[layout.PROPERTIES] = body
        att.entries["__substg1.0_37010102"] = b""
    data = cfb.to_bytes(tree)
    assert _bounded(lambda: _pipeline(data)) == "CorruptFile"
    findings = errors(check(tree))
    assert any("10000 attachment storages" in f.message for f in findings)


@needs_corpus
def test_olefile_defect_becomes_corrupt_file() -> None:
    """Deterministic case of the cfb bug: olefile's own 'incomplete OLE sector' defect."""
    data = _sample("msgreader/msgInMsg.msg")
    with pytest.raises(CorruptFile):
        cfb.read_bytes(data[: len(data) // 2 + 100])


def test_attach_method_of_the_wrong_type() -> None:
    """PidTagAttachMethod stored as PT_BINARY: check() reports it, decode() reads on leniently."""
    tree = _embedded_chain(1)
    att = tree.entries[layout.attach_storage(0)]
    assert isinstance(att, Storage)
    att.entries[layout.PROPERTIES] = (
        bytes(8)
        + layout.VAR_ENTRY.pack(0x37050102, 6, 4, 0)
        + layout.VAR_ENTRY.pack(0x3701000D, 6, 0xFFFFFFFF, 1)
    )
    att.entries["__substg1.0_37050102"] = b"\x05\0\0\0"
    assert any("not 5 or 6" in f.message for f in errors(check(tree)))
    msg = oxmsg.decode(tree)
    # The storage is still an embedded message (Reserved 1, own property stream).
    assert msg.attachments[0].embedded is not None


@needs_corpus
@pytest.mark.parametrize("length", [0, 1, 2, 3, 65, 66])
def test_directory_entry_name_length_out_of_range(length: int) -> None:
    """Issue 9 item 6: a name-length field of 1 was read as a 32-character name ending in U+FFFD,
    which no writer can write back (``close`` failed with an internal ValueError)."""
    doc = _Cfb(_sample("msgreader/msgInMsg.msg"))
    off, _name, _kind, _start, _size = doc.entry(lambda n, k, s: n == layout.PROPERTIES)
    struct.pack_into("<H", doc.data, off + 64, length)
    with pytest.raises(CorruptFile, match=r"name-length field|DirEntry name length"):
        cfb.read_bytes(bytes(doc.data))


@needs_corpus
def test_directory_entry_names_that_are_no_utf16_or_hold_nul() -> None:
    doc = _Cfb(_sample("msgreader/msgInMsg.msg"))
    off, _name, _kind, _start, _size = doc.entry(lambda n, k, s: n == layout.PROPERTIES)
    doc.data[off : off + 2] = b"\x00\xd8"  # a lone high surrogate as the first character
    with pytest.raises(CorruptFile, match="not UTF-16"):
        cfb.read_bytes(bytes(doc.data))
    doc.data[off : off + 2] = b"\x00\x00"  # a NUL inside the name
    with pytest.raises(CorruptFile, match="invalid entry name"):
        cfb.read_bytes(bytes(doc.data))


@needs_corpus
def test_two_entries_whose_names_differ_only_in_case_beyond_ascii() -> None:
    """olefile folds names with lower(), [MS-CFB] 2.6.4 with upper(): 'ı' and 'i' differ in the first only."""
    doc = _Cfb(_sample("msgreader/msgInMsg.msg"))
    stream = "__substg1.0_0037001F"
    offs = [e[0] for e in doc.entries() if e[1].upper().startswith("__SUBSTG1.0_00")][:2]
    assert len(offs) == 2
    for off, last in zip(offs, "ıi", strict=True):
        name = (stream[:-1] + last).encode("utf-16-le")
        doc.data[off : off + len(name)] = name
    with pytest.raises(CorruptFile, match="two entries named"):
        cfb.read_bytes(bytes(doc.data))
