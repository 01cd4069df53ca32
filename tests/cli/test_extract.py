"""``msgsess extract``: through a real process, read back with extract-msg and olefile."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import extract_msg
import olefile
import pytest

from tests.conftest import Invoke, Run

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus")


def _ok(proc: object) -> str:
    assert proc.returncode == 0, (proc.stdout, proc.stderr)  # type: ignore[attr-defined]
    return str(proc.stdout)  # type: ignore[attr-defined]


def _mail(run: Run, workdir: Path, names: list[str]) -> Path:
    """A .msg with one attachment per name (content: its number), an embedded message and an inline image."""
    _ok(run("open", "s"))
    _ok(run("add", "s", "--id", "inner", "--subject", "Inner: 1/2", "--body", "inside"))
    _ok(run("add", "s", "mail.msg", "--id", "m", "--subject", "outer"))
    (workdir / "in").mkdir()
    for number, name in enumerate(names):
        (workdir / "in" / "src").write_bytes(f"{number}".encode())
        _ok(run("attach", "s", "m", "in/src", "--name", name))
    (workdir / "in" / "logo.png").write_bytes(b"\x89PNG logo")
    _ok(run("attach", "s", "m", "in/logo.png", "--content-id", "logo@x", "--hidden"))
    _ok(run("attach", "s", "m", "--message", "inner"))
    _ok(run("close", "s"))
    return workdir / "mail.msg"


HOSTILE = [
    "../../x",
    "/etc/passwd",
    "C:\\evil\\y.txt",
    "CON",
    "nul.txt",
    "a\tb\x1b.txt",
    "Report.pdf",
    "report.PDF",
]


def test_extract_writes_every_attachment_safely_and_prints_paths(run: Run, workdir: Path) -> None:
    path = _mail(run, workdir, [*HOSTILE, "x" * 300 + ".txt"])
    out = _ok(run("extract", str(path), "-d", "att"))
    expected = [
        "x",
        "passwd",
        "y.txt",
        "_CON",
        "_nul.txt",
        "a_b_.txt",
        "Report.pdf",
        "report (2).PDF",
        "x" * 251 + ".txt",
        "logo.png",
        "Inner_ 1_2.msg",
    ]
    assert out.splitlines() == [os.path.join("att", name) for name in expected]
    assert sorted(os.listdir(workdir / "att")) == sorted(expected)
    assert not (workdir.parent / "x").exists() and not (workdir / "x").exists()
    for number, name in enumerate(expected[:9]):
        assert (workdir / "att" / name).read_bytes() == f"{number}".encode()
    with extract_msg.openMsg(str(workdir / "att" / "Inner_ 1_2.msg")) as inner:
        assert inner.subject == "Inner: 1/2" and inner.body.strip() == "inside"
    # Nothing to report but the line for the run: no error, no warning.
    checked = _ok(run("check", str(workdir / "att" / "Inner_ 1_2.msg")))
    assert checked.startswith("1 file: 0 errors, 0 warnings, ") and checked.count("\n") == 1


def test_default_folder_is_the_current_one(run: Run, workdir: Path) -> None:
    path = _mail(run, workdir, ["a.txt"])
    assert _ok(run("extract", str(path))).splitlines() == ["./a.txt", "./logo.png", "./Inner_ 1_2.msg"]
    assert (workdir / "a.txt").read_bytes() == b"0"


def test_existing_files_are_kept_unless_force(run: Run, workdir: Path) -> None:
    path = _mail(run, workdir, ["a.txt"])
    (workdir / "att").mkdir()
    (workdir / "att" / "logo.png").write_bytes(b"mine")
    proc = run("extract", str(path), "-d", "att")
    assert proc.returncode == 10 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"msgsess: error: {os.path.join('att', 'logo.png')} already exists "
        "(remove it, choose another folder, or add --force)"
    ]
    assert (
        os.listdir(workdir / "att") == ["logo.png"] and (workdir / "att" / "logo.png").read_bytes() == b"mine"
    )
    _ok(run("extract", str(path), "-d", "att", "--force"))
    assert (workdir / "att" / "logo.png").read_bytes() == b"\x89PNG logo"
    assert sorted(os.listdir(workdir / "att")) == ["Inner_ 1_2.msg", "a.txt", "logo.png"]


def test_json_lists_name_path_size_sha256_content_id_hidden(run: Run, workdir: Path) -> None:
    path = _mail(run, workdir, ["../a.txt"])
    rows = json.loads(_ok(run("extract", str(path), "-d", "o", "--json")))
    assert [r["path"] for r in rows] == [
        os.path.join("o", n) for n in ("a.txt", "logo.png", "Inner_ 1_2.msg")
    ]
    first, logo, inner = rows
    assert first == {
        "attachment": 0,
        "name": "../a.txt",
        "path": os.path.join("o", "a.txt"),
        "kind": "file",
        "size": 1,
        "sha256": hashlib.sha256(b"0").hexdigest(),
        "content_id": None,
        "hidden": False,
    }
    assert (logo["name"], logo["content_id"], logo["hidden"], logo["kind"]) == (
        "logo.png",
        "logo@x",
        True,
        "file",
    )
    data = (workdir / "o" / "Inner_ 1_2.msg").read_bytes()
    assert (inner["kind"], inner["size"], inner["sha256"]) == (
        "msg",
        len(data),
        hashlib.sha256(data).hexdigest(),
    )


def test_errors_are_one_line(run: Run, workdir: Path) -> None:
    proc = run("extract", "missing.msg")
    assert proc.returncode == 4 and proc.stderr.count("\n") == 1 and "missing.msg" in proc.stderr
    (workdir / "bad.msg").write_bytes(b"not a compound file")
    proc = run("extract", "bad.msg")
    assert proc.returncode == 8 and proc.stderr.count("\n") == 1 and "bad.msg" in proc.stderr
    path = _mail(run, workdir, ["a.txt"])
    (workdir / "plain").write_bytes(b"")
    proc = run("extract", str(path), "-d", "plain")
    assert proc.returncode == 9 and "not a folder" in proc.stderr


def test_embedded_messages_as_eml(run: Run, workdir: Path) -> None:
    import email
    from email import policy

    path = _mail(run, workdir, ["a.txt"])
    out = _ok(run("extract", str(path), "-d", "o", "--embedded", "eml", "--json"))
    rows = json.loads(out)
    assert [(r["path"], r["kind"]) for r in rows] == [
        (os.path.join("o", "a.txt"), "file"),
        (os.path.join("o", "logo.png"), "file"),
        (os.path.join("o", "Inner_ 1_2.eml"), "eml"),
    ]
    data = (workdir / "o" / "Inner_ 1_2.eml").read_bytes()
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert parsed["Subject"] == "Inner: 1/2"
    body = parsed.get_body(("plain",))
    assert body is not None and body.get_content().strip() == "inside"
    # The same bytes `msgsess export` writes for the embedded message as a file of its own.
    _ok(run("extract", str(path), "-d", "m"))
    exported = run("export", str(workdir / "m" / "Inner_ 1_2.msg"), "-o", "-")
    assert exported.returncode == 0 and exported.stdout.encode() == data


def test_a_message_without_attachments_writes_nothing(run: Run, workdir: Path) -> None:
    _ok(run("open", "s"))
    _ok(run("add", "s", "empty.msg", "--subject", "nothing"))
    _ok(run("close", "s"))
    assert _ok(run("extract", "empty.msg", "-d", "o")) == ""
    assert os.listdir(workdir / "o") == []


# --- the corpus: what extract-msg reads, and embedded messages that stand alone --------------


def _corpus() -> list[Path]:
    return sorted(CORPUS.rglob("*.msg")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not _corpus(), reason="../shared/corpus is not here")
def test_extract_over_the_corpus_matches_extract_msg(invoke: Invoke, run: Run, workdir: Path) -> None:
    embedded: list[Path] = []
    total = 0
    for number, path in enumerate(_corpus()):
        out = workdir / f"o{number}"
        result = invoke("extract", str(path), "-d", str(out), "--json")
        assert result.exit_code == 0, (path, result.stderr)
        rows = json.loads(result.stdout)
        with extract_msg.openMsg(str(path)) as msg:
            # A signed mail's attachments are read from its MIME part; its MAPI table is the raw one.
            theirs = list(getattr(msg, "rawAttachments", msg.attachments))
            assert len(rows) == len(theirs), path
            for row in rows:
                att = theirs[row["attachment"]]
                written = Path(row["path"]) if os.path.isabs(row["path"]) else workdir / row["path"]
                assert written.parent == out
                if row["kind"] == "file":
                    assert written.read_bytes() == att.data, (path, row)
                else:
                    assert row["kind"] == "msg"
                    embedded.append(written)
                    with extract_msg.openMsg(str(written)) as standalone:
                        assert (standalone.subject or "") == (att.data.subject or ""), (path, row)
                        assert len(standalone.attachments) == len(att.data.attachments)
                total += 1
    assert total > 30 and len(embedded) > 20
    # The same embedded messages as MIME: each .eml parses, with the subject extract-msg reads.
    import email
    from email import policy

    for number, path in enumerate(_corpus()):
        result = invoke(
            "extract", str(path), "-d", str(workdir / f"e{number}"), "--embedded", "eml", "--json"
        )
        assert result.exit_code == 0, (path, result.stderr)
        for row in json.loads(result.stdout):
            if row["kind"] == "eml":
                parsed = email.message_from_bytes(Path(row["path"]).read_bytes(), policy=policy.default)
                with extract_msg.openMsg(str(path)) as msg:
                    inner = list(getattr(msg, "rawAttachments", msg.attachments))[row["attachment"]].data
                    assert (parsed["Subject"] or "") == (inner.subject or ""), (path, row)
    proc = run("check", *map(str, embedded))
    assert proc.returncode == 0, proc.stdout
    for path in embedded:
        with olefile.OleFileIO(str(path)) as ole:
            assert ole.exists("__properties_version1.0") and ole.exists("__nameid_version1.0")


def test_ole_objects_and_links_through_the_command(run: Run, workdir: Path) -> None:
    from msgsess import cfb, oxmsg
    from msgsess.composer import compose
    from msgsess.model import Attachment
    from msgsess.props import ids
    from msgsess.props import types as t
    from msgsess.storage import Storage
    from tests.test_extract import _ole, _package

    msg = compose({"subject": "objects"})
    link = Attachment()
    link.props.set(ids.ATTACH_METHOD, t.PT_LONG, 4)
    link.props.set(ids.ATTACH_LONG_FILENAME, t.PT_UNICODE, "big.iso")
    link.props.set(0x370D, t.PT_UNICODE, "\\\\srv\\share\\big.iso")
    document = Storage({"\x01CompObj": b"c", "WordDocument": b"w" * 5000, "1Table": b"t"}, clsid=b"\x07" * 16)
    msg.attachments = [
        link,
        _ole(Storage({"\x01Ole10Native": _package("notes.txt", b"hello"), "\x01CompObj": b"c"})),
        _ole(document, "Document.doc"),
    ]
    cfb.write_atomic(oxmsg.encode(msg), workdir / "objects.msg")
    proc = run("extract", "objects.msg", "-d", "o")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [os.path.join("o", "notes.txt"), os.path.join("o", "Document.doc")]
    assert proc.stderr.splitlines() == [
        "msgsess: warning: objects.msg: attachment 0 (big.iso) is a link to \\\\srv\\share\\big.iso "
        "(by reference): nothing to extract"
    ]
    assert (workdir / "o" / "notes.txt").read_bytes() == b"hello"
    with olefile.OleFileIO(str(workdir / "o" / "Document.doc")) as ole:
        assert ole.openstream("WordDocument").read() == b"w" * 5000
        assert ole.root.clsid == "07070707-0707-0707-0707-070707070707".upper()
