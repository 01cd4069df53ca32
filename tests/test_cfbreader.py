"""Our compound-file reader against olefile, the reference: the same streams and storages from
every corpus file, and on damaged files never more lenient (what olefile refuses, we refuse;
what we read, olefile reads the same)."""

from __future__ import annotations

import contextlib
import importlib.util
import random
import subprocess
import sys
import uuid
from pathlib import Path

import olefile
import pytest

from msgsess import cfbreader
from msgsess.errors import CorruptFile
from msgsess.storage import NULL_CLSID, Storage

_spec = importlib.util.spec_from_file_location("_mutants", Path(__file__).parent / "fuzz" / "mutants.py")
assert _spec is not None and _spec.loader is not None
mutants = importlib.util.module_from_spec(_spec)
sys.modules["_mutants"] = mutants
_spec.loader.exec_module(mutants)

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
SEEDS = sorted(CORPUS.rglob("*.msg")) if CORPUS.is_dir() else []
needs_corpus = pytest.mark.skipif(not SEEDS, reason=f"no corpus at {CORPUS}")
#: Damaged files per corpus file in the comparison below.
MUTANTS_PER_SEED = 12


def ours(tree: Storage, path: str = "") -> dict[str, tuple[str, bytes]]:
    """path -> ("storage", CLSID) or ("stream", bytes), every entry below ``tree``."""
    found: dict[str, tuple[str, bytes]] = {}
    for name, child in tree.entries.items():
        here = f"{path}{name}"
        if isinstance(child, Storage):
            found[here] = ("storage", child.clsid)
            found.update(ours(child, here + "/"))
        else:
            assert isinstance(child, bytes)
            found[here] = ("stream", child)
    return found


def olefile_reads(data: bytes) -> tuple[bytes, dict[str, tuple[str, bytes]]]:
    """The root CLSID and every entry as strict olefile reads them (raises on a defect), as
    msgsess read files with it before it had its own reader: olefile's tree of entries, its
    streams (an empty one is empty whatever its start sector), unallocated entries skipped."""
    with olefile.OleFileIO(data, raise_defects=olefile.DEFECT_INCORRECT) as ole:
        found: dict[str, tuple[str, bytes]] = {}
        pending = [(ole.root, "")]
        while pending:
            entry, path = pending.pop()
            for kid in entry.kids:
                here = f"{path}{kid.name}"
                if kid.entry_type == olefile.STGTY_STORAGE:
                    found[here] = ("storage", _bytes(kid.clsid))
                    pending.append((kid, here + "/"))
                elif kid.entry_type == olefile.STGTY_STREAM:
                    found[here] = ("stream", ole._open(kid.isectStart, kid.size).read() if kid.size else b"")
        return _bytes(ole.root.clsid), found


def _bytes(clsid: str) -> bytes:
    """olefile's CLSID text -> the 16 bytes a file holds ([MS-OXCDATA] 2.5.1 GUID order)."""
    return uuid.UUID(clsid).bytes_le if clsid else NULL_CLSID


def same_as_olefile(data: bytes, tree: Storage) -> None:
    root, theirs = olefile_reads(data)
    assert tree.clsid == root
    assert ours(tree) == theirs


@needs_corpus
@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_every_corpus_file_reads_as_olefile_reads_it(seed: Path) -> None:
    data = seed.read_bytes()
    tree = cfbreader.read_bytes(data, seed.name)
    same_as_olefile(data, tree)
    assert cfbreader.read_file(seed) == tree


@needs_corpus
@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_damaged_files_are_never_read_more_leniently_than_olefile_reads_them(seed: Path) -> None:
    source = seed.read_bytes()
    for number in range(MUTANTS_PER_SEED):
        rng = random.Random(f"cfbreader-{seed.name}-{number}")
        raw = bytearray(source)
        for _ in range(rng.choice([1, 1, 2, 3])):
            family = rng.choice(list(mutants.RAW_MUTATORS))
            with contextlib.suppress(ValueError, IndexError, ZeroDivisionError):  # nowhere to damage
                mutants.RAW_MUTATORS[family](mutants._Raw(raw), rng)
        data = bytes(raw)
        try:
            tree = cfbreader.read_bytes(data, "m.msg")
        except CorruptFile:
            continue  # refused: our own checks go beyond olefile's
        same_as_olefile(data, tree)  # read: olefile must read the same


def test_a_degenerate_sibling_chain_is_read(tmp_path: Path) -> None:
    """olefile walked the sibling trees recursively and ran out of stack on a chain of about a
    thousand siblings; ours walks with a stack of its own and reads it (every entry is loaded once,
    so the walk ends): dump reads it and check names the unbalanced tree, neither fails."""
    tree = Storage()
    for index in range(2000):
        tree.entries[f"s{index:04d}"] = b"x"
    from msgsess import cfb

    data = bytearray(cfb.to_bytes(tree))
    # Relink the root's children as one chain to the right. Our writer lays every chain out as
    # one run of sectors, so entry n of the directory is at a fixed place.
    first_dir = int.from_bytes(data[48:52], "little")
    count = len(tree.entries)

    def entry_at(sid: int) -> int:
        return 512 * (first_dir + 1) + 128 * sid

    names = sorted(tree.entries, key=lambda n: (len(n), n.upper()))
    by_name = {}
    for sid in range(1, count + 1):
        off = entry_at(sid)
        length = int.from_bytes(data[off + 64 : off + 66], "little")
        by_name[data[off : off + length - 2].decode("utf-16-le")] = sid
    chain = [by_name[n] for n in names]
    data[entry_at(0) + 76 : entry_at(0) + 80] = chain[0].to_bytes(4, "little")
    for here, after in zip(chain, [*chain[1:], 0xFFFFFFFF], strict=True):
        off = entry_at(here)
        data[off + 67] = 1  # black
        data[off + 68 : off + 72] = (0xFFFFFFFF).to_bytes(4, "little")
        data[off + 72 : off + 76] = after.to_bytes(4, "little")
    assert cfbreader.read_bytes(bytes(data), "deep.msg").entries == tree.entries
    (tmp_path / "deep.msg").write_bytes(bytes(data))
    for args in (["dump", "--json", "deep.msg"], ["check", "deep.msg"]):
        done = subprocess.run(
            [sys.executable, "-m", "msgsess", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert done.returncode in (0, 1, 8), done.stderr  # 8: not a message; never a crash


def test_the_default_limits_cannot_be_changed_in_place() -> None:
    """Every read defaults to DEFAULT_LIMITS: an assignment would change all later reads."""
    with pytest.raises(AttributeError):
        cfbreader.DEFAULT_LIMITS.max_total_bytes = 10  # type: ignore[misc]
    assert cfbreader.Limits() == cfbreader.DEFAULT_LIMITS
    assert cfbreader.Limits(max_depth=3) != cfbreader.DEFAULT_LIMITS
    assert repr(cfbreader.Limits(1, 2, 3)) == "Limits(max_depth=1, max_entries=2, max_total_bytes=3)"
    assert hash(cfbreader.Limits()) == hash(cfbreader.DEFAULT_LIMITS)
