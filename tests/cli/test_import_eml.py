"""MIME mail into sessions: ``add --eml FILE|-`` (one message, changed by the other flags) and
``import`` (files, folders, mbox; resumable, all or nothing).

Outputs are written by ``close`` and read back with extract-msg (and xcheck's readers where
installed); the expected values come from Python's ``email`` parsing the same source.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import extract_msg
import pytest
from click.testing import Result

from msgsess import Session
from tests.conftest import Invoke, Run, ok, one_error, prop

pytestmark = pytest.mark.usefixtures("quiet_extract_msg")

PDF = b"%PDF-1.4\n% not a real document, but its bytes must survive\n" + bytes(range(256))


def eml(
    subject: str, body: str = "Hello", *, attach: bool = False, to: str = "Bob <bob@example.com>"
) -> bytes:
    m = EmailMessage(policy=SMTP)
    m["From"] = "Ann <ann@example.com>"
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = "Tue, 02 Jan 2024 03:04:05 +0000"
    m["Message-ID"] = f"<{abs(hash(subject))}@example.com>"
    m.set_content(body)
    if attach:
        m.add_attachment(PDF, maintype="application", subtype="pdf", filename="Bericht Ü.pdf")
    return m.as_bytes()


def mbox(*subjects: str) -> bytes:
    out = b""
    for subject in subjects:
        out += (
            b"From ann@example.com Tue Jan  2 03:04:05 2024\n" + eml(subject).replace(b"\r\n", b"\n") + b"\n"
        )
    return out


def read(path: Path) -> extract_msg.Message:
    msg = extract_msg.openMsg(str(path))
    assert isinstance(msg, extract_msg.Message)
    return msg


def ids_of(result: Result) -> list[str]:
    return ok(result).split()


def session_ids(invoke: Invoke, session: str = "s.session") -> list[str]:
    return [spec["id"] for spec in map(json.loads, ok(invoke("show", session, "--json")).splitlines())]


# --- add --eml -------------------------------------------------------------------------------


def test_add_eml_then_flags_change_it(invoke: Invoke, workdir: Path) -> None:
    source = eml("Quarterly numbers", "See the attachment.\n", attach=True)
    (workdir / "in.eml").write_bytes(source)
    ok(invoke("open", "s.session"))
    [msg_id] = ids_of(
        invoke(
            "add",
            "s.session",
            "out/q.msg",
            "--eml",
            "in.eml",
            "--subject",
            "Re-filed",
            "--cc",
            "zed@example.com",
        )
    )
    ok(invoke("set", "s.session", msg_id, "PidTagImportance", "2"))
    ok(invoke("close", "s.session"))
    parsed = email.message_from_bytes(source, policy=email.policy.default)
    with read(workdir / "out/q.msg") as msg:
        assert msg.subject == "Re-filed"
        assert msg.sender == "Ann <ann@example.com>"
        assert [(r.name, r.email, int(r.type)) for r in msg.recipients] == [
            ("Bob", "bob@example.com", 1),
            ("zed@example.com", "zed@example.com", 2),
        ]
        assert msg.body.replace("\r\n", "\n").strip() == parsed.get_body(("plain",)).get_content().strip()
        assert prop(msg, "00170003") == 2  # PR_IMPORTANCE, set after the add
        assert prop(msg, "0E070003") & 0x1 and not prop(msg, "0E070003") & 0x8  # read, not unsent
        [att] = msg.attachments
        assert att.longFilename == "Bericht Ü.pdf"
        assert hashlib.sha256(att.data).digest() == hashlib.sha256(PDF).digest()
        assert att.mimetype == "application/pdf"


def test_add_eml_from_stdin_through_a_real_process(run: Run, workdir: Path) -> None:
    assert run("open", "s.session").returncode == 0
    proc = run("add", "s.session", "piped.msg", "--eml", "-", input=eml("From a pipe").decode("ascii"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["m1"]
    assert proc.stderr == ""
    assert run("close", "s.session").returncode == 0
    with read(workdir / "piped.msg") as msg:
        assert msg.subject == "From a pipe"
        assert msg.to == "Bob <bob@example.com>"


def test_add_eml_refuses_what_is_no_mail_and_keeps_the_session(invoke: Invoke, workdir: Path) -> None:
    (workdir / "doc.pdf").write_bytes(PDF)
    ok(invoke("open", "s.session"))
    one_error(invoke("add", "s.session", "x.msg", "--eml", "doc.pdf"), 8, "doc.pdf", "not a mail message")
    one_error(invoke("add", "s.session", "x.msg", "--eml", "missing.eml"), 4, "missing.eml")
    assert session_ids(invoke) == []


def test_add_eml_warns_about_repairs_on_stderr(invoke: Invoke, workdir: Path) -> None:
    (workdir / "odd.eml").write_bytes(
        b"From: ann@example.com\nTo: bob@example.com\nSubject: odd\nDate: not a date\n"
        b"Content-Type: text/plain\n\ncaf\xe9\n"
    )
    ok(invoke("open", "s.session"))
    result = invoke("add", "s.session", "odd.msg", "--eml", "odd.eml")
    assert ids_of(result) == ["m1"]
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("msgsess: warning: m1: odd.eml: ") for line in lines), lines
    assert any("no date" in line for line in lines)
    quiet = invoke("add", "-q", "s.session", "odd2.msg", "--eml", "odd.eml")
    assert ids_of(quiet) == ["m2"] and quiet.stderr == ""


def test_add_eml_rows_are_the_mail_s_own_then_added(invoke: Invoke, workdir: Path) -> None:
    (workdir / "in.eml").write_bytes(eml("Rows", attach=True, to="Bob <bob@example.com>, carl@example.com"))
    (workdir / "extra.txt").write_text("more")
    ok(invoke("open", "s.session"))
    ok(invoke("add", "s.session", "rows.msg", "--eml", "in.eml", "--to", "dora@example.com"))
    ok(invoke("recipient", "s.session", "m1", "--remove", "0"))
    ok(invoke("detach", "s.session", "m1", "0"))
    ok(invoke("attach", "s.session", "m1", "extra.txt"))
    ok(invoke("close", "s.session"))
    with read(workdir / "rows.msg") as msg:
        assert [r.email for r in msg.recipients] == ["carl@example.com", "dora@example.com"]
        assert [a.longFilename for a in msg.attachments] == ["extra.txt"]


def test_add_json_eml_and_show_round_trip(invoke: Invoke, workdir: Path) -> None:
    (workdir / "in.eml").write_bytes(eml("Via JSON", attach=True))
    ok(invoke("open", "s.session"))
    spec = {"output": "a.msg", "eml": "in.eml", "importance": "high"}
    ok(invoke("add", "s.session", "--json", "-", input=json.dumps(spec)))
    [summary] = Session("s.session").show(data=False)
    assert summary["eml"]["original"]["subject"] == "Via JSON"
    assert summary["eml"]["size"] == len((workdir / "in.eml").read_bytes())
    saved = ok(invoke("show", "s.session", "--json"))
    (workdir / "in.eml").unlink()  # the session holds the bytes
    ok(invoke("open", "t.session"))
    again = json.loads(saved)
    again["output"] = str(workdir / "b.msg")
    del again["id"]
    ok(invoke("add", "t.session", "--json", "-", input=json.dumps(again)))
    ok(invoke("close", "s.session"))
    ok(invoke("close", "t.session"))
    with read(workdir / "a.msg") as a, read(workdir / "b.msg") as b:
        assert a.subject == b.subject == "Via JSON"
        assert prop(a, "00170003") == prop(b, "00170003") == 2
        assert [x.data for x in a.attachments] == [x.data for x in b.attachments] == [PDF]


def test_add_eml_with_json_is_a_usage_error(invoke: Invoke, workdir: Path) -> None:
    ok(invoke("open", "s.session"))
    one_error(invoke("add", "s.session", "--json", "-", "--eml", "x.eml", input="{}"), 2, "--eml")


def test_add_eml_into_an_ansi_session(invoke: Invoke, workdir: Path) -> None:
    (workdir / "in.eml").write_bytes(eml("Grüße aus Köln", "Schöne Grüße\n"))
    ok(invoke("open", "--ansi", "s.session"))
    ok(invoke("add", "s.session", "ansi.msg", "--eml", "in.eml"))
    ok(invoke("close", "s.session"))
    with read(workdir / "ansi.msg") as msg:
        assert not msg.areStringsUnicode
        assert msg.subject == "Grüße aus Köln"


# --- import ------------------------------------------------------------------------------------


def make_inputs(root: Path) -> None:
    (root / "in" / "sub").mkdir(parents=True)
    (root / "in" / "a.eml").write_bytes(eml("Alpha"))
    (root / "in" / "sub" / "b.eml").write_bytes(eml("Beta", attach=True))
    (root / "in" / "notes.txt").write_text("not mail, and not searched for")
    (root / "box.mbox").write_bytes(mbox("One", "Two", "Three"))


def subjects(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*.msg")):
        with read(path) as msg:
            found[path.relative_to(folder).as_posix()] = msg.subject
    return found


def test_import_folders_and_mbox(invoke: Invoke, workdir: Path) -> None:
    make_inputs(workdir)
    ok(invoke("open", "s.session"))
    result = invoke("import", "s.session", "in", "box.mbox", "--out-dir", "out")
    assert ids_of(result) == ["m1", "m2", "m3", "m4", "m5"]
    assert result.stderr == ""  # no terminal: no progress bar, no chatter
    ok(invoke("close", "s.session"))
    assert subjects(workdir / "out") == {
        "a.msg": "Alpha",
        "sub/b.msg": "Beta",
        "box-1.msg": "One",
        "box-2.msg": "Two",
        "box-3.msg": "Three",
    }
    with read(workdir / "out/sub/b.msg") as msg:
        assert [a.data for a in msg.attachments] == [PDF]


def test_import_without_out_dir_writes_beside_the_inputs(invoke: Invoke, workdir: Path) -> None:
    make_inputs(workdir)
    ok(invoke("open", "s.session"))
    ok(invoke("import", "s.session", "in", "box.mbox"))
    ok(invoke("close", "s.session"))
    assert subjects(workdir / "in") == {"a.msg": "Alpha", "sub/b.msg": "Beta"}
    assert (workdir / "box-2.msg").exists()


def test_import_is_resumable_and_replace_imports_again(invoke: Invoke, workdir: Path) -> None:
    make_inputs(workdir)
    ok(invoke("open", "s.session"))
    first = ids_of(invoke("import", "s.session", "in", "--out-dir", "out"))
    (workdir / "in" / "c.eml").write_bytes(eml("Gamma"))
    again = ids_of(invoke("import", "s.session", "in", "--out-dir", "out"))
    assert again == [first[0], "m3", first[1]]  # a.eml, c.eml, sub/b.eml: the old ones skipped
    (workdir / "in" / "a.eml").write_bytes(eml("Alpha, corrected"))
    replaced = ids_of(invoke("import", "s.session", "in/a.eml", "--out-dir", "out", "--replace"))
    assert replaced == first[:1]
    assert session_ids(invoke) == ["m1", "m2", "m3"]
    ok(invoke("close", "s.session"))
    assert subjects(workdir / "out")["a.msg"] == "Alpha, corrected"


def test_import_clash_adds_nothing(invoke: Invoke, workdir: Path) -> None:
    make_inputs(workdir)
    ok(invoke("open", "s.session"))
    ok(invoke("add", "s.session", "out/a.msg", "--subject", "mine"))
    one_error(invoke("import", "s.session", "in", "--out-dir", "out"), 10, "out/a.msg", "m1", "--replace")
    assert session_ids(invoke) == ["m1"]
    (workdir / "two").mkdir()
    (workdir / "two" / "a.eml").write_bytes(eml("Other alpha"))
    one_error(invoke("import", "s.session", "in", "two", "--out-dir", "x"), 10, "x/a.msg")
    # Two inputs of one import with one output clash even with --replace (it replaces older ones).
    one_error(invoke("import", "s.session", "in", "two", "--out-dir", "x", "--replace"), 10, "x/a.msg")
    assert session_ids(invoke) == ["m1"]


def test_import_refusals(invoke: Invoke, workdir: Path) -> None:
    make_inputs(workdir)
    (workdir / "bad.eml").write_bytes(PDF)
    ok(invoke("open", "s.session"))
    ok(invoke("add", "s.session", "x.msg", "--subject", "x"))
    ok(invoke("close", "s.session", "--keep"))
    one_error(invoke("import", "s.session", "in", "bad.eml", "--out-dir", "o"), 8, "bad.eml", "not a mail")
    one_error(invoke("import", "s.session", "nowhere", "--out-dir", "o"), 4, "nowhere")
    one_error(invoke("import", "s.session", "x.msg", "--out-dir", "o"), 3, "x.msg", "msgsess edit")
    one_error(invoke("import", "no.session", "in"), 5, "no.session")
    assert session_ids(invoke) == ["m1"]


def test_import_through_a_real_process(run: Run, workdir: Path) -> None:
    make_inputs(workdir)
    assert run("open", "s.session").returncode == 0
    proc = run("import", "s.session", "in", "box.mbox", "--out-dir", "out")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["m1", "m2", "m3", "m4", "m5"]
    assert proc.stderr == ""
    assert run("close", "s.session").returncode == 0
    assert len(subjects(workdir / "out")) == 5
    from tests import test_xcheck

    if test_xcheck.XCHECK is None:
        return  # the other readers are not installed here (CI installs them)
    problems = []
    for report in test_xcheck.xcheck_reports(sorted((workdir / "out").rglob("*.msg"))):
        if report["result"] != "PASS":
            problems.append(f"{report['file']}: readers failed: {report['failed_readers']}")
        agree = report.get("agree") or {}
        for field in agree.get("disagree", []):
            odd = test_xcheck._odd_readers(agree["values"][field])
            if not odd <= test_xcheck.KNOWN_QUIRKS.get(field, set()):
                problems.append(f"{report['file']}: {field} differs in {sorted(odd)}")
    assert not problems, "\n".join(problems)


def test_an_unchanged_import_is_the_converted_file(invoke: Invoke, workdir: Path) -> None:
    from msgsess import eml_to_msg

    source = eml("Same bytes", attach=True)
    (workdir / "in.eml").write_bytes(source)
    ok(invoke("open", "s.session"))
    ok(invoke("import", "s.session", "in.eml"))
    ok(invoke("close", "s.session"))
    assert (workdir / "in.msg").read_bytes() == eml_to_msg(source)


EML_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus-eml"


@pytest.mark.skipif(not EML_CORPUS.is_dir(), reason=f"no corpus at {EML_CORPUS}")
def test_importing_the_eml_corpus_gives_the_converted_files(invoke: Invoke, workdir: Path) -> None:
    """Every mail of ../shared/corpus-eml, imported into a session and closed unchanged, is the
    file convert makes of it; what is no mail is refused as convert refuses it, naming it."""
    from msgsess import eml_to_msg
    from msgsess.errors import CorruptFile

    mails, refused = [], []
    for path in sorted(EML_CORPUS.rglob("*.eml")):
        try:
            mails.append((path, eml_to_msg(path.read_bytes(), name=str(path))))
        except CorruptFile:
            refused.append(path)
    assert len(mails) > 90
    ok(invoke("open", "s.session"))
    for path in refused:
        one_error(invoke("import", "-q", "s.session", str(path), "--out-dir", "out"), 8, path.name)
    ids = ids_of(invoke("import", "-q", "s.session", *(str(p) for p, _ in mails), "--out-dir", "out"))
    assert len(ids) == len(mails)
    ok(invoke("close", "s.session"))
    for path, converted in mails:
        written = workdir / "out" / (path.stem + ".msg")
        assert written.read_bytes() == converted, path
