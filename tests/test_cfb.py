"""msgsess.cfb: Storage trees to compound files and back, atomic writes, hostile input."""

from __future__ import annotations

import os
import resource
import signal
import struct
import sys
import threading
import time
from pathlib import Path

import extract_msg
import olefile
import pytest

from msgsess import cfb
from msgsess.errors import CorruptFile, NotFound, WriteFailed
from msgsess.storage import NULL_CLSID, Storage

ENDOFCHAIN = 0xFFFFFFFE
# [MS-CFB] 2.6.1 directory entry fields used by the patching helpers.
DIR_ENTRY = 128
DIR_START_SECTOR = 116
DIR_SIZE = 120


def props_stream(subject_len: int) -> bytes:
    """A top-level __properties_version1.0: 32-byte header, then PR_SUBJECT_W's entry."""
    header = bytes(32)  # reserved, next recipient/attachment id, counts: all 0
    entry = struct.pack("<IIII", 0x0037001F, 0x6, subject_len + 2, 0)
    return header + entry


def minimal_message(subject: str = "Hi") -> Storage:
    text = subject.encode("utf-16-le")
    tree = Storage(clsid=cfb.MSG_CLSID, modified=133_000_000_000_000_000)
    tree.entries["__properties_version1.0"] = props_stream(len(text))
    tree.entries["__substg1.0_0037001F"] = text
    tree.entries["__substg1.0_001A001F"] = "IPM.Note".encode("utf-16-le")
    nameid = tree.storage("__nameid_version1.0")
    for name in ("__substg1.0_00020102", "__substg1.0_00030102", "__substg1.0_00040102"):
        nameid.entries[name] = b""
    return tree


def ole_read(path: Path) -> dict[str, bytes]:
    with olefile.OleFileIO(str(path), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        return {"/".join(p): ole.openstream(p).read() for p in ole.listdir(streams=True)}


def streams_of(tree: Storage) -> dict[str, bytes]:
    return {path: entry for path, entry in tree.walk() if isinstance(entry, bytes)}


def no_temps(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------- round trips


def test_clsids_are_guid_byte_order() -> None:
    assert cfb.MSG_CLSID.hex() == "0b0d020000000000c000000000000046"
    assert cfb.OFT_CLSID.hex() == "46f0060000000000c000000000000046"


def test_round_trip_olefile_and_extract_msg(tmp_path: Path) -> None:
    tree = minimal_message("Hello there")
    att = tree.storage("__attach_version1.0_#00000000")
    att.clsid = bytes(range(16))
    att.created, att.modified = 132_000_000_000_000_000, 132_000_000_000_000_001
    att.entries["__properties_version1.0"] = bytes(8)
    att.entries["__substg1.0_37010102"] = b"payload" * 1000
    target = tmp_path / "m.msg"
    cfb.write_atomic(tree, target)

    assert ole_read(target) == streams_of(tree)
    with olefile.OleFileIO(str(target), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        assert ole.root.clsid == "00020D0B-0000-0000-C000-000000000046"
        assert ole.root.createTime == 0  # [MS-CFB] 2.6.1: MUST be 0
        assert ole.root.modifyTime == tree.modified
        entry = ole.direntries[ole._find("__attach_version1.0_#00000000")]
        assert entry.clsid == "03020100-0504-0706-0809-0A0B0C0D0E0F"
        assert (entry.createTime, entry.modifyTime) == (att.created, att.modified)
        assert entry.isectStart == 0  # storages: all zeroes

    msg = extract_msg.openMsg(str(target))
    try:
        assert msg.subject == "Hello there"
    finally:
        msg.close()

    back = cfb.read_file(target)
    assert back == tree
    assert cfb.read_bytes(target.read_bytes()) == tree


def test_to_bytes_and_write_stream_agree(tmp_path: Path) -> None:
    tree = minimal_message()
    data = cfb.to_bytes(tree)
    target = tmp_path / "s.msg"
    with open(target, "wb") as f:
        cfb.write_stream(tree, f)
    assert target.read_bytes() == data
    assert cfb.read_bytes(data) == tree


def test_oft_root_clsid(tmp_path: Path) -> None:
    tree = minimal_message()
    tree.clsid = cfb.OFT_CLSID
    target = tmp_path / "t.oft"
    cfb.write_atomic(tree, target)
    with olefile.OleFileIO(str(target)) as ole:
        assert ole.root.clsid == "0006F046-0000-0000-C000-000000000046"


def test_empty_streams_have_endofchain(tmp_path: Path) -> None:
    tree = Storage(clsid=cfb.MSG_CLSID)
    tree.entries["empty"] = b""
    tree.entries["one"] = b"1"
    sub = tree.storage("sub")
    sub.entries["also empty"] = b""
    target = tmp_path / "e.msg"
    cfb.write_atomic(tree, target)
    with olefile.OleFileIO(str(target), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        for path in (["empty"], ["sub", "also empty"]):
            entry = ole.direntries[ole._find(path)]
            assert (entry.size, entry.isectStart) == (0, ENDOFCHAIN)
    assert cfb.read_file(target) == tree


@pytest.mark.parametrize("size", [0, 1, 63, 64, 4095, 4096, 4097, 1 << 20])
def test_mini_and_regular_streams(tmp_path: Path, size: int) -> None:
    data = bytes((i * 7 + size) & 0xFF for i in range(size))
    tree = Storage(clsid=cfb.MSG_CLSID)
    tree.entries["a"] = data
    tree.entries["b"] = data[::-1]
    tree.storage("s").entries["c"] = data[: size // 2]
    target = tmp_path / "z.msg"
    cfb.write_atomic(tree, target)
    assert ole_read(target) == streams_of(tree)
    assert cfb.read_file(target) == tree


def test_many_siblings_stay_balanced(tmp_path: Path) -> None:
    tree = minimal_message()
    for i in range(2000):
        att = tree.storage(f"__attach_version1.0_#{i:08X}")
        # 8-byte header, then PR_ATTACH_METHOD = ATTACH_BY_VALUE.
        att.entries["__properties_version1.0"] = bytes(8) + struct.pack("<IIIi", 0x37050003, 6, 1, 0)
        att.entries["__substg1.0_37010102"] = b"%d" % i
    target = tmp_path / "many.msg"
    started = time.perf_counter()
    cfb.write_atomic(tree, target)
    assert time.perf_counter() - started < 2
    assert sys.getrecursionlimit() <= 1000  # readers at their default settings
    with olefile.OleFileIO(str(target), raise_defects=olefile.DEFECT_INCORRECT) as ole:
        storages = [p for p in ole.listdir(streams=False, storages=True) if len(p) == 1]
        assert len(storages) == 2001
    msg = extract_msg.openMsg(str(target))
    try:
        assert len(msg.attachments) == 2000
    finally:
        msg.close()
    assert cfb.read_file(target) == tree


def test_case_insensitive_sort_key_siblings(tmp_path: Path) -> None:
    tree = Storage()
    for name in ("b", "A", "aa", "Ab", "z" * 31):
        tree.entries[name] = name.encode()
    target = tmp_path / "k.bin"
    cfb.write_atomic(tree, target)
    assert ole_read(target) == streams_of(tree)


@pytest.mark.parametrize(
    "name",
    ["x" * 32, "", "a/b", "a\\b", "a:b", "a!b"],
)
def test_invalid_names_are_value_errors(tmp_path: Path, name: str) -> None:
    tree = Storage()
    tree.entries[name] = b"1"
    with pytest.raises(ValueError):
        cfb.write_atomic(tree, tmp_path / "n.msg")
    assert not (tmp_path / "n.msg").exists()
    assert no_temps(tmp_path)


def test_case_insensitive_duplicates_rejected(tmp_path: Path) -> None:
    tree = Storage()
    tree.storage("sub").entries.update({"Name": b"1", "NAME": b"2"})
    with pytest.raises(ValueError, match="case-insensitively"):
        cfb.to_bytes(tree)


# --------------------------------------------------------------------------- atomicity


def test_write_into_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(WriteFailed, match=r"missing/m\.msg.*No such file"):
        cfb.write_atomic(minimal_message(), tmp_path / "missing" / "m.msg")


def test_write_below_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(WriteFailed, match="Not a directory"):
        cfb.write_atomic(minimal_message(), tmp_path / "f" / "m.msg")


def test_failed_write_leaves_target_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "keep.msg"
    cfb.write_atomic(minimal_message("old"), target)
    old = target.read_bytes()

    big = minimal_message("new")
    big.entries["blob"] = bytes(200_000)
    # A real short write: the file-size limit makes write() fail with EFBIG mid-file.
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, hard))
    try:
        with pytest.raises(WriteFailed, match=r"keep\.msg"):
            cfb.write_atomic(big, target)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert target.read_bytes() == old
    assert no_temps(tmp_path)


def test_bad_tree_leaves_target_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "keep.msg"
    cfb.write_atomic(minimal_message("old"), target)
    old = target.read_bytes()
    tree = minimal_message("new")
    tree.storage("deep").entries["bad"] = 42  # type: ignore[assignment]
    with pytest.raises(TypeError):
        cfb.write_atomic(tree, target)
    assert target.read_bytes() == old
    assert no_temps(tmp_path)


def test_temp_commit_discard(tmp_path: Path) -> None:
    target = tmp_path / "t.msg"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    temp = cfb.write_temp(minimal_message(), target)
    assert temp.parent == tmp_path and temp.exists() and target.read_bytes() == b"old"
    cfb.discard(temp)
    cfb.discard(temp)  # twice is fine
    assert not temp.exists() and target.read_bytes() == b"old"
    temp = cfb.write_temp(minimal_message(), target)
    cfb.commit(temp, target)
    assert not temp.exists()
    assert os.stat(target).st_mode & 0o777 == 0o640  # keeps the replaced file's mode
    assert cfb.read_file(target) == minimal_message()


# --------------------------------------------------------------------------- hostile input


def written(tmp_path: Path, tree: Storage) -> bytearray:
    target = tmp_path / "src.msg"
    cfb.write_atomic(tree, target)
    return bytearray(target.read_bytes())


def dir_entry_offset(data: bytes | bytearray, name: str) -> int:
    """File offset of the directory entry ``name`` (directory in one sector chain)."""
    first_dir = struct.unpack_from("<I", data, 48)[0]
    fat_sector = struct.unpack_from("<I", data, 76)[0]
    fat = struct.unpack_from("<128I", data, 512 * (fat_sector + 1))
    raw = name.encode("utf-16-le")
    sect = first_dir
    while sect != ENDOFCHAIN:
        base = 512 * (sect + 1)
        for i in range(4):
            off = base + i * DIR_ENTRY
            length = struct.unpack_from("<H", data, off + 64)[0]
            if length == len(raw) + 2 and data[off : off + len(raw)] == raw:
                return off
        sect = fat[sect]
    raise AssertionError(name)


def corrupt(data: bytes | bytearray, match: str, limits: cfb.Limits = cfb.DEFAULT_LIMITS) -> None:
    started = time.perf_counter()
    with pytest.raises(CorruptFile, match=match) as info:
        cfb.read_bytes(bytes(data), "evil.msg", limits=limits)
    assert time.perf_counter() - started < 5
    message = info.value.one_line()
    assert "\n" not in message and message.startswith("evil.msg: ")


def test_not_a_compound_file() -> None:
    corrupt(b"From: someone\r\n\r\nhello" * 100, "not a compound file")
    corrupt(b"", "not a compound file")


def test_truncated(tmp_path: Path) -> None:
    tree = minimal_message()
    tree.entries["blob"] = bytes(range(256)) * 100
    data = written(tmp_path, tree)
    corrupt(data[:300], "truncated")
    corrupt(data[: len(data) // 2], "damaged")
    corrupt(data[:-600], "damaged")


def test_fat_loop(tmp_path: Path) -> None:
    tree = minimal_message()
    tree.entries["blob"] = bytes(8 * 512)
    data = written(tmp_path, tree)
    start = struct.unpack_from("<I", data, dir_entry_offset(data, "blob") + DIR_START_SECTOR)[0]
    fat_sector = struct.unpack_from("<I", data, 76)[0]
    # The blob's 4th sector points back to its 2nd.
    struct.pack_into("<I", data, 512 * (fat_sector + 1) + 4 * (start + 3), start + 1)
    corrupt(data, "loops")


def test_huge_declared_stream_size(tmp_path: Path) -> None:
    tree = minimal_message()
    tree.entries["blob"] = bytes(5000)
    data = written(tmp_path, tree)
    struct.pack_into("<I", data, dir_entry_offset(data, "blob") + DIR_SIZE, 0x7FFFFFF0)
    corrupt(data, "damaged")


def test_header_declares_too_many_fat_sectors(tmp_path: Path) -> None:
    data = written(tmp_path, minimal_message())
    struct.pack_into("<I", data, 44, 0xFFFFFFF0)
    corrupt(data, "FAT sectors")


def test_nested_storages_beyond_depth_limit(tmp_path: Path) -> None:
    tree = Storage()
    node = tree
    for _ in range(70):
        node = node.storage("s")
    node.entries["leaf"] = b"x"
    data = written(tmp_path, tree)
    corrupt(data, "deeper than 64")
    assert cfb.read_bytes(bytes(data), limits=cfb.Limits(max_depth=100)) == tree


def test_recursion_bomb(tmp_path: Path) -> None:
    tree = Storage()
    node = tree
    for _ in range(2000):
        node = node.storage("s")
    corrupt(written(tmp_path, tree), "too deep|deeper")


def test_entry_and_byte_limits(tmp_path: Path) -> None:
    tree = minimal_message()
    data = written(tmp_path, tree)
    corrupt(data, "directory entries", cfb.Limits(max_entries=3))
    corrupt(data, "in total", cfb.Limits(max_total_bytes=10))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"nope\.msg"):
        cfb.read_file(tmp_path / "nope.msg")


def test_storage_clsid_defaults_to_null(tmp_path: Path) -> None:
    tree = Storage()
    tree.storage("x")
    back = cfb.read_bytes(bytes(written(tmp_path, tree)))
    assert back.clsid == NULL_CLSID
    assert back.entries == {"x": Storage()}


def test_commit_all_puts_every_old_file_back_when_one_move_fails(tmp_path: Path) -> None:
    first, second, blocked = tmp_path / "a.msg", tmp_path / "new.msg", tmp_path / "c.msg"
    first.write_bytes(b"old a")
    tree = Storage(entries={"s": b"new"})
    temps = [(cfb.write_temp(tree, target), target) for target in (first, second, blocked)]
    blocked.mkdir()  # a folder appears where a file should go: the last move fails
    (blocked / "keep").write_text("x")
    with pytest.raises(WriteFailed):
        cfb.commit_all(temps)
    assert first.read_bytes() == b"old a"  # replaced, then restored
    assert not second.exists()  # created, then removed
    assert blocked.is_dir()
    for temp, _target in temps:
        cfb.discard(temp)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.msg", "c.msg"]  # no backups left


def test_commit_all_replaces_every_target_and_leaves_no_backup(tmp_path: Path) -> None:
    targets = [tmp_path / f"{n}.msg" for n in "abc"]
    targets[0].write_bytes(b"old")
    temps = [
        (cfb.write_temp(Storage(entries={"s": n.encode()}), t), t)
        for n, t in zip("abc", targets, strict=True)
    ]
    cfb.commit_all(temps)
    for name, target in zip("abc", targets, strict=True):
        assert cfb.read_file(target).entries["s"] == name.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.msg", "b.msg", "c.msg"]


def test_an_output_that_is_a_symlink_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.msg"
    real.write_bytes(b"old")
    link = tmp_path / "link.msg"
    link.symlink_to(real)
    cfb.write_atomic(Storage(entries={"s": b"new"}), link)
    assert link.is_symlink()
    assert cfb.read_file(real).entries["s"] == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.msg", "real.msg"]


def test_devices_fifos_and_folders_are_never_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.msg"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.msg"
    folder.mkdir()
    for target in (fifo, folder, Path(os.devnull)):
        with pytest.raises(WriteFailed, match="not a file"):
            cfb.write_atomic(Storage(entries={"s": b"x"}), target)
    assert fifo.is_fifo() and folder.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.msg", "pipe.msg"]


def test_a_failing_created_callback_leaves_the_signal_mask_as_it_was(tmp_path: Path) -> None:
    """The stopping signals held around the creation of a temporary file are released whatever
    ``created`` does: a library caller (or a test process) must stay stoppable by SIGTERM and
    Ctrl-C, and the processes it forks must not inherit blocked signals."""
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])

    def refuse(path: str) -> None:
        raise RuntimeError(f"no room to note {path}")

    with pytest.raises(RuntimeError, match="no room to note"):
        cfb.write_temp_name(Storage(entries={"s": b"x"}), tmp_path / "out.msg", created=refuse)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone too


def test_signals_held_over_a_run_are_handled_every_few_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """close holds SIGTERM/SIGINT/SIGHUP over its run of files, not around each (two system calls
    a file): a signal that comes is handled at the next ``breathe`` that lets them through, never
    between the creation of a file and the moment it is recorded; the mask is restored after."""
    monkeypatch.setattr(cfb, "BREATHE_SECONDS", 3600.0)  # files alone count here (time: below)
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    taken: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: taken.append(signum))
    recorded: list[str] = []
    try:
        with cfb.signals_held() as breathe:
            assert signal.SIGHUP in signal.pthread_sigmask(signal.SIG_BLOCK, [])
            for i in range(cfb.BREATHE_EVERY):
                cfb.write_temp_name(
                    Storage(entries={"s": b"x"}), tmp_path / f"m{i}.msg", created=recorded.append
                )
                if i == 0:  # to this thread: another one (the test's watchdog) does not block it
                    signal.pthread_kill(threading.get_ident(), signal.SIGHUP)
                    time.sleep(0.01)  # a signal not held would have been handled by now
                assert taken == [] or i == cfb.BREATHE_EVERY - 1
                breathe()
            assert taken == [signal.SIGHUP]  # let through at the BREATHE_EVERY-th file
            assert signal.SIGHUP in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # and held again
    finally:
        signal.signal(signal.SIGHUP, previous)
        for temp in recorded:
            cfb.discard(temp)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before
    assert len(recorded) == cfb.BREATHE_EVERY


def test_signals_held_lets_a_signal_through_when_the_run_ends(tmp_path: Path) -> None:
    taken: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: taken.append(signum))
    try:
        with cfb.signals_held():
            signal.pthread_kill(threading.get_ident(), signal.SIGHUP)
            assert taken == []
        assert taken == [signal.SIGHUP]
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_temporary_names_differ_in_a_forked_process(tmp_path: Path) -> None:
    """Temporary names count from a random start per process (no system call per file); a
    forked ``close --jobs`` worker starts from its own."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next number, to the parent
        try:
            os.write(write, cfb._next_suffix().to_bytes(4, "little"))
        finally:
            os._exit(0)
    os.close(write)
    child = int.from_bytes(os.read(read, 4), "little")
    os.close(read)
    os.waitpid(pid, 0)
    mine = cfb._next_suffix()
    assert child != mine
    assert cfb._next_suffix() == (mine + 1) & 0xFFFFFFFF
    temp = cfb.write_temp_name(Storage(entries={"s": b"x"}), tmp_path / "out.msg")
    assert Path(temp).name == f".out.msg.{(mine + 2) & 0xFFFFFFFF:08x}.tmp"
    cfb.discard(temp)


@pytest.mark.parametrize("noreplace", [True, False])
def test_a_link_planted_in_a_folder_the_batch_made_is_still_seen_at_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, noreplace: bool
) -> None:
    """An output in a folder close made is written without looking at it first (nothing can be
    there); the commit looks at it all the same, so a link put there meanwhile is followed under
    the usual rules and stays a link, and a file put there is replaced whole, never half."""
    if not noreplace:  # a system without renameat2(RENAME_NOREPLACE): look, then rename
        monkeypatch.setattr(cfb, "_renameat2", False)
    folder = tmp_path / "new"
    real = tmp_path / "real.msg"
    real.write_bytes(b"old")
    with cfb.batch():
        folder.mkdir()
        cfb.made_folder(str(folder))
        temps = [
            (
                cfb.write_temp_name(Storage(entries={"s": name.encode()}), folder / f"{name}.msg"),
                folder / f"{name}.msg",
            )
            for name in ("a", "b", "c")
        ]
        (folder / "a.msg").symlink_to(real)  # planted after the temporary file was written
        (folder / "b.msg").write_bytes(b"theirs")
        cfb.commit_all(temps, marked=True)
    assert (folder / "a.msg").is_symlink()
    assert cfb.read_file(real).entries["s"] == b"a"
    assert cfb.read_file(folder / "b.msg").entries["s"] == b"b"
    assert cfb.read_file(folder / "c.msg").entries["s"] == b"c"  # nothing was there
    assert sorted(p.name for p in folder.iterdir()) == ["a.msg", "b.msg", "c.msg"]


def test_outputs_renamed_into_a_folder_the_batch_made_are_removed_when_one_fails(tmp_path: Path) -> None:
    folder = tmp_path / "new"
    with cfb.batch():
        folder.mkdir()
        cfb.made_folder(str(folder))
        temps = [
            (
                cfb.write_temp_name(Storage(entries={"s": b"x"}), folder / f"{name}.msg"),
                folder / f"{name}.msg",
            )
            for name in ("a", "b", "c")
        ]
        (folder / "c.msg").mkdir()  # a folder appears where the last file should go
        with pytest.raises(WriteFailed, match="not a file"):
            cfb.commit_all(temps, marked=True)
    assert not (folder / "a.msg").exists() and not (folder / "b.msg").exists()  # moved, then removed
    for temp, _target in temps:
        cfb.discard(temp)
    assert [p.name for p in folder.iterdir()] == ["c.msg"]


def test_held_signals_are_let_through_once_time_has_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of large or synced files does not wait for BREATHE_EVERY of them: time counts too."""
    monkeypatch.setattr(cfb, "BREATHE_SECONDS", 0.0)
    taken: list[int] = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: taken.append(signum))
    try:
        with cfb.signals_held() as breathe:
            signal.pthread_kill(threading.get_ident(), signal.SIGHUP)
            assert taken == []
            breathe()  # the first file: time has passed
            assert taken == [signal.SIGHUP]
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_the_writers_caches_stay_small_for_ever_new_large_trees() -> None:
    """Shapes of many entries (mail to hundreds of recipients) are not kept: a batch of ever
    new large shapes does not make the writer's memory grow."""
    from msgsess import cfbwriter

    for n in range(300, 340):
        tree = Storage(entries={f"s{i:04d}": b"x" * 70 for i in range(n)})
        assert cfbwriter.plan(tree).size > 0
    for n in range(1, 300):
        cfbwriter.plan(Storage(entries={f"t{i:03d}": b"" for i in range(n)}))
    assert cfbwriter._skeleton_entries <= cfbwriter._MOST_SKELETON_ENTRIES
    assert sum(s.count for s in cfbwriter._skeletons.values()) == cfbwriter._skeleton_entries
