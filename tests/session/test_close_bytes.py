"""``close`` writes the same bytes for the same session and ``SOURCE_DATE_EPOCH``, whoever
changes how it gets there.

The SHA-256 of each output below was taken from the writer before issue 11's speed work on
close (main at 52bc790): a change that makes close faster must keep them. Every file is also
read back with olefile and extract-msg, so a change that alters them on purpose (a new default
property, a new layout) shows what it reads as before its hashes are updated here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import olefile
import pytest

import msgsess

#: Output -> SHA-256 of its bytes (SOURCE_DATE_EPOCH=1714557600).
EXPECTED = {
    "plain.msg": "c1ad4873ba0c9a2731f62b88467a49ff86b6ca2ef63f90f909e9bde00d4f9c78",
    "rich.msg": "c411cacc0199968813402591972edffe514fd70923a509f896940a473a082d7c",
    "outer.msg": "08d897ddcc73142a7a5386300b953b7c4fb703445d4a210f1242dba3fa150fe6",
    "form.oft": "1e0f358db86fb70c6b64df35dae390ed04691ee0ff4d435204428a9bb2435b42",
    "big.msg": "ba3ab5bcfb17373797ff664ff662cc3a65aee144479fe0609ebfdc5b693a3590",
    "edited.msg": "c8e7a52e6c48d1d7dc575d11dea205b58426f749a29f7b93eff37f1cc7889be2",
    "ansi.msg": "0bd17789d14a2afa05d84e3531538dcedd73761f78a6418be07ad80774137bd2",
}
SUBJECTS = {
    "plain.msg": "Report 1",
    "rich.msg": "RE: Quarterly numbers",
    "outer.msg": "Outer",
    "form.oft": "Weekly form",
    "big.msg": "Big attachment",
    "edited.msg": "Report 1 (edited)",
    "ansi.msg": "Отчёт",
}


def _build(folder: Path, jobs: int) -> None:
    """Sessions of every shape close writes: plain, HTML with attachments and recipients of every
    kind, an embedded message, a template, an attachment past 64 KiB (streamed from the session),
    an edited file, an ANSI message; the first session closed with ``jobs`` processes."""
    data = folder / "data"
    data.mkdir()
    (data / "notes.txt").write_bytes(b"some notes\n" * 40)
    (data / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3)
    (data / "big.bin").write_bytes(bytes(range(251)) * 400)  # 100,400 bytes
    out = folder / "out"
    s = msgsess.Session.create(folder / "a.session")
    s.add(
        output="out/plain.msg",
        subject="Report 1",
        from_="Alice Example <alice@example.com>",
        to=["Reader 1 <reader1@example.com>"],
        body="Hello reader 1,\nthe numbers are in.\n",
    )
    rich = s.add(
        output="out/rich.msg",
        subject="RE: Quarterly numbers",
        from_="Alice Example <alice@example.com>",
        sender="Assistant <assistant@example.com>",
        to=["Bob <bob@example.com>", "carol@example.com"],
        cc=["Dan <dan@example.com>"],
        bcc=["Eve <eve@example.com>"],
        reply_to=["Replies <replies@example.com>"],
        html='<p>Numbers attached. <img src="cid:logo"></p>',
        importance="high",
        categories=["Reports", "Q2"],
        draft=False,
        date="2024-05-01T08:30:00+02:00",
    )
    s.attach(rich, data / "notes.txt")
    s.attach(rich, data / "logo.png", content_id="logo")
    s.set(rich, "PS_PUBLIC_STRINGS:Tags", ["alpha", "beta"])
    outer = s.add(output="out/outer.msg", subject="Outer", body="see inside")
    inner = s.add(subject="Inner", body="an embedded message", to=["x@example.com"])
    s.attach(outer, message=inner)
    s.add(output="out/form.oft", subject="Weekly form", body="fill me in")
    big = s.add(output="out/big.msg", subject="Big attachment", body="a big one")
    s.attach(big, data / "big.bin")
    s.close(jobs=jobs)
    plain = out / "plain.msg"
    with msgsess.Session.create(folder / "e.session") as s:
        edited = s.edit(plain, output="out/edited.msg")
        s.set(edited, "PidTagSubject", "Report 1 (edited)")
        s.recipient(edited, "Second <second@example.com>", kind="cc")
    with msgsess.Session.create(folder / "n.session", unicode=False, codepage=1251) as s:
        s.add(output="out/ansi.msg", subject="Отчёт", body="Привет, мир", to=["Иван <ivan@example.com>"])


@pytest.mark.parametrize("jobs", [1, 2])
def test_close_writes_the_bytes_it_always_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int, quiet_extract_msg: None
) -> None:
    import extract_msg

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1714557600")
    monkeypatch.chdir(tmp_path)
    _build(tmp_path, jobs)
    got = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "out").iterdir()}
    for name, subject in SUBJECTS.items():
        path = tmp_path / "out" / name
        assert olefile.isOleFile(str(path))
        with olefile.OleFileIO(str(path), raise_defects=olefile.DEFECT_INCORRECT) as ole:
            assert ole.exists("__properties_version1.0")
        msg = extract_msg.openMsg(str(path))
        try:
            assert msg.subject == subject
        finally:
            msg.close()
    assert got == EXPECTED
