#!/usr/bin/env python
"""Benchmark: issue 11's table, end to end, through the real CLI as processes.

Usage: python benchmarks/bench_e2e.py [--quick] [--runs N] [--keep DIR] [--venv DIR]
                                      [--isoft-python PY] [--xcheck PATH] [--json-out FILE]
                                      [--only ROWS] [--before-venv DIR]

Every row of the table is a ratio measured in this run (see benchmarks/README.md):

  W1     1,000 small mails: `open` + `add --json` + `close`, three processes, against
         independentsoft.msg writing the same mails (a process: import, build, save) and
         against bare extract-msg OleWriter writing our outputs' streams (its writing alone)
  W1     `close` alone against the same OleWriter time
  W3     one 200 MB attachment: `close` against OleWriter, and the peak RSS of `close`,
         `add --attach` and `attach` against the size of the file
  W4     one message of 2,000 attachments of 5 KB: `close` against OleWriter
  start  `msgsess add` of one message, `dump`, `check` and `edit` of one file, `open`, each
         against `python -c pass` (medians of --runs, alternated), by wall clock and by CPU
         time; --before-venv DIR alternates the same runs of another install (before/after)
  50k    `add --json` of 50,000 messages (and of 100 messages of 2 MB attachments): peak RSS;
         `close` of those 50,000: messages per second, peak RSS against the close of W1's 1,000

Processes are timed by wall clock; their peak RSS is ru_maxrss from os.wait4 (children they
reaped included). The driver stays small (no msgsess import, no big buffers), since a child's
ru_maxrss starts from its parent's at the fork. Start-up ratios need a non-editable install:
when this interpreter's msgsess is editable (or missing), a temporary virtual environment
with `pip install .` is built and used for every msgsess process (--venv DIR keeps one).

Every output is read back with olefile (default and strict) and extract-msg, attachments
compared by SHA-256 (a sample of the 50,000); --xcheck runs xcheck --summary over a sample.
Exits non-zero only on errors; a goal not met prints MISSED.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MB = 1 << 20

FULL = {"w1": 1000, "w3": 200 * MB, "w4": 2000, "bulk": 50_000, "atts": 100, "att_size": 2 * MB}
QUICK = {"w1": 200, "w3": 20 * MB, "w4": 500, "bulk": 5_000, "atts": 20, "att_size": 1 * MB}

#: Goals of issue 11 (ratios; the memory ones against the file or a fixed size).
GOAL_W1_ISOFT = 0.9
GOAL_W1_CLOSE = 0.6
GOAL_W3_CLOSE = 1.0
GOAL_W3_PEAK = 0.25
GOAL_W4_CLOSE = 0.15
GOAL_ADD_START = 4.0
GOAL_READ_START = 6.0
GOAL_JSON_PEAK = 80 * MB
GOAL_CLOSE_RATE = 3000.0
#: "Memory flat": the close of 50,000 messages may peak this much above the close of 1,000.
GOAL_CLOSE_GROWTH = 8 * MB


# --------------------------------------------------------------------------- processes


@dataclass
class Run:
    seconds: float
    peak: int  # bytes (ru_maxrss)
    stdout: str
    cpu: float = 0.0  # seconds of CPU, user + system (os.wait4): what a loaded machine moves least


def measure(
    cmd: list[str], cwd: Path, *, stdin: Path | None = None, env: dict[str, str] | None = None
) -> Run:
    """Run ``cmd`` to completion: wall time and peak RSS (os.wait4). A failure is an error."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        src = open(stdin, "rb") if stdin else subprocess.DEVNULL  # noqa: SIM115
        try:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=cwd, stdin=src, stdout=out, stderr=err, env=env or child_env())
            _pid, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped
        finally:
            if stdin:
                src.close()  # type: ignore[union-attr]
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        shown = " ".join(cmd)[:300]
        raise RuntimeError(f"{shown} failed ({proc.returncode}): {stderr.strip()[-800:]}")
    scale = 1 if sys.platform == "darwin" else 1024
    return Run(seconds, usage.ru_maxrss * scale, stdout, usage.ru_utime + usage.ru_stime)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # children use (and write) __pycache__, as users' do
    env.pop("SOURCE_DATE_EPOCH", None)
    env.pop("PYTHONPATH", None)
    env["MSGSESS_LOCK_TIMEOUT"] = "120"
    return env


def median(values: list[float]) -> float:
    return statistics.median(values)


# --------------------------------------------------------------------------- the install


@dataclass
class Install:
    python: str
    msgsess: list[str]
    note: str
    temp: Path | None = None


def _editable_or_missing(python: str) -> str | None:
    """Why ``python``'s msgsess cannot give honest start-up numbers (editable, missing), or None."""
    probe = (
        "import json, importlib.metadata as m\n"
        "try:\n d = m.distribution('msgsess')\n"
        "except m.PackageNotFoundError:\n print('missing'); raise SystemExit\n"
        "u = d.read_text('direct_url.json')\n"
        "print('editable' if u and json.loads(u).get('dir_info', {}).get('editable') else 'ok')\n"
    )
    # -I: not the current folder, where a checkout's msgsess.egg-info would answer instead.
    proc = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True, check=False)
    state = proc.stdout.strip() or "missing"
    return None if state == "ok" else state


def find_install(venv: Path | None, work: Path) -> Install:
    if venv is not None and (venv / "bin" / "msgsess").exists():
        python = str(venv / "bin" / "python")
        why = _editable_or_missing(python)
        if why is None:
            return Install(python, [str(venv / "bin" / "msgsess")], f"non-editable install in {venv}")
        print(f"note: {venv} has an {why} msgsess; installing it again", file=sys.stderr)
    why = _editable_or_missing(sys.executable)
    if why is None and venv is None:
        script = Path(sys.executable).with_name("msgsess")
        if script.exists():
            return Install(sys.executable, [str(script)], f"non-editable install of {sys.executable}")
    target = venv or work / "venv"
    temp = None if venv else target
    print(f"building a non-editable install in {target} (this interpreter's msgsess is {why or 'elsewhere'})")
    if not (target / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(target)], check=True)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # A fresh copy of the sources, so that no build/ or egg-info of the checkout is reused.
    src = work / "src"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__", ".*cache"),
    )
    with open(work / "pip.log", "w") as log:  # pip's chatter (index warnings) stays out of the table
        for extra in (["--force-reinstall", "--no-deps"], []):  # then the dependencies (pip's cache)
            if subprocess.run([*pip, *extra, str(src)], stdout=log, stderr=log, check=False).returncode:
                raise RuntimeError(f"pip install of {src} failed; see {work / 'pip.log'}")
    shutil.rmtree(src, ignore_errors=True)
    python = str(target / "bin" / "python")
    subprocess.run(
        [
            python,
            "-c",
            "import compileall, msgsess, os; "
            "compileall.compile_dir(os.path.dirname(msgsess.__file__), quiet=1)",
        ],
        check=True,
    )
    return Install(python, [str(target / "bin" / "msgsess")], f"non-editable install in {target}", temp)


def find_isoft(given: str | None) -> str | None:
    """A Python that can import independentsoft.msg (the xcheck venv by default), or None."""
    candidates = (
        [given] if given else [os.environ.get("MSGSESS_BENCH_ISOFT_PYTHON"), "/tmp/xcheck-venv/bin/python"]
    )
    for python in candidates:
        if not python or not Path(python).exists():
            continue
        probe = subprocess.run(
            [python, "-c", "import independentsoft.msg"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return python
    return None


def has_jobs(install: Install) -> bool:
    proc = subprocess.run([*install.msgsess, "close", "--help"], capture_output=True, text=True, check=False)
    return "--jobs" in proc.stdout


# --------------------------------------------------------------------------- inputs


def mail(i: int, output: str) -> dict[str, Any]:
    return {
        "output": output,
        "subject": f"Report {i}",
        "from": "Alice Example <alice@example.com>",
        "to": [f"Reader {i} <reader{i}@example.com>"],
        "body": f"Hello reader {i},\nthe numbers are in.\n",
    }


def write_lines(path: Path, n: int, folder: str) -> None:
    """JSON Lines of ``n`` small mails, written without holding them."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps(mail(i, f"{folder}/{i // 1000:03d}/m{i:06d}.msg")) + "\n")


def write_payload(path: Path, size: int, seed: int) -> str:
    """A file of ``size`` pseudo-random bytes written in 1 MiB pieces; its SHA-256."""
    digest = hashlib.sha256()
    state = hashlib.sha256(str(seed).encode()).digest()
    block = b"".join(hashlib.sha256(state + bytes([i])).digest() for i in range(256)) * 128  # 1 MiB
    with open(path, "wb") as f:
        left, n = size, 0
        while left > 0:
            piece = block[: min(left, len(block))]
            piece = n.to_bytes(8, "little") + piece[8:] if len(piece) >= 8 else piece
            f.write(piece)
            digest.update(piece)
            left -= len(piece)
            n += 1
    return digest.hexdigest()


# --------------------------------------------------------------------------- children (other interpreters)


def child_olewriter(files: list[str], out: Path) -> dict[str, Any]:
    """Read our outputs (untimed), write the same streams with extract_msg.OleWriter (timed)."""
    from bench_codec import bare_write  # the one OleWriter reference (beside this script)

    from msgsess import cfb

    trees = [cfb.read_file(Path(f)) for f in files]
    targets = [out / f"ole-{i:06d}.msg" for i in range(len(files))]
    started = time.perf_counter()
    for tree, target in zip(trees, targets, strict=True):
        bare_write(tree, target)
    seconds = time.perf_counter() - started
    # Kept until the benchmark ends: on ext4, creating files right after many were deleted costs
    # minutes of extra kernel time (inode allocation skips recently freed inodes), which would
    # fall on whichever run came next.
    return {"seconds": seconds}


def child_isoft(kind: str, n: int, out: Path, attachment: str | None) -> dict[str, Any]:
    """independentsoft.msg writing W1's mails (kind w1) or W4's message (kind w4)."""
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints an evaluation banner per Message
        from independentsoft.msg import Attachment, Message, MessageFlag, Recipient, RecipientType

    def message(i: int) -> Any:
        with contextlib.redirect_stdout(io.StringIO()):
            m = Message()
        m.encoding = "utf-16-le"  # Unicode strings, as ours
        spec = mail(i, "")
        m.subject = spec["subject"]
        m.body = spec["body"].replace("\n", "\r\n")
        m.sender_name, m.sender_email_address = "Alice Example", "alice@example.com"
        m.sender_address_type = "SMTP"
        r = Recipient()
        r.address_type = "SMTP"
        r.display_name, r.email_address = f"Reader {i}", f"reader{i}@example.com"
        r.recipient_type = RecipientType.TO
        m.recipients.append(r)
        m.display_to = r.display_name
        m.message_flags.append(MessageFlag.UNSENT)
        return m

    built = time.perf_counter()
    count = n if kind == "w1" else 1
    for i in range(count):
        m = message(i)
        if kind == "w4":
            assert attachment is not None
            data = Path(attachment).read_bytes()
            for j in range(n):
                a = Attachment(buffer=data)
                a.file_name = a.long_file_name = a.display_name = f"file{j:04d}.txt"
                m.attachments.append(a)
            m.has_attachment = True
        with contextlib.redirect_stdout(io.StringIO()):
            data_out = m.to_bytes()
        (out / f"isoft-{i:06d}.msg").write_bytes(data_out)
    return {"seconds": time.perf_counter() - started, "import": built - started}


def child_floor(n: int, size: int, folder: Path) -> dict[str, Any]:
    """What the disk alone costs for close's files: make, write and rename ``n`` files."""
    data = os.urandom(size)
    started = time.perf_counter()
    cpu = time.process_time()
    for i in range(n):
        sub = folder / f"{i // 1000:03d}"
        if i % 1000 == 0:
            sub.mkdir(parents=True, exist_ok=True)
        temp = sub / f".m{i:06d}.msg.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.close(fd)
        os.replace(temp, sub / f"m{i:06d}.msg")
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return {"seconds": seconds, "cpu": cpu}  # files kept until the end (see child_olewriter)


def child_verify(listing: Path) -> dict[str, Any]:
    """Open each file with olefile (default, strict) and extract-msg; compare attachment hashes."""
    import extract_msg
    import olefile

    checked = 0
    for line in listing.read_text().splitlines():
        item = json.loads(line)
        name = item["file"]
        with olefile.OleFileIO(name) as ole:
            ole.listdir()
        with olefile.OleFileIO(name, raise_defects=olefile.DEFECT_INCORRECT) as ole:
            ole.listdir(streams=True, storages=True)
        msg = extract_msg.openMsg(name)
        try:
            if item.get("subject") is not None and msg.subject != item["subject"]:
                raise RuntimeError(f"{name}: subject {msg.subject!r}, expected {item['subject']!r}")
            atts = msg.attachments
            if item.get("attachments") is not None and len(atts) != item["attachments"]:
                raise RuntimeError(f"{name}: {len(atts)} attachments, expected {item['attachments']}")
            for att, sha in zip(atts, item.get("sha256") or [], strict=False):
                if hashlib.sha256(att.data).hexdigest() != sha:
                    raise RuntimeError(f"{name}: attachment {att.longFilename} differs from its input")
        finally:
            msg.close()
        checked += 1
    return {"checked": checked}


def run_child(python: str, args: list[str], cwd: Path) -> tuple[Run, dict[str, Any]]:
    run = measure([python, str(Path(__file__).resolve()), "--child", *args], cwd)
    return run, json.loads(run.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- workloads


@dataclass
class Table:
    rows: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def ratio(self, label: str, ours: float, other: float, unit: str, goal: float | None, key: str) -> None:
        ratio = ours / other if other else float("inf")
        verdict = "" if goal is None else ("met" if ratio <= goal else "MISSED")
        if verdict == "MISSED":
            self.missed.append(label)
        goal_text = "(info)" if goal is None else f"≤ {goal:g}×"
        self.rows.append((label, fmt(ours, unit), fmt(other, unit), f"{ratio:.2f}×", goal_text, verdict))
        self.data[key] = {"ours": ours, "other": other, "ratio": ratio, "goal": goal, "verdict": verdict}

    def at_least(self, label: str, ours: float, goal: float, unit: str, key: str) -> None:
        verdict = "met" if ours >= goal else "MISSED"
        if verdict == "MISSED":
            self.missed.append(label)
        self.rows.append((label, fmt(ours, unit), fmt(goal, unit), f"{ours / goal:.2f}×", "≥ 1×", verdict))
        self.data[key] = {"ours": ours, "goal": goal, "verdict": verdict}

    def note(self, label: str, text: str) -> None:
        self.rows.append((label, text, "", "", "", ""))


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value * 1000:.1f} ms"
    if unit == "MB":
        return f"{value / MB:.1f} MiB"
    if unit == "msg/s":
        return f"{value:,.0f}/s"
    return f"{value:g}"


@dataclass
class Ctx:
    install: Install
    isoft: str | None
    work: Path
    runs: int
    sizes: dict[str, int]
    jobs: bool
    table: Table
    verify: list[dict[str, Any]] = field(default_factory=list)
    xcheck: list[str] = field(default_factory=list)
    before: Install | None = None  # --before-venv: another version, start-up runs interleaved
    #: Sessions and folders to remove once every row is measured: a mass deletion makes this
    #: disk (ext4 mounted with discard) create files several times more slowly for minutes
    #: after, which would land on the rows that follow (the close of 50,000 most of all).
    removals: list[Callable[[], object]] = field(default_factory=list)

    def ms(self, *args: str, stdin: Path | None = None, cwd: Path | None = None) -> Run:
        return measure([*self.install.msgsess, *args], cwd or self.work, stdin=stdin)

    def later_discard(self, session: str) -> None:
        self.removals.append(lambda: self.ms("discard", session))


def bench_w1(ctx: Ctx) -> int:
    """W1: small mails end to end; returns the peak of its close (the reference for 'flat')."""
    n = ctx.sizes["w1"]
    e2e, closes, peaks, ole_times, iso_runs = [], [], [], [], []
    listing = ctx.work / "w1.files"
    ole_dir = ctx.work / "ole"
    ole_dir.mkdir(exist_ok=True)
    iso_dir = ctx.work / "isoft"
    iso_dir.mkdir(exist_ok=True)
    files: list[str] = []
    # Each run does ours, OleWriter and independentsoft in turn, so that the load of a shared
    # machine drifting during the benchmark hits all three alike.
    # Nothing is deleted while measuring: every run writes into folders of its own (see
    # child_olewriter), removed with the work folder at the end.
    for r in range(ctx.runs):
        lines = ctx.work / "w1.jsonl"
        write_lines(lines, n, f"w1/{r}/out")
        session = f"w1-{r}.session"
        opened = ctx.ms("open", session)
        added = ctx.ms("add", "-q", session, "--json", str(lines))
        closed = ctx.ms("close", session)
        e2e.append(opened.seconds + added.seconds + closed.seconds)
        closes.append(closed.seconds)
        peaks.append(closed.peak)
        files = sorted(str(p) for p in (ctx.work / "w1" / str(r) / "out").rglob("*.msg"))
        if len(files) != n:
            raise RuntimeError(f"W1 wrote {len(files)} files, expected {n}")
        listing.write_text("\n".join(files))
        ole_run = ole_dir / str(r)
        ole_run.mkdir()
        _run, res = run_child(ctx.install.python, ["olewriter", str(listing), str(ole_run)], ctx.work)
        ole_times.append(res["seconds"])
        if ctx.isoft:
            iso_run = iso_dir / str(r)  # new files each run, as ours and OleWriter's
            iso_run.mkdir()
            run, res = run_child(ctx.isoft, ["isoft", "w1", str(n), str(iso_run), ""], ctx.work)
            iso_runs.append((run.seconds, res["seconds"]))
    ole = median(ole_times)
    t = ctx.table
    if ctx.isoft:
        iso = median([w for w, _ in iso_runs])
        t.ratio(
            f"W1 {n:,} mails end to end vs independentsoft (process)",
            median(e2e),
            iso,
            "s",
            GOAL_W1_ISOFT,
            "w1_isoft",
        )
        t.ratio(
            "W1 end to end vs independentsoft's own work (in-process)",
            median(e2e),
            median([i for _, i in iso_runs]),
            "s",
            None,
            "w1_isoft_inproc",
        )
    else:
        t.note(f"W1 {n:,} mails end to end vs independentsoft", "skipped: independentsoft.msg not installed")
    t.ratio("W1 end to end vs bare OleWriter", median(e2e), ole, "s", None, "w1_ole")
    t.ratio("W1 close alone vs bare OleWriter", median(closes), ole, "s", GOAL_W1_CLOSE, "w1_close")
    for i, name in enumerate(files):
        if i % max(1, n // 200) == 0 or i == len(files) - 1:
            ctx.verify.append(
                {"file": name, "subject": f"Report {int(Path(name).stem[1:])}", "attachments": 0}
            )
    ctx.xcheck.extend(files[:3])
    return int(median(peaks))


def close_and_olewriter(ctx: Ctx, session: str, out: Path, runs: int) -> tuple[list[Run], list[float]]:
    """``close --keep`` of a one-message session and a bare OleWriter writing the same message,
    alternated ``runs`` times (as in W1), each onto a new file: the closes and OleWriter's times."""
    listing = ctx.work / f"{Path(session).stem}.files"
    listing.write_text(str(out))
    ole_dir = ctx.work / "ole"
    ole_dir.mkdir(exist_ok=True)
    closes: list[Run] = []
    ole_times: list[float] = []
    for r in range(runs):
        out.unlink(missing_ok=True)  # a new file each time, as OleWriter's
        closes.append(ctx.ms("close", "--keep", session))
        ole_run = ole_dir / f"{Path(session).stem}-{r}"
        ole_run.mkdir()
        _run, res = run_child(ctx.install.python, ["olewriter", str(listing), str(ole_run)], ctx.work)
        ole_times.append(res["seconds"])
    return closes, ole_times


def bench_w3(ctx: Ctx) -> None:
    size = ctx.sizes["w3"]
    big = ctx.work / "big.bin"
    sha = write_payload(big, size, 3)
    t = ctx.table
    ctx.ms("open", "w3.session")
    add = ctx.ms("add", "-q", "w3.session", "w3/big.msg", "--subject", "W3", "--attach", str(big))
    out = ctx.work / "w3" / "big.msg"
    closes, ole_times = close_and_olewriter(ctx, "w3.session", out, max(1, min(ctx.runs, 3)))
    ctx.later_discard("w3.session")
    ctx.ms("open", "w3b.session")
    ctx.ms("add", "-q", "w3b.session", "w3/b.msg", "--subject", "W3b")
    attach = ctx.ms("attach", "w3b.session", "m1", str(big))
    ctx.later_discard("w3b.session")
    mb = size // MB
    t.ratio(
        f"W3 {mb} MB attachment: close vs bare OleWriter",
        median([c.seconds for c in closes]),
        median(ole_times),
        "s",
        GOAL_W3_CLOSE,
        "w3_close",
    )
    t.ratio(
        "W3 close: process peak vs the file",
        max(c.peak for c in closes),
        size,
        "MB",
        GOAL_W3_PEAK,
        "w3_close_peak",
    )
    t.ratio("W3 add --attach: process peak vs the file", add.peak, size, "MB", GOAL_W3_PEAK, "w3_add_peak")
    t.ratio("W3 attach: process peak vs the file", attach.peak, size, "MB", GOAL_W3_PEAK, "w3_attach_peak")
    ctx.verify.append({"file": str(out), "subject": "W3", "attachments": 1, "sha256": [sha]})
    ctx.xcheck.append(str(out))


def bench_w4(ctx: Ctx) -> None:
    n = ctx.sizes["w4"]
    folder = ctx.work / "w4att"
    folder.mkdir(exist_ok=True)
    payload = folder / "payload.bin"
    write_payload(payload, 5 * 1024, 4)
    data = payload.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    atts = []
    for i in range(n):
        p = folder / f"file{i:04d}.txt"
        p.write_bytes(data)
        atts.append({"file": str(p)})
    spec = {"output": "w4/many.msg", "subject": "W4", "attachments": atts}
    lines = ctx.work / "w4.json"
    lines.write_text(json.dumps(spec))
    ctx.ms("open", "w4.session")
    ctx.ms("add", "-q", "w4.session", "--json", str(lines))
    out = ctx.work / "w4" / "many.msg"
    runs, ole_times = close_and_olewriter(ctx, "w4.session", out, ctx.runs)
    closes = [c.seconds for c in runs]
    ctx.later_discard("w4.session")
    t = ctx.table
    t.ratio(
        f"W4 {n:,} × 5 KB attachments: close vs bare OleWriter",
        median(closes),
        median(ole_times),
        "s",
        GOAL_W4_CLOSE,
        "w4_close",
    )
    if ctx.isoft:
        iso_dir = ctx.work / "isoft"
        iso_dir.mkdir(exist_ok=True)
        run, _res = run_child(ctx.isoft, ["isoft", "w4", str(n), str(iso_dir), str(payload)], ctx.work)
        t.ratio("W4 close vs independentsoft (process)", median(closes), run.seconds, "s", None, "w4_isoft")
    ctx.verify.append({"file": str(out), "subject": "W4", "attachments": n, "sha256": [sha] * n})
    ctx.xcheck.append(str(out))


def bench_startup(ctx: Ctx, sample: Path) -> None:
    """add one message, dump/check/edit of one file, open of a session, each against python -c pass
    (alternated)."""
    ctx.ms("open", "start.session")
    (ctx.work / "start").mkdir(exist_ok=True)
    python = [ctx.install.python, "-c", "pass"]
    measure(python, ctx.work)
    add = ["add", "-q", "start.session", "", "--subject", "Hi", "--from", "Ann <ann@example.com>",
           "--to", "Bob <bob@example.com>", "--body", "Hello"]  # fmt: skip
    commands = {
        "add": lambda i: ["add", "-q", "start.session", f"start/a{i}.msg", *add[4:]],
        "dump": lambda i: ["dump", str(sample)],
        "check": lambda i: ["check", str(sample)],
        "edit": lambda i: ["edit", "start.session", str(sample), "--out", f"start/e{i}.msg"],
        "open": lambda i: ["open", f"start/s{i}.session"],
    }
    before = ctx.before
    if before is not None:
        measure([*before.msgsess, "open", "start-before.session"], ctx.work)

    def run_before(args: list[str]) -> Run:
        assert before is not None
        args = ["start-before.session" if a == "start.session" else a for a in args]
        return measure([*before.msgsess, *[a.replace("start/", "start/before-") for a in args]], ctx.work)

    for name, make in commands.items():  # warm-up: the OS cache and __pycache__
        ctx.ms(*make(-1 - len(name)))
        if before is not None:
            run_before(make(-1 - len(name)))
    runs: dict[str, list[Run]] = {"python": [], **{k: [] for k in commands}}
    old: dict[str, list[Run]] = {k: [] for k in commands}
    for i in range(ctx.runs):
        for name, make in commands.items():
            runs["python"].append(measure(python, ctx.work))
            runs[name].append(ctx.ms(*make(i)))
            if before is not None:
                old[name].append(run_before(make(i)))
    t = ctx.table

    def ratio(label: str, samples: list[Run], cpu: bool, goal: float | None, key: str) -> None:
        """A row of ``samples`` against ``python -c pass``, by wall clock or by CPU time."""

        def of(run: Run) -> float:
            return run.cpu if cpu else run.seconds

        base = median([of(r) for r in runs["python"]])
        t.ratio(label, median([of(r) for r in samples]), base, "ms", goal, key)

    ratio("msgsess add of one message vs python -c pass", runs["add"], False, GOAL_ADD_START, "start_add")
    for name in ("dump", "check", "edit"):
        ratio(
            f"msgsess {name} of one file vs python -c pass",
            runs[name],
            False,
            GOAL_READ_START,
            f"start_{name}",
        )
    ratio("msgsess open of a new session vs python -c pass", runs["open"], False, None, "start_open")
    # CPU time (user + system) of the same runs: on a loaded machine the wall clock also counts
    # the time a process waits for a core, which swamps start-up; its CPU time moves far less.
    for name in ("add", "dump", "check", "edit", "open"):
        ratio(f"msgsess {name}: CPU time vs python -c pass's", runs[name], True, None, f"start_{name}_cpu")
    if before is not None:  # the same commands of the other install, in the same run
        for name in ("add", "dump", "check", "edit", "open"):
            label = f"before: {name} vs python -c pass (wall; CPU below)"
            ratio(label, old[name], False, None, f"start_{name}_before")
            label = f"before: {name}: CPU time vs python -c pass's"
            ratio(label, old[name], True, None, f"start_{name}_before_cpu")
    ctx.later_discard("start.session")


def bench_bulk(ctx: Ctx, w1_close_peak: int) -> None:
    n = ctx.sizes["bulk"]
    lines = ctx.work / "bulk.jsonl"
    write_lines(lines, n, "bulk")
    ctx.ms("open", "bulk.session")
    add = ctx.ms("add", "-q", "bulk.session", "--json", str(lines))
    lines.unlink()
    t = ctx.table
    t.ratio(
        f"add --json of {n:,} messages: peak vs 80 MB", add.peak, GOAL_JSON_PEAK, "MB", 1.0, "bulk_add_peak"
    )
    # Attachments of every size: L lines of one S-byte file each, read as add gets to each line.
    count, size = ctx.sizes["atts"], ctx.sizes["att_size"]
    folder = ctx.work / "bulkatt"
    folder.mkdir(exist_ok=True)
    shas = []
    with open(ctx.work / "atts.jsonl", "w") as f:
        for i in range(count):
            p = folder / f"a{i:04d}.bin"
            shas.append(write_payload(p, size, 100 + i))
            f.write(json.dumps({**mail(i, f"atts/m{i:04d}.msg"), "attachments": [{"file": str(p)}]}) + "\n")
    ctx.ms("open", "atts.session")
    add_atts = ctx.ms("add", "-q", "atts.session", "--json", str(ctx.work / "atts.jsonl"))
    ctx.later_discard("atts.session")
    ctx.removals.append(lambda: shutil.rmtree(folder))
    t.ratio(
        f"add --json of {count} messages × {size // MB} MB attachments: peak vs 80 MB",
        add_atts.peak, GOAL_JSON_PEAK, "MB", 1.0, "atts_add_peak",
    )  # fmt: skip
    jobs = ["--jobs", "1"] if ctx.jobs else []
    close = ctx.ms("close", "--keep", *jobs, "bulk.session")
    t.at_least(
        f"close of {n:,} messages{' --jobs 1' if jobs else ''}: messages per second",
        n / close.seconds,
        GOAL_CLOSE_RATE,
        "msg/s",
        "bulk_close_rate",
    )
    files = sorted(str(p) for p in (ctx.work / "bulk").rglob("*.msg"))
    if len(files) != n:
        raise RuntimeError(f"close of the bulk session wrote {len(files)} files, expected {n}")
    # The disk's own floor: making, writing and renaming as many files of that size, no msgsess.
    size = sum(os.path.getsize(f) for f in files[:100]) // min(100, len(files))
    _run, floor = run_child(
        ctx.install.python, ["floor", str(n), str(size), str(ctx.work / "floor")], ctx.work
    )
    t.rows.append((
        f"  this disk's floor: create, write, rename {n:,} files of {size:,} bytes",
        fmt(n / floor["seconds"], "msg/s"), "", "", "(info)", "",
    ))  # fmt: skip
    t.data["bulk_floor_rate"] = n / floor["seconds"]
    # CPU seconds (user + system): what the work costs whatever else the machine runs meanwhile.
    t.rows.append((
        f"  close of {n:,}{' --jobs 1' if jobs else ''}: messages per CPU second (user + system)",
        fmt(n / close.cpu, "msg/s"), "", "", "(info)", "",
    ))  # fmt: skip
    t.rows.append((
        "  this disk's floor: files per CPU second (user + system)",
        fmt(n / floor["cpu"], "msg/s"), "", "", "(info)", "",
    ))  # fmt: skip
    t.data["bulk_close_cpu"] = close.cpu
    t.data["bulk_floor_cpu"] = floor["cpu"]
    if jobs:
        # Replacing the outputs of the first close (their old files are removed only once every
        # new one is written): no mass deletion before this close's files are created.
        parallel = ctx.ms("close", "--keep", "bulk.session")
        t.rows.append((
            f"close of {n:,} messages, default --jobs: messages per second",
            fmt(n / parallel.seconds, "msg/s"), "", "", "(info)", "",
        ))  # fmt: skip
        t.data["bulk_close_rate_jobs"] = n / parallel.seconds
    ctx.later_discard("bulk.session")
    if not w1_close_peak:  # --only without w1: no close of 1,000 to compare with
        t.rows.append((
            f"close of {n:,}: peak (run w1 too for the comparison with W1's close)",
            fmt(close.peak, "MB"), "", "", "(info)", "",
        ))  # fmt: skip
        t.data["bulk_close_peak"] = {"peak": close.peak}
    else:
        growth = close.peak - w1_close_peak
        t.rows.append((
            f"close of {n:,}: peak {close.peak / MB:.1f} MiB, {growth / MB:+.1f} MiB over W1's",
            fmt(growth, "MB"), fmt(GOAL_CLOSE_GROWTH, "MB"), "", f"≤ {GOAL_CLOSE_GROWTH // MB} MiB",
            "met" if growth <= GOAL_CLOSE_GROWTH else "MISSED",
        ))  # fmt: skip
        t.data["bulk_close_peak"] = {"peak": close.peak, "w1_peak": w1_close_peak, "growth": growth}
        if growth > GOAL_CLOSE_GROWTH:
            t.missed.append("close memory flat")
    step = max(1, n // 200)
    for i in [*range(0, n, step), n - 1]:
        ctx.verify.append(
            {"file": files[i], "subject": f"Report {int(Path(files[i]).stem[1:])}", "attachments": 0}
        )
    ctx.xcheck.append(files[-1])


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller cases (a smoke run)")
    parser.add_argument(
        "--runs", type=int, default=5, help="runs of each measure (5; W3 at most 3), medians kept"
    )
    parser.add_argument("--keep", type=Path, help="work in DIR and keep everything")
    parser.add_argument("--venv", type=Path, help="use (or build once) a non-editable install here")
    parser.add_argument("--isoft-python", help="a Python with independentsoft.msg (default: the xcheck venv)")
    parser.add_argument("--xcheck", help="run this xcheck --summary over a sample of the outputs")
    parser.add_argument("--json-out", type=Path, help="also write the numbers as JSON here")
    parser.add_argument("--only", help="comma-separated subset: w1,w3,w4,start,bulk")
    parser.add_argument(
        "--before-venv",
        type=Path,
        help="a non-editable install of another msgsess whose start-up runs alternate with ours",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, rest = args.child[0], args.child[1:]
        if kind == "olewriter":
            result = child_olewriter(Path(rest[0]).read_text().split(), Path(rest[1]))
        elif kind == "isoft":
            result = child_isoft(rest[0], int(rest[1]), Path(rest[2]), rest[3] or None)
        elif kind == "floor":
            result = child_floor(int(rest[0]), int(rest[1]), Path(rest[2]))
        else:
            result = child_verify(Path(rest[0]))
        print(json.dumps(result))
        return 0

    work = args.keep or Path(tempfile.mkdtemp(prefix="msgsess-e2e-"))
    work.mkdir(parents=True, exist_ok=True)
    work = work.resolve()
    only = set((args.only or "w1,w3,w4,start,bulk").split(","))
    errors = 0
    ctx: Ctx | None = None
    verified = "not verified"
    try:
        install = find_install(args.venv, work)
        isoft = find_isoft(args.isoft_python)
        ctx = Ctx(install, isoft, work, args.runs, QUICK if args.quick else FULL, has_jobs(install), Table())
        if args.before_venv is not None:
            python = str(args.before_venv / "bin" / "python")
            if _editable_or_missing(python) is not None:
                raise RuntimeError(f"--before-venv {args.before_venv}: no non-editable msgsess there")
            ctx.before = Install(python, [str(args.before_venv / "bin" / "msgsess")], "before")
        print(f"msgsess: {install.note}; python {sys.version.split()[0]}; load {os.getloadavg()[0]:.1f}")
        print(f"independentsoft: {isoft or 'not installed (its rows are skipped)'}")
        w1_peak = 0
        steps = [
            ("w1", lambda: bench_w1(ctx)),
            ("w3", lambda: bench_w3(ctx)),
            ("w4", lambda: bench_w4(ctx)),
        ]
        for name, step in steps:
            if name in only:
                print(f"running {name}…", file=sys.stderr)
                result = step()
                if name == "w1":
                    w1_peak = int(result or 0)
        if "start" in only:
            print("running start-up…", file=sys.stderr)
            sample = next((Path(v["file"]) for v in ctx.verify if "w1" in v["file"]), None)
            if sample is None:
                ctx.ms("open", "sample.session")
                ctx.ms(
                    "add",
                    "-q",
                    "sample.session",
                    "sample.msg",
                    "--subject",
                    "Sample",
                    "--to",
                    "a@example.com",
                    "--body",
                    "x",
                )
                ctx.ms("close", "sample.session")
                sample = work / "sample.msg"
            bench_startup(ctx, sample)
        if "bulk" in only:
            print("running bulk…", file=sys.stderr)
            bench_bulk(ctx, w1_peak)
        for remove in ctx.removals:  # every row is measured: nothing is timed after this
            remove()
        print("verifying outputs…", file=sys.stderr)
        listing = work / "verify.jsonl"
        listing.write_text("\n".join(json.dumps(v) for v in ctx.verify))
        _run, res = run_child(install.python, ["verify", str(listing)], work)
        verified = (
            f"{res['checked']} outputs open with olefile (default, strict) and extract-msg, "
            "attachments compared by hash"
        )
        if args.xcheck and ctx.xcheck:
            proc = subprocess.run(
                [args.xcheck, "--summary", *ctx.xcheck], capture_output=True, text=True, check=False
            )
            print(proc.stdout.strip())
            if proc.returncode != 0:
                errors += 1
                print(f"xcheck failed ({proc.returncode}): {proc.stderr.strip()[-500:]}", file=sys.stderr)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        errors += 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if ctx is None:
        return 1
    table = ctx.table
    width = max(len(r[0]) for r in table.rows) if table.rows else 40
    print(f"{'row':<{width}}  {'msgsess':>12}  {'peer/floor':>12}  {'ratio':>7}  {'goal':>8}  verdict")
    for label, ours, other, ratio, goal, verdict in table.rows:
        print(f"{label:<{width}}  {ours:>12}  {other:>12}  {ratio:>7}  {goal:>8}  {verdict}")
    print(verified)
    if table.missed:
        print("MISSED: " + "; ".join(table.missed))
    if args.json_out:
        args.json_out.write_text(json.dumps(table.data, indent=2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
