"""close --jobs: the same files as one process, committed all or nothing, nothing left on failure."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import extract_msg
import olefile
import pytest

from msgsess import session as use
from msgsess.errors import WriteFailed
from msgsess.session import workers
from msgsess.session.close import close
from tests.conftest import slow_session

pytestmark = pytest.mark.skipif(not workers.available(), reason="no fork here")

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake image").decode()


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fill(session: str, workdir: Path, count: int = 40) -> None:
    """Messages of every kind close writes: plain, with files, embedding others, an edited file,
    HTML referring to a cid: nothing answers (a warning), in several folders."""
    use.open_session(session, ansi=False, codepage=None, force=True)
    (workdir / "report.pdf").write_bytes(bytes(range(256)) * 35)
    use.add(session, [("", {"id": "src", "output": "edited/src.msg", "subject": "To be edited"})])
    close(session, keep=True)
    use.open_session(session, ansi=False, codepage=None, force=True)
    specs: list[tuple[str, dict[str, Any]]] = [
        ("", {"id": "shared", "subject": "Embedded twice", "html": '<img src="cid:nowhere">'})
    ]
    for i in range(count):
        spec: dict[str, Any] = {
            "output": f"out/{i % 3}/m{i}.msg",
            "subject": f"Message {i}",
            "to": ["b@x.org"],
        }
        if i % 4 == 0:
            spec["attachments"] = [{"file": "report.pdf"}, {"data": PNG, "name": "p.png", "content_id": "p"}]
        if i in (5, 6):
            spec["attachments"] = [{"message": "shared"}]
        specs.append(("", spec))
    specs.append(
        ("", {"source": {"file": "edited/src.msg"}, "output": "edited/changed.msg", "subject": "Edited"})
    )
    use.add(session, specs)


def test_jobs_write_the_same_files_as_one_process(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    results = []
    for jobs in (1, 3):
        fill("s", workdir)
        warned: list[str] = []
        progress: list[tuple[int, int]] = []
        result = close("s", jobs=jobs, warn=warned.append, progress=lambda d, t, p=progress: p.append((d, t)))
        results.append((files(workdir / "out"), files(workdir / "edited"), result, warned, progress[-1]))
        for folder in ("out",):
            for path in (workdir / folder).rglob("*.msg"):
                path.unlink()
        (workdir / "edited" / "changed.msg").unlink()
    (one, edited_one, r1, w1, p1), (three, edited_three, r3, w3, p3) = results
    assert one == three and edited_one == edited_three
    assert len(one) == 40 and r1.count == r3.count == 41 and p1 == p3 == (41, 41)
    assert r1.written == r3.written  # in the session's order, whoever wrote them
    assert w1 == w3 and len(w3) == 1 and "cid:nowhere" in w3[0]  # embedded twice, warned once


def test_files_written_by_workers_open_in_other_readers(workdir: Path) -> None:
    fill("s", workdir, count=12)
    close("s", jobs=4)
    for path in sorted((workdir / "out").rglob("*.msg")):
        with olefile.OleFileIO(str(path), raise_defects=olefile.DEFECT_INCORRECT) as ole:
            assert ole.exists("__properties_version1.0")
        with extract_msg.openMsg(str(path)) as msg:
            assert msg.subject.startswith("Message ")
            if path.name == "m4.msg":
                assert msg.attachments[0].data == (workdir / "report.pdf").read_bytes()
            if path.name == "m5.msg":
                assert msg.attachments[0].data.subject == "Embedded twice"


def test_a_failure_in_one_worker_writes_nothing_and_leaves_no_temporary_file(workdir: Path) -> None:
    fill("s", workdir, count=30)
    for folder in ("0", "1"):
        (workdir / "out" / folder).mkdir(parents=True)
    os.mkfifo(workdir / "out" / "1" / "m22.msg")  # never replaced: m22's worker fails
    (workdir / "out" / "0" / "m3.msg").write_bytes(b"an old output")
    before = files(workdir)
    shown = [json.dumps(m) for m in use.show("s")]
    with pytest.raises(WriteFailed, match=r"m22\.msg.*not a file"):
        close("s", jobs=3)
    assert files(workdir) == before  # no temporary file, no output changed
    assert sorted(p.name for p in (workdir / "out").rglob(".*")) == []
    assert [json.dumps(m) for m in use.show("s")] == shown


def test_jobs_are_capped_by_the_messages(workdir: Path) -> None:
    use.open_session("s", ansi=False, codepage=None, force=False)
    use.add("s", [("", {"output": "a.msg", "subject": "only one"})])
    assert close("s", jobs=8).written == [workdir / "a.msg"]


def test_the_command_line_takes_jobs(run: Any, workdir: Path) -> None:
    assert run("open", "s").returncode == 0
    lines = "\n".join(json.dumps({"output": f"o/{i}.msg", "subject": f"n{i}"}) for i in range(20))
    assert run("add", "-q", "s", "--json", "-", input=lines).returncode == 0
    done = run("close", "s", "--jobs", "3")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (workdir / "o").iterdir()) == sorted(f"{i}.msg" for i in range(20))
    assert run("close", "t", "--jobs", "0").returncode == 2  # a usage error


def test_ctrl_c_to_the_whole_process_group_stops_close_and_its_workers(run: Any, workdir: Path) -> None:
    """A terminal sends SIGINT to every process of the group: workers leave it to close, which
    stops them, removes what they wrote and exits 130, the session unchanged."""
    before = slow_session(run, workdir, 12)
    proc = subprocess.Popen(
        [sys.executable, "-m", "msgsess", "close", "s", "--jobs", "2"], cwd=workdir, start_new_session=True
    )
    import time

    deadline = time.monotonic() + 60
    while not ((workdir / "out").exists() and list((workdir / "out").glob(".*.tmp"))):
        assert time.monotonic() < deadline and proc.poll() is None, "close finished before it was stopped"
        time.sleep(0.01)
    os.killpg(proc.pid, 2)  # SIGINT to close and its workers, as Ctrl-C does
    assert proc.wait(timeout=60) == 130
    left = sorted(p.name for p in (workdir / "out").iterdir()) if (workdir / "out").exists() else None
    assert left is None, left  # its temporary files gone, and the folder close made
    assert run("show", "s", "--json").stdout == before
