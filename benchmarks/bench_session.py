#!/usr/bin/env python
"""Benchmark: the session commands as a shell user meets them (issue 3).

Usage: python benchmarks/bench_session.py [--messages N] [--runs N] [--keep DIR]

Measures (see benchmarks/README.md for the goals):
  startup  a simple `msgsess add` into an existing session against `python -c pass`, both as
           real processes; median of --runs each, after a warm-up run of each
  size     `msgsess add` into a session that already holds --messages messages against one
           into an empty session (median of --runs each; alternated so that drift hits both),
           and the same use case in-process (msgsess.session.add), where process start-up
           does not hide the store's own cost
  json     `msgsess add --json FILE` of --messages JSON lines into an empty session, in
           messages per second
  replace  `msgsess add --replace` of one message (by its OUTPUT) in the session of --messages
           messages against an `add` into an empty session (alternated), as processes and
           in-process (msgsess.session.add with replace=True): finding and replacing the message
           goes through indexes, so the cost does not grow with the session
  attach   `msgsess attach` of one small file to a message that already has 1,500 attachments
           against one to a message that has none (alternated), as processes and in-process
           (msgsess.session.attach): only the new attachment is checked, so the cost stays flat

Child processes run with PYTHONDONTWRITEBYTECODE unset, and the bytecode cache is warmed
first, so start-up is what a user sees from the second run on. Exits non-zero only on errors
(a command failing, a session not holding what was added); a goal not met prints MISSED.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STARTUP_GOAL = 4.0  # msgsess add / python -c pass
SIZE_GOAL = 1.5  # add into a big session / add into an empty one
JSON_GOAL = 1000.0  # messages per second ("thousands")
ATTACH_GOAL = 3.0  # in-process attach to a message of 1,500 attachments / to one of none
REPLACE_GOAL = 1.5  # add --replace of one message in a big session / add into an empty one
ATTACH_BEFORE = 1_500


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # let the children use (and write) __pycache__
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


def msgsess_command() -> list[str]:
    """The console script beside this interpreter (what users run), else ``python -m msgsess``."""
    script = Path(sys.executable).with_name("msgsess")
    if script.exists():
        return [str(script)]
    found = shutil.which("msgsess")
    return [found] if found else [sys.executable, "-m", "msgsess"]


def run(cmd: list[str], cwd: Path, stdin: str | None = None) -> float:
    """Run a command to completion; its wall time in seconds. A failure is an error."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=child_env(), input=stdin, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return elapsed


def warm_bytecode() -> None:
    """Compile every module of the package (and what `add` imports) into __pycache__ once."""
    import compileall

    import msgsess

    compileall.compile_dir(str(Path(msgsess.__file__).parent), quiet=1)


def spec_line(i: int) -> str:
    return json.dumps(
        {
            "output": f"out/{i // 1000:03d}/bulk-{i:06d}.msg",
            "subject": f"Report {i}",
            "from": "Alice Example <alice@example.com>",
            "to": [f"Reader {i} <reader{i}@example.com>"],
            "body": f"Hello reader {i},\nthe numbers are in.\n",
        }
    )


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def bench_startup(work: Path, runs: int, msgsess: list[str]) -> dict[str, Any]:
    run([*msgsess, "open", "start.session"], work)
    python = [sys.executable, "-c", "pass"]
    # Warm-up runs: the OS file cache and __pycache__ are filled before timing.
    run(python, work)
    run([*msgsess, "add", "start.session", "out/warm.msg", "--subject", "warm"], work)
    base, ours = [], []
    for i in range(runs):
        base.append(run(python, work))
        ours.append(
            run(
                [
                    *msgsess, "add", "start.session", f"out/start-{i}.msg", "--subject", "Hi",
                    "--from", "Ann <ann@example.com>", "--to", "Bob <bob@example.com>", "--body", "Hello",
                ],
                work,
            )
        )  # fmt: skip
    return {"python": median_ms(base), "add": median_ms(ours), "ratio": median_ms(ours) / median_ms(base)}


def bench_json(work: Path, n: int, msgsess: list[str]) -> dict[str, Any]:
    lines = work / "bulk.jsonl"
    lines.write_text("\n".join(spec_line(i) for i in range(n)) + "\n", encoding="utf-8")
    run([*msgsess, "open", "big.session"], work)
    seconds = run([*msgsess, "add", "big.session", "--json", str(lines)], work)
    return {"messages": n, "seconds": seconds, "per_second": n / seconds}


def _alternate(
    first: Callable[[int], float], second: Callable[[int], float], runs: int
) -> tuple[float, float]:
    a, b = [], []
    for i in range(runs):
        a.append(first(i))
        b.append(second(i))
    return median_ms(a), median_ms(b)


def bench_size(work: Path, runs: int, msgsess: list[str]) -> dict[str, Any]:
    """``add`` into big.session (already filled by bench_json) against one into an empty session."""
    run([*msgsess, "open", "empty.session"], work)

    def cli_add(session: str) -> Callable[[int], float]:
        def one(i: int) -> float:
            return run(
                [
                    *msgsess, "add", session, f"out/{session}-{i}.msg", "--subject", "One more",
                    "--from", "Ann <ann@example.com>", "--to", "Bob <bob@example.com>", "--body", "Hello",
                ],
                work,
            )  # fmt: skip

        return one

    run([*msgsess, "add", "big.session", "out/warm-big.msg"], work)  # warm the big file's pages
    run([*msgsess, "add", "empty.session", "out/warm-empty.msg"], work)
    empty_cli, big_cli = _alternate(cli_add("empty.session"), cli_add("big.session"), runs)

    # The same use case in-process: no interpreter start-up, so the store's own cost shows.
    from msgsess import session as use

    def lib_add(session: str) -> Callable[[int], float]:
        def one(i: int) -> float:
            spec = {
                "output": str(work / f"out/lib-{session}-{i}.msg"),
                "subject": "One more",
                "from": "Ann <ann@example.com>",
                "to": ["Bob <bob@example.com>"],
                "body": "Hello",
            }
            start = time.perf_counter()
            use.add(work / session, [("", spec)])
            return time.perf_counter() - start

        return one

    lib_runs = max(runs, 50)
    empty_lib, big_lib = _alternate(lib_add("empty.session"), lib_add("big.session"), lib_runs)
    return {
        "cli": (empty_cli, big_cli, big_cli / empty_cli),
        "lib": (empty_lib, big_lib, big_lib / empty_lib),
        "lib_runs": lib_runs,
    }


def bench_replace(work: Path, runs: int, msgsess: list[str], n: int) -> dict[str, Any]:
    """``add --replace`` of an existing message of big.session (found by its output) against an
    ``add`` of a new message into empty.session (both made by the benchmarks before)."""
    args = ["--subject", "Replaced", "--from", "Ann <ann@example.com>", "--to", "Bob <bob@example.com>"]

    def cli_add(i: int) -> float:
        return run([*msgsess, "add", "empty.session", f"out/empty-r{i}.msg", *args, "--body", "Hello"], work)

    def cli_replace(i: int) -> float:
        target = json.loads(spec_line((i * 7919) % n))["output"]
        return run([*msgsess, "add", "--replace", "big.session", target, *args, "--body", f"v{i}"], work)

    empty_cli, replace_cli = _alternate(cli_add, cli_replace, runs)

    from msgsess import session as use

    def lib(session: str, replace: bool) -> Callable[[int], float]:
        def one(i: int) -> float:
            output = json.loads(spec_line((i * 104729) % n))["output"] if replace else f"out/lib-r{i}.msg"
            spec = {"output": str(work / output), "subject": "Replaced", "to": ["Bob <bob@example.com>"]}
            start = time.perf_counter()
            use.add(work / session, [("", spec)], replace=replace)
            return time.perf_counter() - start

        return one

    lib_runs = max(runs, 50)
    empty_lib, replace_lib = _alternate(lib("empty.session", False), lib("big.session", True), lib_runs)
    return {
        "cli": (empty_cli, replace_cli, replace_cli / empty_cli),
        "lib": (empty_lib, replace_lib, replace_lib / empty_lib),
        "lib_runs": lib_runs,
    }


def bench_attach(work: Path, runs: int, msgsess: list[str]) -> dict[str, Any]:
    """``attach`` to a message with ATTACH_BEFORE attachments against one to a message with none."""
    spec_lines = [
        {"id": "full", "output": "out/full.msg", "attachments": [
            {"data": "cGFydA==", "name": f"part{i}.txt"} for i in range(ATTACH_BEFORE)
        ]},
        {"id": "bare", "output": "out/bare.msg"},
    ]  # fmt: skip
    run([*msgsess, "open", "attach.session"], work, stdin=None)
    run(
        [*msgsess, "add", "attach.session", "--json", "-"], work, stdin="\n".join(map(json.dumps, spec_lines))
    )
    (work / "note.txt").write_bytes(b"one more attachment\n")

    def cli_attach(msg_id: str) -> Callable[[int], float]:
        def one(i: int) -> float:
            return run(
                [*msgsess, "attach", "attach.session", msg_id, "note.txt", "--name", f"n{i}.txt"], work
            )

        return one

    empty_cli, full_cli = _alternate(cli_attach("bare"), cli_attach("full"), runs)

    from msgsess import session as use

    def lib_attach(msg_id: str) -> Callable[[int], float]:
        def one(i: int) -> float:
            start = time.perf_counter()
            use.attach(
                work / "attach.session", msg_id, [{"file": str(work / "note.txt"), "name": f"l{i}.txt"}]
            )
            return time.perf_counter() - start

        return one

    lib_runs = max(runs, 50)
    empty_lib, full_lib = _alternate(lib_attach("bare"), lib_attach("full"), lib_runs)
    count = len(next(use.show(work / "attach.session", "full", data=False))["attachments"])
    if count != ATTACH_BEFORE + runs + lib_runs:
        raise RuntimeError(
            f"message full has {count} attachments, expected {ATTACH_BEFORE + runs + lib_runs}"
        )
    return {
        "cli": (empty_cli, full_cli, full_cli / empty_cli),
        "lib": (empty_lib, full_lib, full_lib / empty_lib),
        "lib_runs": lib_runs,
    }


def verify(work: Path, expected: int) -> None:
    from msgsess import session as use

    _unicode, _cp, count = use.session_info(work / "big.session")
    if count != expected:
        raise RuntimeError(f"big.session holds {count} messages, expected {expected}")


def comparison_rows(
    result: dict[str, Any], cli: tuple[str, str], lib: tuple[str, str]
) -> list[tuple[str, str]]:
    """Table rows of one comparison: the two process medians and their ratio, then in-process."""
    (cli_a, cli_b, cli_ratio), (lib_a, lib_b, lib_ratio) = result["cli"], result["lib"]
    return [
        (cli[0], f"{cli_a:.1f} ms"),
        (cli[1], f"{cli_b:.1f} ms"),
        ("  ratio", f"{cli_ratio:.2f} ×"),
        (lib[0], f"{lib_a:.2f} ms"),
        (lib[1], f"{lib_b:.2f} ms"),
        ("  ratio", f"{lib_ratio:.2f} ×"),
    ]


def goal(ok: bool, text: str) -> str:
    return f"{'met   ' if ok else 'MISSED'}  {text}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000, help="size of the big session (20000)")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per process measurement (15)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep the sessions")
    args = parser.parse_args(argv)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-session-"))
    work.mkdir(parents=True, exist_ok=True)
    msgsess = msgsess_command()
    try:
        warm_bytecode()
        startup = bench_startup(work, args.runs, msgsess)
        bulk = bench_json(work, args.messages, msgsess)
        size = bench_size(work, args.runs, msgsess)
        replace = bench_replace(work, args.runs, msgsess, args.messages)
        attach = bench_attach(work, args.runs, msgsess)
        verify(work, args.messages + 1 + args.runs + size["lib_runs"])
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    n = f"{args.messages:,}"
    cli_ratio, lib_ratio = size["cli"][2], size["lib"][2]
    rows = [
        ("python -c pass", f"{startup['python']:.1f} ms"),
        ("msgsess add (existing session)", f"{startup['add']:.1f} ms"),
        ("  ratio", f"{startup['ratio']:.2f} ×"),
        *comparison_rows(
            size,
            ("msgsess add, empty session", f"msgsess add, session of {n}"),
            (
                f"session.add in-process, empty ({size['lib_runs']} runs)",
                f"session.add in-process, session of {n}",
            ),
        ),
        (f"add --json of {n} lines", f"{bulk['seconds']:.2f} s"),
        ("  messages per second", f"{bulk['per_second']:,.0f}"),
        *comparison_rows(
            replace,
            ("msgsess add, empty session (again)", f"msgsess add --replace, session of {n}"),
            (f"session.add in-process, empty ({replace['lib_runs']} runs)", f"session.add replace=True, {n}"),
        ),
        *comparison_rows(
            attach,
            ("msgsess attach, message of 0 attachments", f"msgsess attach, message of {ATTACH_BEFORE:,}"),
            (
                f"session.attach in-process, 0 ({attach['lib_runs']} runs)",
                f"session.attach in-process, {ATTACH_BEFORE:,}",
            ),
        ),
    ]
    print(f"msgsess: {' '.join(msgsess)}; python {sys.version.split()[0]}; medians of {args.runs} runs")
    print(f"{'measure':<46} {'value':>12}")
    for label, value in rows:
        print(f"{label:<46} {value:>12}")
    print()
    startup_text = f"startup: add is {startup['ratio']:.2f}× python -c pass (goal < {STARTUP_GOAL:g}×)"
    size_text = (
        f"size: add into {n} messages is {cli_ratio:.2f}× add into none "
        f"(goal ≤ {SIZE_GOAL:g}×; in-process {lib_ratio:.2f}×)"
    )
    json_text = f"json: {bulk['per_second']:,.0f} messages/s (goal: thousands)"
    print(goal(startup["ratio"] < STARTUP_GOAL, startup_text))
    print(goal(cli_ratio <= SIZE_GOAL, size_text))
    print(goal(bulk["per_second"] >= JSON_GOAL, json_text))
    attach_text = (
        f"attach: to {ATTACH_BEFORE:,} attachments is {attach['lib'][2]:.2f}× to none in-process "
        f"(goal ≤ {ATTACH_GOAL:g}×; as processes {attach['cli'][2]:.2f}×)"
    )
    print(goal(attach["lib"][2] <= ATTACH_GOAL, attach_text))
    replace_text = (
        f"replace: add --replace in {n} messages is {replace['cli'][2]:.2f}× add into none "
        f"(goal ≤ {REPLACE_GOAL:g}×; in-process {replace['lib'][2]:.2f}×)"
    )
    print(goal(replace["cli"][2] <= REPLACE_GOAL, replace_text))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
