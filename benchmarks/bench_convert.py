"""bench_convert: ``msgsess convert`` over many small EML files, one and two worker processes.

Issue 13's goals: at least 500 files/s with ``--jobs 1``, at least 1.7x that with ``--jobs 2``,
and peak memory flat in the number of files (the same for N/10 files and for N, within 20 %).
Prints ``MISSED`` beside a goal not reached, and exits 0 either way (a benchmark reports; the
numbers are for people). Each run is the real command, ``python -m msgsess convert``, in a child
process of its own that reports the peak resident size of the command and its workers; msgsess
comes from a non-editable install (``bench_codec.installed_python``).

    python benchmarks/bench_convert.py            # 10,000 files, 3 runs each (about two minutes)
    python benchmarks/bench_convert.py --quick    # 1,000 files
    python benchmarks/bench_convert.py --runs 5   # more runs (medians are kept)

Runs alternate between ``--jobs 1`` and ``--jobs 2`` and every run writes into a folder of its
own: nothing is deleted while measuring (on ext4, creating files right after many were deleted
is slower for minutes, and would penalise whichever run came after a clean-up).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GOAL_RATE = 500.0
GOAL_SPEEDUP = 1.7
GOAL_FLAT = 1.2


def small_eml(n: int) -> bytes:
    """A small, distinct received message (about 700 bytes): text body, two recipients."""
    m = EmailMessage(policy=SMTP)
    m["Received"] = (
        f"from mx{n % 7}.example.org by mail.example.com; Tue, 02 Jan 2024 03:{n % 60:02d}:05 +0000"
    )
    m["From"] = f"Sender {n} <sender{n}@example.org>"
    m["To"] = f"Recipient <rcpt{n % 97}@example.com>, team{n % 13}@example.com"
    m["Subject"] = f"Status report number {n}"
    m["Date"] = f"Tue, 02 Jan 2024 03:{n % 60:02d}:{n % 59:02d} +0100"
    m["Message-ID"] = f"<{n}.bench@example.org>"
    m.set_content(f"Hello,\n\nthis is message {n} of the benchmark.\nRegards,\nSender {n}\n")
    return m.as_bytes()


def write_inputs(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    for n in range(count):
        (folder / f"m{n:05d}.eml").write_bytes(small_eml(n))


def child(python: str, jobs: int, inputs: str, out: str) -> None:
    """Run the command; print its wall time and the peak RSS of it and its workers as JSON."""
    cmd = [python, "-m", "msgsess", "convert", inputs, "--out-dir", out, "--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(
        json.dumps(
            {
                "rc": proc.returncode,
                "stderr": proc.stderr[-500:],
                "seconds": seconds,
                "cpu": cpu,
                "peak_kib": usage.ru_maxrss,
            }
        )
    )


def measure(python: str, jobs: int, inputs: Path, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", python, str(jobs), str(inputs), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"convert --jobs {jobs} failed: {result['stderr']}")
    files = sum(1 for _ in out.rglob("*.msg"))
    expected = sum(1 for _ in inputs.rglob("*.eml"))
    if files != expected:
        raise RuntimeError(f"convert --jobs {jobs} wrote {files} of {expected} files")
    return result


def median_run(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time (its CPU time and peak come with it)."""
    ordered = sorted(results, key=lambda r: r["seconds"])
    return ordered[len(ordered) // 2]


def verify(out: Path, count: int) -> None:
    """A few outputs read back with extract-msg: the subject the input had."""
    import logging

    import extract_msg

    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    for n in (0, count // 2, count - 1):
        with extract_msg.openMsg(str(out / f"m{n:05d}.msg")) as msg:
            if msg.subject != f"Status report number {n}":
                raise RuntimeError(f"m{n:05d}.msg: subject {msg.subject!r}")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(argv[1], int(argv[2]), argv[3], argv[4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 files instead of 10,000")
    parser.add_argument("--files", type=int, default=None, help="number of files (default 10,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each --jobs, medians kept (default 3)")
    args = parser.parse_args(argv)
    count = args.files or (1_000 if args.quick else 10_000)
    spec = importlib.util.spec_from_file_location("bench_codec", HERE / "bench_codec.py")
    assert spec is not None and spec.loader is not None
    codec = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(codec)
    missed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        work = Path(tmp)
        python, where = codec.installed_python(work)
        print(f"msgsess from {where}; {count} small EML files; CPUs: {os.cpu_count()}")
        big, small = work / "in", work / "in-small"
        write_inputs(big, count)
        write_inputs(small, max(count // 10, 1))
        print(f"load average at the start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        samples: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
        for run in range(max(args.runs, 1)):
            for jobs in (1, 2):
                samples[jobs].append(measure(python, jobs, big, work / f"out{jobs}-{run}"))
        runs = {jobs: median_run(results) for jobs, results in samples.items()}
        flat = measure(python, 1, small, work / "out-small")
        verify(work / "out1-0", count)
    rate1 = count / runs[1]["seconds"]
    rate2 = count / runs[2]["seconds"]
    speedup = rate2 / rate1
    growth = runs[1]["peak_kib"] / max(flat["peak_kib"], 1)
    # CPU seconds (user + system, the command and its workers) beside the wall time: on a shared
    # machine the wall time says how busy the others were, the CPU time what a file costs us.
    print(f"medians of {max(args.runs, 1)} alternated runs")
    print(f"{'':10} {'seconds':>9} {'files/s':>9} {'CPU s':>9} {'ms CPU/file':>12} {'peak MiB':>9}")
    for jobs, result in runs.items():
        seconds, peak, cpu = result["seconds"], result["peak_kib"] / 1024, result["cpu"]
        rate, per_file = count / seconds, 1000 * cpu / count
        print(f"--jobs {jobs}  {seconds:9.2f} {rate:9.0f} {cpu:9.2f} {per_file:12.3f} {peak:9.1f}")
    print(f"{max(count // 10, 1)} files, --jobs 1: peak {flat['peak_kib'] / 1024:.1f} MiB")
    for label, value, goal, ok in (
        ("files/s with --jobs 1", f"{rate1:.0f}", f">= {GOAL_RATE:.0f}", rate1 >= GOAL_RATE),
        ("speed-up with --jobs 2", f"{speedup:.2f}x", f">= {GOAL_SPEEDUP}x", speedup >= GOAL_SPEEDUP),
        ("peak memory, N vs N/10 files", f"{growth:.2f}x", f"<= {GOAL_FLAT}x", growth <= GOAL_FLAT),
    ):
        mark = "ok" if ok else "MISSED"
        if not ok:
            missed.append(label)
        print(f"{label:30} {value:>8}  goal {goal:8}  {mark}")
    if missed:
        print(f"MISSED: {', '.join(missed)} (this machine has {os.cpu_count()} CPUs shared with others)")
    print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
