"""The fuzz harness of issue 9: every internal error is a defect.

Mutants of the real files in ``../shared/corpus`` (``mutants.py``) go through what a user runs on
a file: ``dump``, ``dump --json``, ``check``, ``extract --json`` (issue 12), ``export``,
``edit`` + ``show`` + ``close``, and ``dump --json`` and ``check`` of what ``close`` wrote. A run
fails on

- an ``internal error`` (or any exception escaping the command),
- a non-zero exit without exactly one ``msgsess: error:`` line, last on stderr (a zero exit with
  one),
- stdout or stderr that is not valid UTF-8, or ``dump --json`` output that is not JSON,
- a command that takes more than :data:`MAX_SECONDS`,
- ``extract`` writing anywhere but its folder, or ``--json`` output that is not JSON.

Commands run in this process through click's ``CliRunner`` (fast: thousands of mutants in
minutes); every ``--subprocess-every``-th mutant also runs them as real ``msgsess`` processes,
where Python's own stream encoding is in play: every other time with ``PYTHONIOENCODING=utf-8``
(strict), else as the locale has it.

``make fuzz`` runs this script (``python tests/fuzz/fuzzer.py --help``); ``test_fuzz_cli.py``
runs a bounded, derandomized part of it in CI. Mutants are reproduced from their number and the
seed: ``--only N`` runs mutant N alone, ``--keep DIR`` saves each failing mutant there.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = Path(os.environ.get("MSGSESS_CORPUS", ROOT.parent / "shared" / "corpus"))
#: Longest a command may take on one mutant (the largest corpus file is 2 MB).
MAX_SECONDS = 5.0
ENV = {"MSGSESS_LOCK_TIMEOUT": "30", "SOURCE_DATE_EPOCH": "1700000000"}

sys.path.insert(0, str(HERE))
import mutants  # noqa: E402


def seeds(corpus: Path = CORPUS) -> list[Path]:
    return sorted(corpus.rglob("*.msg")) if corpus.is_dir() else []


@dataclass
class Run:
    """One command on one mutant."""

    args: list[str]
    code: int
    stdout: bytes
    stderr: bytes
    seconds: float
    exception: str | None = None


@dataclass
class Report:
    runs: int = 0
    mutants: int = 0
    problems: list[str] = field(default_factory=list)
    internal_errors: int = 0
    codes: dict[int, int] = field(default_factory=dict)
    #: The slowest run: seconds and command.
    slowest: tuple[float, str] = (0.0, "")

    def add(self, other: Report) -> None:
        self.runs += other.runs
        self.mutants += other.mutants
        self.problems += other.problems
        self.internal_errors += other.internal_errors
        self.slowest = max(self.slowest, other.slowest)
        for code, count in other.codes.items():
            self.codes[code] = self.codes.get(code, 0) + count


class InProcess:
    """Runs ``msgsess ARGS`` through click's CliRunner, stdout and stderr kept apart as bytes."""

    def __init__(self) -> None:
        from click.testing import CliRunner

        from msgsess.cli.main import cli

        self.cli = cli
        self.runner = CliRunner()

    def __call__(self, args: list[str], cwd: Path) -> Run:
        start = time.perf_counter()
        result = self.runner.invoke(self.cli, args, env=ENV, catch_exceptions=True)
        seconds = time.perf_counter() - start
        exception = None
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            exception = f"{type(result.exception).__name__}: {result.exception}"
        return Run(args, result.exit_code, result.stdout_bytes, result.stderr_bytes, seconds, exception)


def in_subprocess(args: list[str], cwd: Path, *, strict_utf8: bool = True) -> Run:
    """Runs ``python -m msgsess ARGS`` as a real process.

    ``strict_utf8``: with ``PYTHONIOENCODING=utf-8``, so that Python encodes its streams
    strictly; otherwise as the locale has it (under the C locale, with ``surrogateescape``).
    """
    env = {**os.environ, **ENV}
    env.pop("PYTHONIOENCODING", None)
    if strict_utf8:
        env["PYTHONIOENCODING"] = "utf-8"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "msgsess", *args],
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return Run(args, proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)


def judge(run: Run) -> list[str]:
    """What is wrong with one run (nothing, for a result or one clean refusal)."""
    problems = []
    command = " ".join(run.args)
    if run.exception is not None:
        problems.append(f"{command}: exception {run.exception}")
    texts = []
    for name, data in (("stdout", run.stdout), ("stderr", run.stderr)):
        try:
            texts.append(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            problems.append(f"{command}: {name} is not UTF-8 ({exc})")
            texts.append(data.decode("utf-8", "replace"))
    stdout, stderr = texts
    if "internal error" in stderr:
        problems.append(f"{command}: {stderr.strip().splitlines()[-1]}")
    lines = stderr.splitlines()
    errors = [line for line in lines if line.startswith("msgsess: error: ")]
    if run.code != 0 and (len(errors) != 1 or lines[-1] != errors[0]):
        problems.append(f"{command}: exit {run.code} with stderr {stderr[:300]!r}")
    if run.code == 0 and errors:
        problems.append(f"{command}: exit 0 with {errors[0]!r}")
    if run.seconds > MAX_SECONDS:
        problems.append(f"{command}: took {run.seconds:.1f} s")
    if run.code == 0 and "--json" in run.args and run.args[0] in ("dump", "extract"):
        try:
            json.loads(stdout)
        except ValueError as exc:
            problems.append(f"{command}: stdout is not JSON ({exc})")
    return problems


def commands(work: Path) -> Iterator[tuple[list[str], str]]:
    """The commands run on ``work/m.msg``, each with what it needs to go on (see :func:`fuzz_one`)."""
    msg, session, out = str(work / "m.msg"), str(work / "s.session"), str(work / "out.msg")
    yield ["dump", msg], ""
    yield ["dump", "--json", msg], ""
    yield ["check", msg], ""
    yield ["extract", msg, "-d", str(work / EXTRACTED), "--force", "--json"], "extract"
    yield ["export", msg, "-o", str(work / "m.eml"), "--force"], ""
    yield ["open", "--force", session], ""
    yield ["edit", session, msg, "--out", out], "edit"
    yield ["show", session], "edited"
    yield ["close", session], "close"
    yield ["dump", "--json", out], "written"
    yield ["check", out], "written"


#: The folder ``extract`` writes into, below the work folder.
EXTRACTED = "extracted"
#: What the work folder may hold besides: the mutant, the session, the outputs (and SQLite's journal).
_WORK_FILES = {"m.msg", "m.eml", "s.session", "s.session-journal", "out.msg", EXTRACTED}


def _outside(work: Path, args: list[str]) -> list[str]:
    """Whatever ``extract`` wrote that is not a file directly in its folder."""
    stray = [p.name for p in work.iterdir() if p.name not in _WORK_FILES]
    folder = work / EXTRACTED
    if folder.is_dir():
        stray += [str(p) for p in folder.iterdir() if not p.is_file() or p.is_symlink()]
    return [f"{' '.join(args)}: wrote outside its folder: {stray}"] if stray else []


def fuzz_one(data: bytes, work: Path, runner: Any) -> Report:
    """Every command on one mutant; the edit chain stops where a step refuses."""
    report = Report(mutants=1)
    (work / "m.msg").write_bytes(data)
    for path in (work / "out.msg", work / "s.session", work / "m.eml"):
        path.unlink(missing_ok=True)
    shutil.rmtree(work / EXTRACTED, ignore_errors=True)
    failed: set[str] = set()
    for args, needs in commands(work):
        if needs in ("edited", "close") and "edit" in failed:
            continue
        if needs == "written" and ("edit" in failed or "close" in failed or not (work / "out.msg").exists()):
            continue
        run = runner(args, work)
        report.runs += 1
        report.codes[run.code] = report.codes.get(run.code, 0) + 1
        report.slowest = max(report.slowest, (run.seconds, args[0]))
        problems = judge(run)
        if needs == "extract":
            problems += _outside(work, args)
        report.internal_errors += sum("internal error" in p or "exception" in p for p in problems)
        report.problems += problems
        if run.code != 0 and needs:
            failed.add(needs)
    return report


def mutant_bytes(seed_files: list[Path], number: int, seed: str) -> tuple[bytes, str]:
    """Mutant ``number``: the same bytes for the same seed, whatever ran before."""
    rng = random.Random(f"{seed}-{number}")
    source = seed_files[number % len(seed_files)]
    data, done = mutants.mutant(source.read_bytes(), rng)
    return data, f"#{number} of {source.name}: {'; '.join(done)}"


def fuzz_range(
    numbers: Iterator[int] | range,
    seed_files: list[Path],
    seed: str,
    subprocess_every: int = 0,
    deadline: float | None = None,
    keep: Path | None = None,
) -> Report:
    """Fuzz the mutants ``numbers`` (until ``deadline``, a ``time.monotonic()`` value)."""
    report = Report()
    runner = InProcess()
    with tempfile.TemporaryDirectory(prefix="msgsess-fuzz-") as tmp:
        work = Path(tmp)
        for number in numbers:
            if deadline is not None and time.monotonic() > deadline:
                break
            try:
                data, label = mutant_bytes(seed_files, number, seed)
            except Exception as exc:  # a defect of the harness, not of msgsess: report it, go on
                report.problems.append(f"#{number}: the mutant could not be made: {exc!r}")
                continue
            one = fuzz_one(data, work, runner)
            if subprocess_every and number % subprocess_every == 0:
                # Every other one with PYTHONIOENCODING=utf-8, the others as the locale has it.
                strict = number // subprocess_every % 2 == 0
                real = fuzz_one(data, work, functools.partial(in_subprocess, strict_utf8=strict))
                real.mutants = 0
                one.add(real)
            one.slowest = (one.slowest[0], f"{one.slowest[1]} of mutant {label.split(':')[0]}")
            if one.problems:
                one.problems = [f"{label}: {p}" for p in one.problems]
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"mutant-{number}.msg").write_bytes(data)
            report.add(one)
    return report


def _worker(job: tuple[int, int, list[str], str, int, float | None, int | None, str | None]) -> Report:
    start, step, files, seed, every, deadline, limit, keep = job
    numbers = range(start, limit if limit is not None else 1 << 62, step)
    return fuzz_range(numbers, [Path(f) for f in files], seed, every, deadline, Path(keep) if keep else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=3000, help="how many mutants (default 3000)")
    parser.add_argument("--minutes", type=float, help="run until this much time has passed instead")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seed", default="msgsess", help="seed of the mutants (default msgsess)")
    parser.add_argument("--subprocess-every", type=int, default=25, help="also as processes, every Nth")
    parser.add_argument("--only", type=int, help="run mutant N alone")
    parser.add_argument("--keep", type=Path, help="save failing mutants in this folder")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    options = parser.parse_args(argv)
    files = seeds(options.corpus)
    if not files:
        print(f"fuzz: no .msg files in {options.corpus}", file=sys.stderr)
        return 2
    started = time.monotonic()
    if options.only is not None:
        report = fuzz_range(range(options.only, options.only + 1), files, options.seed, 1, None, options.keep)
    else:
        deadline = started + options.minutes * 60 if options.minutes else None
        limit = None if options.minutes else options.mutants
        keep = str(options.keep) if options.keep else None
        names = [str(f) for f in files]
        every = options.subprocess_every
        jobs = [
            (i, options.jobs, names, options.seed, every, deadline, limit, keep) for i in range(options.jobs)
        ]
        report = Report()
        if options.jobs == 1:
            report = _worker(jobs[0])
        else:
            import multiprocessing

            with multiprocessing.get_context("spawn").Pool(options.jobs) as pool:
                for part in pool.imap_unordered(_worker, jobs):
                    report.add(part)
    elapsed = time.monotonic() - started
    for problem in report.problems:
        print(problem)
    codes = ", ".join(f"{code}: {count}" for code, count in sorted(report.codes.items()))
    print(
        f"fuzz: {report.mutants} mutants, {report.runs} runs in {elapsed / 60:.1f} min; "
        f"{report.internal_errors} internal errors, {len(report.problems)} problems (exit codes {codes}; "
        f"slowest run {report.slowest[0]:.2f} s, {report.slowest[1]})"
    )
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
