"""msgsess.cfbwriter: our compound-file writer, checked by the spec's rules and by readers we did not write.

Every file written here is parsed by ``cfbrules`` (a raw [MS-CFB] parser written from
the spec for these tests) and read back by olefile at its default and its strict
setting; messages are also read by extract-msg. A 2 GiB stream is written only when
MSGSESS_BIG_TESTS=1 asks (to /dev/shm, skipped without room): see test_two_gib_streams.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import extract_msg
import olefile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msgsess import cfb, cfbwriter, model, oxmsg
from msgsess.errors import WriteFailed
from msgsess.props import ids
from msgsess.storage import FileSource, Storage, StreamSource

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import bench_codec  # the benchmark's OleWriter path: the reference writer
import cfbrules

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
MiB = 1 << 20


# --------------------------------------------------------------------------- helpers


class PatternSource:
    """A deterministic stream of any size, made up as it is read (no file, no memory)."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self._block = random.Random(seed).randbytes(MiB + 4096)
        self.reads = 0

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        self.reads += 1
        done = 0
        while done < self.size:
            n = min(chunk_size, MiB, self.size - done)
            start = done % 4096
            yield self._block[start : start + n]
            done += n

    def sha256(self) -> str:
        h = hashlib.sha256()
        for chunk in self.chunks(MiB):
            h.update(chunk)
        return h.hexdigest()


def ole_tree(data: bytes | Path, strict: bool) -> dict[str, object]:
    """What olefile reads: path -> bytes for streams, (clsid, created, modified) for storages.

    Walks olefile's parsed directory rather than opening by path: olefile looks names up
    with str.lower(), which is not the spec's case folding.
    """
    defects = olefile.DEFECT_INCORRECT if strict else olefile.DEFECT_FATAL
    src = str(data) if isinstance(data, Path) else io.BytesIO(data)
    out: dict[str, object] = {}
    with olefile.OleFileIO(src, raise_defects=defects) as ole:
        assert not ole.parsing_issues
        out[""] = (ole.root.clsid, ole.root.createTime, ole.root.modifyTime)
        stack = [(ole.root, "")]
        while stack:
            node, path = stack.pop()
            for kid in node.kids:
                kid_path = f"{path}{kid.name}"
                if kid.entry_type == olefile.STGTY_STORAGE:
                    out[kid_path] = (kid.clsid, kid.createTime, kid.modifyTime)
                    stack.append((kid, kid_path + "/"))
                else:
                    out[kid_path] = ole._open(kid.isectStart, kid.size).read() if kid.size else b""
    return out


def clsid_text(raw: bytes) -> str:
    if raw == bytes(16):
        return ""
    a, b, c = struct.unpack_from("<IHH", raw)
    return f"{a:08X}-{b:04X}-{c:04X}-{raw[8:10].hex().upper()}-{raw[10:].hex().upper()}"


def expected(tree: Storage) -> dict[str, object]:
    """The same view of a tree, to compare with :func:`ole_tree`."""
    out: dict[str, object] = {"": (clsid_text(tree.clsid), 0, tree.modified)}
    for path, entry in tree.walk():
        if isinstance(entry, Storage):
            out[path] = (clsid_text(entry.clsid), entry.created, entry.modified)
        elif isinstance(entry, bytes):
            out[path] = entry
        else:
            out[path] = b"".join(entry.chunks(MiB))
    return out


def rules_items(parsed: cfbrules.Parsed) -> dict[str, object]:
    out: dict[str, object] = {}
    for path, item in parsed.items.items():
        if item is None:
            clsid, created, modified = parsed.storages[path]
            out[path] = (clsid_text(clsid), created, modified)
        else:
            out[path] = item
    clsid, created, modified = parsed.storages[""]
    out[""] = (clsid_text(clsid), created, modified)
    return out


def check_all(tree: Storage, data: bytes) -> cfbrules.Parsed:
    """The spec's rules hold, and cfbrules, olefile (both settings) and msgsess read back ``tree``."""
    parsed = cfbrules.parse(data)
    want = expected(tree)
    assert rules_items(parsed) == want
    assert ole_tree(data, strict=False) == want
    assert ole_tree(data, strict=True) == want
    return parsed


def attachment_message(data: bytes | StreamSource) -> model.Message:
    """The benchmark's W3 message: a subject, a body, a recipient and one attachment."""
    msg: model.Message = bench_codec.build_messages("big", 1, data)[0]
    return msg


def extract_msg_digest(path: Path) -> str:
    msg = extract_msg.openMsg(str(path))
    try:
        assert msg.subject == "Benchmark message 0"
        (att,) = msg.attachments
        return hashlib.sha256(att.data).hexdigest()
    finally:
        msg.close()


# --------------------------------------------------------------------------- the checker itself


@pytest.mark.skipif(not (CORPUS / "msgreader").is_dir(), reason=f"no corpus at {CORPUS}")
def test_rules_checker_accepts_outlooks_own_files() -> None:
    """cfbrules, spec rules only, passes every file Outlook saved (so it checks the spec, not us)."""
    files = sorted((CORPUS / "msgreader").glob("*.msg"))
    assert len(files) > 30
    for path in files:
        parsed = cfbrules.parse(path.read_bytes(), ours=False)
        assert parsed.version == 3 and parsed.items


def test_rules_checker_catches_broken_trees() -> None:
    tree = Storage(entries={name: b"x" for name in ("a", "b", "c", "d", "e", "f")})
    data = bytearray(cfb.to_bytes(tree))
    cfbrules.parse(bytes(data))
    first_dir = struct.unpack_from("<I", data, 48)[0]
    base = 512 * (first_dir + 1)

    def entry(i: int) -> int:
        return base + 128 * i

    # Six siblings: ids 1..6 in order, a 3-level tree whose deepest level is red.
    colours = [data[entry(i) + 67] for i in range(1, 7)]
    assert colours.count(cfbrules.RED) == 3
    red = 1 + colours.index(cfbrules.RED)
    parent = next(
        i
        for i in range(1, 7)
        if red in struct.unpack_from("<II", data, entry(i) + 68) and data[entry(i) + 67] == cfbrules.BLACK
    )
    broken = bytearray(data)
    broken[entry(parent) + 67] = cfbrules.RED  # now a red parent of a red child
    with pytest.raises(cfbrules.Broken, match=r"two red|black"):
        cfbrules.parse(bytes(broken))
    broken = bytearray(data)
    broken[entry(1) : entry(1) + 2], broken[entry(6) : entry(6) + 2] = b"f\0", b"a\0"  # swap names
    with pytest.raises(cfbrules.Broken, match="out of order"):
        cfbrules.parse(bytes(broken))
    broken = bytearray(data)
    root_child = struct.unpack_from("<I", data, entry(0) + 76)[0]
    broken[entry(root_child) + 67] = cfbrules.RED
    with pytest.raises(cfbrules.Broken, match="MUST be black"):
        cfbrules.parse(bytes(broken))


# --------------------------------------------------------------------------- order and shape


def test_sibling_order_is_length_then_upper_case() -> None:
    # The example of oxmsg-facts §6: a small message's root children in [MS-CFB] order.
    names = [
        "__recip_version1.0_#00000000",
        "__properties_version1.0",
        "__substg1.0_0037001F",
        "__nameid_version1.0",
        "__substg1.0_001A001F",
    ]
    assert sorted(names, key=cfbwriter.sort_key) == [
        "__nameid_version1.0",
        "__substg1.0_001A001F",
        "__substg1.0_0037001F",
        "__properties_version1.0",
        "__recip_version1.0_#00000000",
    ]
    assert cfbwriter.sort_key("b") > cfbwriter.sort_key("A") > cfbwriter.sort_key("")
    assert cfbwriter.sort_key("Ab") == cfbwriter.sort_key("aB")
    assert cfbwriter.sort_key("é") == cfbwriter.sort_key("É")
    assert cfbwriter.sort_key("ß") == (1, "ß")  # no one-character upper case: unchanged
    assert cfbwriter.sort_key("ᾳ") == (1, "ᾼ")  # simple mapping: the title-case letter
    assert cfbwriter.sort_key("😀") == (2, "\ud83d\ude00")  # two UTF-16 code units, as they are
    assert cfbwriter.sort_key("😀") > cfbwriter.sort_key("z")


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 8, 15, 16, 100, 1000, 2049])
def test_sibling_trees_are_balanced_red_black_trees(n: int) -> None:
    tree = Storage(entries={f"s{i:05d}": b"" for i in range(n)})
    parsed = check_all(tree, cfb.to_bytes(tree))
    # A red-black tree of n nodes is at most 2·log2(n + 1) deep; ours are as shallow as can be.
    assert parsed.max_tree_depth == math.floor(math.log2(n)) + 1


def test_duplicate_names_are_refused() -> None:
    for pair in (("Name", "NAME"), ("é", "É"), ("K", "\u212a")):  # KELVIN SIGN lower-cases to k
        with pytest.raises(ValueError, match="case-insensitively"):
            cfbwriter.plan(Storage(entries=dict.fromkeys(pair, b"")))


@pytest.mark.parametrize("name", ["x" * 32, "😀" * 16, "", "a/b", "a\\b", "a:b", "a!b", "a\0b", "\ud800"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(ValueError, match="entry name"):
        cfbwriter.plan(Storage(entries={name: b""}))


def test_31_code_units_is_the_longest_name() -> None:
    tree = Storage(entries={"x" * 31: b"1", "😀" * 15 + "y": b"2"})
    check_all(tree, cfb.to_bytes(tree))


# --------------------------------------------------------------------------- random trees

# Names of every length and case, some outside the BMP (two code units each).
_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\\:!\0")
_NAMES = st.one_of(
    st.sampled_from(["__properties_version1.0", "__substg1.0_0037001F", "__nameid_version1.0", "A", "a"]),
    st.text(st.sampled_from("abcXYZ_09.#"), min_size=1, max_size=31),
    st.text(_CHARS, min_size=1, max_size=31),
).filter(lambda n: len(n.encode("utf-16-le")) <= 62)
_SIZES = st.one_of(
    st.sampled_from([0, 1, 63, 64, 65, 511, 512, 513, 4095, 4096, 4097, 8192]),
    st.integers(0, 20_000),
)
_STREAMS = st.builds(lambda size, seed: random.Random(seed).randbytes(size), _SIZES, st.integers(0, 1 << 30))
_TIMES = st.one_of(st.just(0), st.integers(0, (1 << 64) - 1))
_CLSIDS = st.one_of(st.just(bytes(16)), st.binary(min_size=16, max_size=16))


def _root(tree: Storage | bytes) -> Storage:
    """The root of a random tree; its creation time MUST be 0 ([MS-CFB] 2.6.1), so it is."""
    root = tree if isinstance(tree, Storage) else Storage(entries={"only": tree})
    root.created = 0
    return root


def _storage(children: list[tuple[str, object]], clsid: bytes, created: int, modified: int) -> Storage:
    node = Storage(clsid=clsid, created=created, modified=modified)
    taken: set[object] = set()
    for name, child in children:
        keys = {cfbwriter.sort_key(name), name.lower()}
        if keys & taken:
            continue  # a sibling already has this name, case-insensitively
        taken |= keys
        node.entries[name] = child  # type: ignore[assignment]
    return node


def _trees(names: st.SearchStrategy[str], max_leaves: int) -> st.SearchStrategy[Storage]:
    """Trees of storages and streams named from ``names``, nested as deep as the leaves allow."""

    def storages(inner: st.SearchStrategy[object]) -> st.SearchStrategy[Storage]:
        children = st.lists(st.tuples(names, inner), max_size=12)
        return st.builds(_storage, children, _CLSIDS, _TIMES, _TIMES)

    return st.recursive(_STREAMS, storages, max_leaves=max_leaves).map(_root)


_TREES = _trees(_NAMES, 60)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tree=_TREES, version=st.sampled_from([None, 4]))
def test_random_trees_read_back_equal(tree: Storage, version: int | None) -> None:
    planned = cfbwriter.plan(tree, version=version)
    buf = io.BytesIO()
    planned.write_to(buf)
    data = buf.getvalue()
    assert len(data) == planned.size
    parsed = check_all(tree, data)
    assert parsed.version == (version or 3)
    assert cfb.read_bytes(data) == tree


@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(count=st.integers(0, 3000), seed=st.integers(0, 1 << 30))
def test_many_siblings(count: int, seed: int) -> None:
    rnd = random.Random(seed)
    tree = Storage()
    for i in range(count):
        name = f"{rnd.choice(['__attach_version1.0_#', 'x', 'Ünïcode ', '😀'])}{i:08X}"[-31:]
        tree.entries[name] = rnd.choice([b"", b"ab", bytes(4096), bytes(70)])
    parsed = check_all(tree, cfb.to_bytes(tree))
    assert parsed.max_tree_depth <= 2 * math.log2(count + 1) + 1


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(levels=st.lists(st.tuples(_NAMES, _STREAMS), min_size=1, max_size=100))
def test_random_deep_nesting(levels: list[tuple[str, bytes]]) -> None:
    tree = Storage()
    node = tree
    for i, (name, data) in enumerate(levels):
        node = node.storage(name)
        following = levels[i + 1][0] if i + 1 < len(levels) else ""
        same = following.lower() == "data" or cfbwriter.sort_key(following) == cfbwriter.sort_key("data")
        node.entries["other" if same else "data"] = data  # beside the next level's storage
    check_all(tree, cfb.to_bytes(tree))


def test_deep_nesting() -> None:
    tree = Storage()
    node = tree
    for depth in range(60):
        node = node.storage(f"level {depth}")
        node.entries["data"] = bytes([depth]) * (depth * 100)
    check_all(tree, cfb.to_bytes(tree))
    assert cfb.read_bytes(cfb.to_bytes(tree)) == tree


# --------------------------------------------------------------------------- against OleWriter


def olewriter_bytes(tree: Storage) -> bytes:
    """The same tree through extract-msg's OleWriter (the writer msgsess used before)."""
    buf = io.BytesIO()
    bench_codec.olewriter_for(tree).write(buf)
    return buf.getvalue()


def _olewriter_view(data: bytes) -> dict[str, object]:
    view = ole_tree(data, strict=False)
    view[""] = view[""][:1]  # type: ignore[index]  # OleWriter sets no root times of its own
    return view


_ASCII_NAMES = st.text(st.sampled_from("abcdefXYZ_.#0123456789"), min_size=1, max_size=31)
_ASCII_TREES = _trees(_ASCII_NAMES, 40)


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_ASCII_TREES)
def test_same_streams_as_olewriter(tree: Storage) -> None:
    ours = cfb.to_bytes(tree)
    theirs = olewriter_bytes(tree)
    assert _olewriter_view(ours) == _olewriter_view(theirs)


def test_a_real_message_reads_the_same_from_both_writers(tmp_path: Path) -> None:
    from msgsess.composer import compose

    spec = {
        "subject": "Both writers",
        "body": "Hello\r\n",
        "to": ["Bob <bob@example.com>", "Eve <eve@example.com>"],
        "attachments": [{"data": "aGVsbG8=", "name": "a.txt"}, {"data": "QUJD" * 2000, "name": "b.bin"}],
    }
    tree = oxmsg.encode(compose(spec))
    paths = []
    for label, data in (("ours", cfb.to_bytes(tree)), ("theirs", olewriter_bytes(tree))):
        path = tmp_path / f"{label}.msg"
        path.write_bytes(data)
        paths.append(path)
    assert _olewriter_view(paths[0].read_bytes()) == _olewriter_view(paths[1].read_bytes())
    seen = []
    for path in paths:
        with extract_msg.openMsg(str(path)) as msg:
            seen.append((msg.subject, msg.body, [a.data for a in msg.attachments], len(msg.recipients)))
    assert seen[0] == seen[1]
    assert seen[0][0] == "Both writers" and len(seen[0][2][1]) == 6000


# --------------------------------------------------------------------------- DIFAT, big files


def _first_size_needing_difat() -> int:
    """Smallest attachment, in whole sectors, whose message needs a DIFAT sector."""
    lo, hi = 13_000, 14_500  # 109 FAT sectors map 109 × 128 sectors of 512 bytes (6.8 MiB)
    assert cfbwriter.plan(oxmsg.encode(attachment_message(PatternSource(lo * 512)))).difat_sectors == 0
    assert cfbwriter.plan(oxmsg.encode(attachment_message(PatternSource(hi * 512)))).difat_sectors == 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        planned = cfbwriter.plan(oxmsg.encode(attachment_message(PatternSource(mid * 512))))
        lo, hi = (lo, mid) if planned.difat_sectors else (mid, hi)
    return hi


def test_difat_boundary_plus_minus_one_sector(tmp_path: Path) -> None:
    edge = _first_size_needing_difat()
    for sectors, difat in ((edge - 1, 0), (edge, 1), (edge + 1, 1)):
        source = PatternSource(sectors * 512, seed=sectors)
        tree = oxmsg.encode(attachment_message(source))
        planned = cfbwriter.plan(tree)
        assert (planned.difat_sectors, planned.fat_sectors) == (difat, 109 + difat)
        target = tmp_path / f"edge{sectors}.msg"
        cfb.write_atomic(tree, target)
        data = target.read_bytes()
        parsed = cfbrules.parse(data)
        assert parsed.difat_sectors == difat
        attachment = "__attach_version1.0_#00000000/__substg1.0_37010102"
        assert hashlib.sha256(parsed.items[attachment] or b"").hexdigest() == source.sha256()
        view = ole_tree(target, strict=True)
        assert hashlib.sha256(view[attachment]).hexdigest() == source.sha256()  # type: ignore[arg-type]
        assert extract_msg_digest(target) == source.sha256()
        target.unlink()


def _peak_while_writing(tree: Storage, target: Path) -> int:
    tracemalloc.start()
    try:
        cfb.write_atomic(tree, target)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_sixty_mib_attachment_streams_from_a_file(tmp_path: Path) -> None:
    source_path = tmp_path / "attachment.bin"
    pattern = PatternSource(60 * MiB, seed=60)
    with open(source_path, "wb") as f:
        for chunk in pattern.chunks(MiB):
            f.write(chunk)
    digest = pattern.sha256()
    msg = attachment_message(FileSource.of(source_path))
    tree = oxmsg.encode(msg)
    stream = tree.storage("__attach_version1.0_#00000000").entries["__substg1.0_37010102"]
    assert stream is msg.attachments[0].props.value(ids.ATTACH_DATA)  # passed through, not read
    target = tmp_path / "sixty.msg"
    peak = _peak_while_writing(tree, target)
    assert peak < 8 * MiB, f"the writer held {peak} bytes for a 60 MiB attachment"
    data = target.read_bytes()
    parsed = cfbrules.parse(data)
    assert parsed.difat_sectors == 7  # 960 FAT sectors: 109 in the header, 851 in 7 DIFAT sectors
    view = ole_tree(target, strict=True)
    attachment = "__attach_version1.0_#00000000/__substg1.0_37010102"
    assert hashlib.sha256(view[attachment]).hexdigest() == digest  # type: ignore[arg-type]
    assert extract_msg_digest(target) == digest
    back = oxmsg.decode(cfb.read_bytes(data))
    assert hashlib.sha256(back.attachments[0].data or b"").hexdigest() == digest
    # The same bytes held in memory give the same file.
    in_memory = oxmsg.encode(attachment_message(source_path.read_bytes()))
    assert cfb.to_bytes(in_memory) == data


def _olefile_stream_digest(path: Path, name: list[str]) -> tuple[int, str]:
    """Version and SHA-256 of a stream as olefile maps it, read run by run (no 2 GiB in memory)."""
    with olefile.OleFileIO(str(path), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        entry = ole.direntries[ole._find(name)]
        fat, sector, size = ole.fat, ole.sectorsize, entry.size
        runs: list[list[int]] = []
        sect = entry.isectStart
        for _ in range(-(-size // sector)):
            if runs and runs[-1][0] + runs[-1][1] == sect:
                runs[-1][1] += 1
            else:
                runs.append([sect, 1])
            sect = fat[sect]
        assert sect == olefile.ENDOFCHAIN
        version = ole.dll_version
    h = hashlib.sha256()
    left = size
    with open(path, "rb") as f:
        for start, count in runs:
            f.seek(sector * (start + 1))
            todo = min(count * sector, left)
            while todo:
                chunk = f.read(min(todo, 8 * MiB))
                h.update(chunk)
                todo -= len(chunk)
                left -= len(chunk)
    return version, h.hexdigest()


BIG = os.environ.get("MSGSESS_BIG_TESTS") == "1"
V3_MAX = cfbwriter.MAX_V3_STREAM


@pytest.mark.skipif(not BIG, reason="set MSGSESS_BIG_TESTS=1 (writes 2 GiB)")
@pytest.mark.parametrize(("size", "version"), [(V3_MAX, 3), (V3_MAX + 1, 4)])
def test_two_gib_streams(size: int, version: int) -> None:
    """The largest version 3 stream, and one byte more (version 4), in a tmpfs; hashes compared."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shutil.disk_usage(shm).free < size + 512 * MiB:
        pytest.skip("no room for 2 GiB in /dev/shm")
    source = PatternSource(size, seed=2)
    tree = oxmsg.encode(attachment_message(source))
    target = shm / f"msgsess-test-{os.getpid()}-{version}.msg"
    try:
        peak = _peak_while_writing(tree, target)
        assert peak < 64 * MiB, f"the writer held {peak} bytes for a 2 GiB attachment"
        assert target.stat().st_size >= size
        name = ["__attach_version1.0_#00000000", "__substg1.0_37010102"]
        assert _olefile_stream_digest(target, name) == (version, source.sha256())
    finally:
        target.unlink(missing_ok=True)


# --------------------------------------------------------------------------- sources and errors


class LyingSource:
    def __init__(self, size: int, actual: int) -> None:
        self.size = size
        self._actual = actual

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        yield bytes(self._actual)


class FailingSource:
    size = 10_000

    def chunks(self, chunk_size: int) -> Iterator[bytes]:
        yield bytes(100)
        raise OSError(5, "Input/output error")


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (LyingSource(10_000, 9_999), "changed while it was written: only 9999 bytes instead of 10000"),
        (LyingSource(10_000, 10_001), "more bytes instead of 10000"),
        (LyingSource(100, 99), "only 99 bytes instead of 100"),  # a small one, in the mini stream
        (FailingSource(), "cannot read the data of stream sub/data: Input/output error"),
    ],
)
def test_a_source_that_breaks_its_word_fails_cleanly(tmp_path: Path, source: object, match: str) -> None:
    target = tmp_path / "keep.msg"
    target.write_bytes(b"old")
    tree = Storage()
    tree.storage("sub").entries["data"] = source  # type: ignore[assignment]
    with pytest.raises(WriteFailed, match=match):
        cfb.write_atomic(tree, target)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.msg"]


def test_a_source_is_read_once_and_only_when_written(tmp_path: Path) -> None:
    source = PatternSource(50_000)
    tree = Storage(entries={"big": source, "small": PatternSource(100)})
    planned = cfbwriter.plan(tree)
    assert source.reads == 0
    buf = io.BytesIO()
    planned.write_to(buf)
    assert source.reads == 1
    check_all(tree, buf.getvalue())


def test_output_is_deterministic_and_sources_equal_bytes() -> None:
    source = PatternSource(9_000, seed=9)
    held = b"".join(source.chunks(MiB))
    one = cfb.to_bytes(Storage(entries={"s": source, "t": held[:100]}, modified=5))
    two = cfb.to_bytes(Storage(entries={"t": held[:100], "s": held}, modified=5))
    assert one == two


def test_plan_refuses_bad_input_before_anything_is_written() -> None:
    with pytest.raises(TypeError, match="not bytes, StreamSource or Storage"):
        cfbwriter.plan(Storage(entries={"x": bytearray(3)}))  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="no valid size"):
        cfbwriter.plan(Storage(entries={"x": LyingSource(-1, 0)}))
    shared = Storage()
    with pytest.raises(ValueError, match="appears twice"):
        cfbwriter.plan(Storage(entries={"a": shared, "b": shared}))
    with pytest.raises(ValueError, match="version must be 3 or 4"):
        cfbwriter.plan(Storage(), version=5)
    from msgsess.errors import TooBig

    with pytest.raises(TooBig, match="version 3"):
        cfbwriter.plan(Storage(entries={"x": PatternSource(cfbwriter.MAX_V3_STREAM + 1)}), version=3)
    assert cfbwriter.plan(Storage(entries={"x": PatternSource(cfbwriter.MAX_V3_STREAM + 1)})).version == 4


def test_empty_tree() -> None:
    tree = Storage(clsid=cfb.MSG_CLSID, modified=7)
    data = cfb.to_bytes(tree)
    assert len(data) == 3 * 512  # header, one FAT sector, one directory sector
    check_all(tree, data)


# --------------------------------------------------------------------------- no extract-msg in the CLI


def test_commands_do_not_import_extract_msg(tmp_path: Path) -> None:
    """open, add, close, dump, check and show run without extract-msg loaded."""
    script = """
import sys
from msgsess.cli.main import main
sys.argv = ["msgsess", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    if exc.code:
        raise
assert "extract_msg" not in sys.modules, "extract_msg was imported"
assert "red_black_dict_mod" not in sys.modules
"""
    env = {**os.environ, "MSGSESS_LOCK_TIMEOUT": "30"}
    env.pop("SOURCE_DATE_EPOCH", None)
    session, out = tmp_path / "s.msgsess", tmp_path / "m.msg"
    steps = [
        ["open", str(session)],
        ["add", str(session), str(out), "--subject", "Hi", "--to", "bob@example.com", "--body", "x"],
        ["close", str(session)],
        ["dump", str(out)],
        ["check", str(out)],
    ]
    for args in steps:
        proc = subprocess.run(
            [sys.executable, "-c", script, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )
        assert proc.returncode == 0, (args, proc.stderr)
    assert out.exists()


class Trickle(io.RawIOBase):
    """A raw file that takes at most 1,000 bytes per write, as a raw file may."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        view = memoryview(b)  # type: ignore[arg-type]
        self.data += view[:1000]
        return min(1000, len(view))


def test_short_writes_of_a_raw_file_are_completed() -> None:
    tree = Storage(entries={"big": PatternSource(3 * MiB), "held": bytes(range(256)) * 5000, "s": b"x"})
    sink = Trickle()
    cfbwriter.plan(tree).write_to(sink)  # type: ignore[arg-type]
    assert bytes(sink.data) == cfb.to_bytes(tree)
