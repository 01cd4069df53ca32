"""msgsess.extract (pure: attachments -> safe names and contents) and msgsess.savedir (writing them)."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import extract_msg
import olefile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msgsess import cfb, oxmsg
from msgsess.composer import compose
from msgsess.errors import Collision, WriteFailed
from msgsess.extract import NAME_MAX, ole_package, plan, safe_name, unique_names
from msgsess.model import Attachment, Message
from msgsess.props import ids
from msgsess.props import types as t
from msgsess.savedir import save
from msgsess.storage import Storage

FALLBACK = "attachment 0.bin"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../x", "x"),
        ("..\\..\\x.txt", "x.txt"),
        ("/etc/passwd", "passwd"),
        ("C:\\Users\\bob\\report.pdf", "report.pdf"),
        ("C:report.pdf", "C_report.pdf"),
        ("\\\\server\\share\\f.doc", "f.doc"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("NUL", "_NUL"),
        ("nul .tar.gz", "_nul .tar.gz"),
        ("COM1.log", "_COM1.log"),
        ("LPT9", "_LPT9"),
        ("a\x00b.txt", "a_b.txt"),
        ("line\nbreak\r.txt", "line_break_.txt"),
        ("tab\there\x7f\x9b.txt", "tab_here__.txt"),
        ("evil\u202egnp.exe", "evil_gnp.exe"),
        ('a<b>c:d"e|f?g*.txt', "a_b_c_d_e_f_g_.txt"),
        ("  spaced  .txt  ", "spaced  .txt"),
        ("trailing dots...", "trailing dots"),
        (".profile", ".profile"),
        ("..", FALLBACK),
        ("...", FALLBACK),
        ("", FALLBACK),
        ("/", FALLBACK),
        ("../", FALLBACK),
        ("\x00\x01", FALLBACK),
        ("Cafe\u0301.txt", "Café.txt"),  # NFC
    ],
)
def test_hostile_names_become_one_safe_component(name: str, safe: str) -> None:
    assert safe_name(name, FALLBACK) == safe


def test_long_names_are_cut_to_255_bytes_keeping_the_extension() -> None:
    for char in ("x", "é", "語", "😀"):
        name = safe_name(char * 300 + ".pdf", FALLBACK)
        assert len(name.encode("utf-8")) <= NAME_MAX and name.endswith(".pdf")
        assert name.startswith(char * 10)
    # An absurd extension is cut like the rest.
    name = safe_name("a." + "b" * 400, FALLBACK)
    assert len(name.encode("utf-8")) <= NAME_MAX and name.startswith("a.bbb")


def test_subjects_keep_their_slashes_as_underscores() -> None:
    assert safe_name("RE: 1/2 done", "x.msg", path=False) == "RE_ 1_2 done"


def test_one_name_twice_and_names_differing_in_case_get_numbers() -> None:
    assert unique_names(["a.txt", "A.TXT", "a.txt", "a (2).txt", "b"]) == [
        "a.txt",
        "A (2).TXT",
        "a (3).txt",
        "a (2) (2).txt",
        "b",
    ]
    long = "x" * 251 + ".pdf"
    second = unique_names([long, long])[1]
    assert len(second.encode()) <= NAME_MAX and second.endswith(" (2).pdf")
    # Composed and decomposed forms are one name on macOS.
    assert unique_names(["Café", "Cafe\u0301"]) == ["Café", "Cafe\u0301 (2)"]


def _by_value(name: str, data: bytes, **props: object) -> Attachment:
    att = Attachment()
    att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE)
    att.props.set(ids.ATTACH_DATA, t.PT_BINARY, data)
    if name:
        att.props.set(ids.ATTACH_LONG_FILENAME, t.PT_UNICODE, name)
    for key, value in props.items():
        pid = {"cid": ids.ATTACH_CONTENT_ID, "ext": ids.ATTACH_EXTENSION}.get(key)
        if pid is not None:
            att.props.set(pid, t.PT_UNICODE, value)
        elif key == "hidden":
            att.props.set(ids.ATTACHMENT_HIDDEN, t.PT_BOOLEAN, value)
    return att


def _package(label: str, data: bytes) -> bytes:
    """An OLE 1 Package's native stream, laid out as Office writes it."""
    temp = b"C:\\Temp\\" + label.encode() + b"\0"
    body = (
        struct.pack("<H", 2)
        + label.encode()
        + b"\0"
        + b"C:\\src\\"
        + label.encode()
        + b"\0"
        + struct.pack("<II", 0x00030000, len(temp))
        + temp
        + struct.pack("<I", len(data))
        + data
    )
    return struct.pack("<I", len(body)) + body


def _ole(storage: Storage, name: str = "") -> Attachment:
    att = Attachment(custom=storage)
    att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_OLE)
    if name:
        att.props.set(ids.DISPLAY_NAME, t.PT_UNICODE, name)
    return att


def test_ole_package_is_read_and_garbage_is_not() -> None:
    assert ole_package(_package("notes.txt", b"hello")) == ("notes.txt", b"hello")
    assert ole_package(b"") is None
    assert ole_package(b"\x10\0\0\0\x01\0abc") is None
    assert ole_package(_package("x", b"12345")[:-3]) is None  # data cut short


def test_plan_gives_every_kind_its_contents() -> None:
    inner = compose({"subject": "Inner / note", "body": "inside"})
    embedded = Attachment(embedded=inner)
    embedded.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG)
    by_reference = Attachment()
    by_reference.props.set(ids.ATTACH_METHOD, t.PT_LONG, 4)
    by_reference.props.set(0x370D, t.PT_UNICODE, "\\\\server\\share\\big.iso")
    ole_storage = Storage({"\x01CompObj": b"c", "WordDocument": b"w", "1Table": b"t"}, clsid=b"\x06" * 16)
    msg = Message(
        attachments=[
            _by_value("logo.png", b"PNG", cid="logo@x", hidden=True),
            embedded,
            by_reference,
            _ole(Storage({"\x01Ole10Native": _package("notes.txt", b"hello"), "\x01CompObj": b"c"})),
            _ole(Storage({"\x01Ole10Native": struct.pack("<I", 3) + b"rawtail"}), "Picture"),
            _ole(Storage({"CONTENTS": b"dib", "\x03ObjInfo": b"i"}), "Bitmap Image"),
            _ole(ole_storage, "Document"),
            _by_value("", b"no name", ext=".csv"),
            Attachment(),
        ]
    )
    result = plan(msg)
    files = {f.number: f for f in result.files}
    assert [(s.number, s.reason) for s in result.skipped] == [
        (2, "is a link to \\\\server\\share\\big.iso (by reference)"),
        (8, "holds no data"),
    ]
    assert (files[0].filename, files[0].data, files[0].content_id, files[0].hidden) == (
        "logo.png",
        b"PNG",
        "logo@x",
        True,
    )
    assert files[1].filename == "Inner _ note.msg" and files[1].kind == "msg"
    assert isinstance(files[1].data, Storage)
    again = oxmsg.decode(cfb.read_bytes(cfb.to_bytes(files[1].data)))
    assert again.props.value(ids.SUBJECT) == "Inner / note"
    assert (files[3].filename, files[3].data, files[3].kind) == ("notes.txt", b"hello", "ole-data")
    assert (files[4].filename, files[4].data) == ("Picture", b"raw")
    assert (files[5].filename, files[5].data) == ("Bitmap Image", b"dib")
    assert files[6].filename == "Document" and files[6].data is ole_storage and files[6].kind == "ole"
    assert (files[7].filename, files[7].data) == ("attachment 7.csv", b"no name")


def test_an_ansi_embedded_message_stays_ansi_standalone(tmp_path: Path) -> None:
    inner = oxmsg.decode(oxmsg.encode(compose({"subject": "Привет"}), unicode=False, codepage=1251))
    att = Attachment(embedded=inner)
    att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_EMBEDDED_MSG)
    (out,) = plan(Message(attachments=[att])).files
    assert out.filename == "Привет.msg"
    (written,) = save(tmp_path, [(out.filename, out.data)])
    with olefile.OleFileIO(str(written.path)) as ole:
        assert ole.exists("__substg1.0_0037001E") and not ole.exists("__substg1.0_0037001F")
    with extract_msg.openMsg(str(written.path)) as msg:
        assert msg.subject == "Привет"


# --- savedir ---------------------------------------------------------------------------------


def test_save_writes_all_and_refuses_to_replace_without_force(tmp_path: Path) -> None:
    out = tmp_path / "new" / "folder"
    written = save(out, [("a.txt", b"A"), ("b.msg", Storage({"x": b"y"}))])
    assert [w.path for w in written] == [out / "a.txt", out / "b.msg"]
    assert (out / "a.txt").read_bytes() == b"A"
    with olefile.OleFileIO(str(out / "b.msg")) as ole:
        assert ole.openstream("x").read() == b"y"
    (out / "c.txt").write_bytes(b"mine")
    with pytest.raises(Collision, match=r"c\.txt already exists"):
        save(out, [("new.txt", b"N"), ("c.txt", b"C")])
    assert (out / "c.txt").read_bytes() == b"mine" and not (out / "new.txt").exists()
    assert sorted(os.listdir(out)) == ["a.txt", "b.msg", "c.txt"]  # no temporary file left
    save(out, [("c.txt", b"C")], force=True)
    assert (out / "c.txt").read_bytes() == b"C"


def test_force_replaces_a_symlink_not_its_target(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / "x").symlink_to(outside)
    with pytest.raises(Collision):
        save(out, [("x", b"new")])
    save(out, [("x", b"new")], force=True)
    assert outside.read_bytes() == b"keep"
    assert not (out / "x").is_symlink() and (out / "x").read_bytes() == b"new"


def test_a_folder_in_the_way_or_as_the_target_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(WriteFailed, match="it is a folder"):
        save(tmp_path, [("ok", b"1"), ("d", b"2")], force=True)
    assert not (tmp_path / "ok").exists()
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(WriteFailed, match="not a folder"):
        save(tmp_path / "file", [("a", b"")])


def test_a_failed_write_leaves_nothing_and_puts_back_what_it_replaced(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"old a")

    class Boom(Exception):
        pass

    class Exploding(bytes):
        pass

    import msgsess.savedir as savedir

    real = savedir._bytes

    def failing(data: bytes | Storage) -> bytes:
        if isinstance(data, Exploding):
            raise Boom
        return real(data)

    savedir._bytes = failing  # type: ignore[assignment]
    try:
        with pytest.raises(Boom):
            save(tmp_path, [("a", b"new a"), ("b", b"new b"), ("c", Exploding(b""))], force=True)
    finally:
        savedir._bytes = real  # type: ignore[assignment]
    assert sorted(os.listdir(tmp_path)) == ["a"] and (tmp_path / "a").read_bytes() == b"old a"


def test_names_that_are_no_plain_file_name_are_refused_here_too(tmp_path: Path) -> None:
    from msgsess.errors import InvalidParameter

    for bad in ("../x", "a/b", "..", ".", "", "a\0b"):
        with pytest.raises(InvalidParameter):
            save(tmp_path / "out", [(bad, b"")])
    assert list(tmp_path.rglob("*")) in ([], [tmp_path / "out"])


# --- fuzz: nothing is written outside DIR ----------------------------------------------------

_PIECES = st.sampled_from(
    ["..", ".", "/", "\\", "C:", "c:\\", "\\\\srv\\", "CON", "nul", "LPT1", "\x00", "\n", "\u202e", " ", "~"]
)
_NAMES = st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=8).map("".join) | st.text(max_size=300)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(_NAMES, min_size=1, max_size=6))
def test_fuzzed_attachment_names_never_leave_the_folder(
    tmp_path_factory: pytest.TempPathFactory, names: list[str]
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    out = root / "box" / "out"
    msg = Message(attachments=[_by_value(name, str(i).encode()) for i, name in enumerate(names)])
    result = plan(msg)
    written = save(out, [(f.filename, f.data) for f in result.files])
    assert len(written) == len(names)
    found = [p for p in root.rglob("*") if p.is_file() or p.is_symlink()]
    assert sorted(found) == sorted(out / f.filename for f in result.files)
    assert len({f.filename.casefold() for f in result.files}) == len(names)
    for f in result.files:
        assert len(f.filename.encode("utf-8")) <= NAME_MAX
        assert f.filename not in (".", "..") and "/" not in f.filename and "\\" not in f.filename
        assert not any(ord(c) < 32 for c in f.filename)
        assert (out / f.filename).read_bytes() == str(f.number).encode()
