"""Session blobs in and out in chunks (issue 11): capture while hashing, sources for close,
and sessions of the older format (WITHOUT ROWID blobs) refused with the way to rebuild them."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from msgsess import session as use
from msgsess.errors import SessionError
from msgsess.session.close import close
from msgsess.session.store import FORMAT_VERSION, BlobSource, transaction
from msgsess.storage import StreamSource


@pytest.fixture
def s(workdir: Path) -> str:
    use.open_session("s", ansi=False, codepage=None, force=False)
    return "s"


def blob_rows(session: str) -> list[tuple[str | None, int]]:
    with sqlite3.connect(session) as conn:
        rows = conn.execute("SELECT sha256, length(data) FROM blobs ORDER BY id").fetchall()
    conn.close()
    return rows


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_capture_copies_in_chunks_hashes_and_keeps_one_copy(s: str) -> None:
    data = bytes(range(256)) * 4099  # not a multiple of any chunk size
    sha = hashlib.sha256(data).hexdigest()
    with transaction(s, write=True) as store:
        assert store.capture(lambda: pieces(data, 1000), len(data)) == sha
        assert store.capture(lambda: pieces(data, 7777), len(data)) == sha  # the same bytes: not kept twice
        assert store.capture_file(io.BytesIO(data), len(data), chunk_size=4096) == sha
        assert store.blob(sha) == data
    assert blob_rows(s) == [(sha, len(data))]


def test_capture_of_bytes_that_do_not_match_their_size_keeps_nothing(s: str) -> None:
    with transaction(s, write=True) as store:
        assert store.capture(lambda: [b"abc"], 4) is None  # shrank
        assert store.capture(lambda: [b"abc", b"de"], 4) is None  # grew
        assert store.capture_file(io.BytesIO(b"abcdef"), 4) is None  # more than promised
        assert store.capture(lambda: [], 0) == hashlib.sha256(b"").hexdigest()
    assert blob_rows(s) == [(hashlib.sha256(b"").hexdigest(), 0)]


def test_a_blob_source_reads_in_chunks_while_its_transaction_is_open(s: str) -> None:
    data = b"0123456789" * 100_001
    with transaction(s, write=True) as store:
        sha = store.capture_file(io.BytesIO(data), len(data))
    assert sha is not None
    with transaction(s, write=False) as store:
        source = store.blob_source(sha)
        assert isinstance(source, StreamSource) and isinstance(source, BlobSource)
        assert source.size == len(data)
        chunks = list(source.chunks(65536))
        assert max(map(len, chunks)) == 65536 and b"".join(chunks) == data
        assert b"".join(source.chunks(1 << 20)) == data  # read again
        with pytest.raises(SessionError, match="missing from the session"):
            store.blob_source("0" * 64)


def test_a_large_file_goes_in_and_out_without_being_held(s: str, workdir: Path) -> None:
    size = 24 << 20
    with open("big.bin", "wb") as f:
        for i in range(size >> 20):
            f.write(bytes([i]) * (1 << 20))
    tracemalloc.start()
    try:
        with transaction(s, write=True) as store, open("big.bin", "rb") as f:
            sha = store.capture_file(f, size)
        _now, peak_in = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with transaction(s, write=False) as store:
            assert sha is not None
            for chunk in store.blob_source(sha).chunks(1 << 20):
                digest.update(chunk)
        _now, peak_out = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == sha == hashlib.sha256(Path("big.bin").read_bytes()).hexdigest()
    assert peak_in < 4 << 20 and peak_out < 4 << 20, (peak_in, peak_out)


def test_blobs_no_message_needs_are_still_deleted(s: str) -> None:
    import base64

    data = base64.b64encode(b"only a's").decode()
    use.add(s, [("", {"id": "a", "output": "a.msg", "attachments": [{"data": data, "name": "x"}]})])
    assert [size for _sha, size in blob_rows(s)] == [8]
    use.add(s, [("", {"id": "a", "output": "a.msg"})], replace=True)
    assert blob_rows(s) == []


# --- sessions of format 1 ------------------------------------------------------------------


def make_format_1(session: str) -> None:
    """Turn a session into the layout of format 1: blobs in a WITHOUT ROWID table."""
    conn = sqlite3.connect(session, isolation_level=None)
    try:
        conn.executescript(
            """
            BEGIN;
            CREATE TABLE old_blobs (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
            INSERT INTO old_blobs SELECT sha256, data FROM blobs;
            DROP TABLE blobs;
            ALTER TABLE old_blobs RENAME TO blobs;
            PRAGMA user_version = 1;
            COMMIT;
            """
        )
    finally:
        conn.close()


def test_a_session_of_format_1_is_read_and_discarded_but_never_written(s: str, workdir: Path) -> None:
    (workdir / "a.txt").write_bytes(b"attached bytes")
    use.add(s, [("", {"id": "a", "output": "a.msg", "subject": "old", "attachments": [{"file": "a.txt"}]})])
    make_format_1(s)
    before = Path(s).read_bytes()
    for command in (
        lambda: use.add(s, [("", {"subject": "new"})]),
        lambda: close(s),
        lambda: use.set_property(s, "a", "PidTagImportance", "2"),
    ):
        with pytest.raises(SessionError) as caught:
            command()
        text = str(caught.value)
        assert "\n" not in text and "older msgsess (format 1)" in text, text
        assert f"format {FORMAT_VERSION}" in text and "show --json" in (caught.value.hint or "")
    assert Path(s).read_bytes() == before
    saved = list(use.show(s))  # show still reads it: the way to rebuild it
    assert saved[0]["subject"] == "old" and saved[0]["attachments"][0]["data"]
    use.open_session("new", ansi=False, codepage=None, force=False)
    use.add("new", [("", json.loads(json.dumps(spec))) for spec in saved])
    assert list(use.show("new")) == saved
    use.discard(s)
    assert not Path(s).exists()


def test_the_cli_refuses_a_session_of_format_1_in_one_line(s: str, invoke: object) -> None:
    make_format_1(s)
    result = invoke("add", s, "b.msg", "--subject", "x")  # type: ignore[operator]
    assert result.exit_code == 5  # SessionError
    (line,) = result.stderr.strip().splitlines()
    assert "older msgsess (format 1)" in line and f"msgsess show --json {s} > saved.jsonl" in line


def test_close_copies_a_large_attachment_from_the_session_in_chunks(s: str, workdir: Path) -> None:
    size = 24 << 20
    with open("big.bin", "wb") as f:
        for i in range(size >> 20):
            f.write(bytes([i]) * (1 << 20))
    use.add(s, [("", {"output": "big.msg", "subject": "big", "attachments": [{"file": "big.bin"}]})])
    tracemalloc.start()
    try:
        close(s, jobs=1)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 << 20, peak  # chunks of the blob, never the whole attachment
    import extract_msg

    with extract_msg.openMsg(str(workdir / "big.msg")) as msg:
        assert (
            hashlib.sha256(msg.attachments[0].data).digest()
            == hashlib.sha256(Path("big.bin").read_bytes()).digest()
        )


def test_add_of_many_specs_stays_all_or_nothing_with_files_copied_in(s: str, workdir: Path) -> None:
    """Files larger than inputs.WHOLE are copied in when their spec is stored (inside the
    transaction): a later spec's error still leaves the session as it was, no blob behind."""
    from msgsess.errors import NotFound
    from msgsess.session.inputs import WHOLE

    Path("big.bin").write_bytes(b"b" * (WHOLE + 1))
    Path("small.bin").write_bytes(b"s" * 100)
    big = {"output": "a.msg", "attachments": [{"file": "big.bin"}]}
    data = {"output": "b.msg", "attachments": [{"data": "eHl6" * (WHOLE // 3 + 1)}]}
    missing = {"output": "c.msg", "attachments": [{"file": "small.bin"}, {"file": "gone.bin"}]}
    with pytest.raises(NotFound, match=r"^c\.msg: attachment 1: file gone\.bin does not exist$"):
        use.add(s, [("", big), ("", data), ("", missing)])
    assert blob_rows(s) == [] and use.message_ids(s) == []
    assert use.add(s, [("", big), ("", data), ("", {**missing, "attachments": missing["attachments"][:1]})])
    expected = [b"b" * (WHOLE + 1), b"xyz" * (WHOLE // 3 + 1), b"s" * 100]
    assert sorted(blob_rows(s)) == sorted((hashlib.sha256(b).hexdigest(), len(b)) for b in expected)
