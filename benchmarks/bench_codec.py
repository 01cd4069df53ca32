#!/usr/bin/env python
"""Benchmark: writing .msg files with msgsess against bare OleWriter and cp.

Usage: python benchmarks/bench_codec.py [--quick] [--repeat N] [--keep DIR]

Cases (see benchmarks/README.md for the goals):
  small  1,000 small messages to 1,000 files
  big    one message with a 200 MB attachment
  many   one message with 2,000 attachments of 5 KB

Methods, each run in its own child process (so peak memory is per case):
  ours   build the model, msgsess.oxmsg.encode -> Storage, msgsess.cfb.write_atomic
         (temporary file + rename, as `close` does); the goals are judged on this
  ours-durable  the same with write_atomic(durable=True): fsync of file and folder,
         which bare OleWriter does not do either; shows what durability costs
  bare   the same streams written with extract_msg.OleWriter (addEntry per entry, write)
  cp     shutil.copyfile of the same bytes, prepared beforehand

Exits non-zero only on errors (a child failing, an output that does not open);
a missed goal prints MISSED.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CASES = ("small", "big", "many")
METHODS = ("ours", "ours-durable", "bare", "cp")
FULL = {"small": 1000, "big": 200 * 1024 * 1024, "many": 2000}
QUICK = {"small": 100, "big": 20 * 1024 * 1024, "many": 500}
#: case -> (max ours/bare time ratio, max peak RSS / output size or None)
GOALS: dict[str, tuple[float, float | None]] = {
    "small": (1.3, None),
    "big": (1.3, 1.5),
    "many": (0.33, None),
}


# --------------------------------------------------------------------------- child side


def _payload(size: int, seed: int) -> bytes:
    block = bytes((i * 31 + seed) & 0xFF for i in range(4096))
    whole, rest = divmod(size, len(block))
    return block * whole + block[:rest]


def build_messages(case: str, n: int) -> list[Any]:
    """The message models of a case (msgsess.model), built from plain values."""
    from msgsess import model
    from msgsess.props import ids
    from msgsess.props import types as t

    def message(i: int, attachments: list[tuple[str, bytes]]) -> model.Message:
        msg = model.Message()
        msg.props.set(ids.MESSAGE_CLASS, t.PT_UNICODE, "IPM.Note")
        model.set_subject(msg, f"Benchmark message {i}")
        msg.props.set(ids.BODY, t.PT_UNICODE, f"Hello,\r\n\r\nthis is message {i}.\r\n" * 5)
        rcpt = model.Recipient()
        rcpt.props.set(ids.DISPLAY_NAME, t.PT_UNICODE, f"Person {i}")
        rcpt.props.set(ids.EMAIL_ADDRESS, t.PT_UNICODE, f"person{i}@example.com")
        rcpt.props.set(ids.RECIPIENT_TYPE, t.PT_LONG, ids.MAPI_TO)
        msg.recipients.append(rcpt)
        for name, data in attachments:
            att = model.Attachment()
            att.props.set(ids.ATTACH_METHOD, t.PT_LONG, ids.ATTACH_BY_VALUE)
            att.props.set(ids.ATTACH_LONG_FILENAME, t.PT_UNICODE, name)
            att.props.set(ids.ATTACH_DATA, t.PT_BINARY, data)
            msg.attachments.append(att)
        model.refresh_derived(msg)
        return msg

    if case == "small":
        return [message(i, []) for i in range(n)]
    if case == "big":
        return [message(0, [("big.bin", _PAYLOADS["big"])])]
    data = _PAYLOADS["many"]
    return [message(0, [(f"file{i:04d}.txt", data) for i in range(n)])]


_PAYLOADS: dict[str, bytes] = {}


def encode_all(messages: list[Any]) -> list[Any]:
    from msgsess import oxmsg

    return [oxmsg.encode(m, label=f"bench {i}") for i, m in enumerate(messages)]


def bare_write(tree: Any, target: Path) -> None:
    """The same tree through OleWriter's public API: one addEntry per entry."""
    from extract_msg import OleWriter

    writer = OleWriter(tree.clsid)
    stack: list[tuple[list[str], Any]] = [([], tree)]
    while stack:
        path, node = stack.pop()
        for name, child in node.entries.items():
            if isinstance(child, bytes):
                writer.addEntry([*path, name], data=child)
            else:
                writer.addEntry(
                    [*path, name],
                    storage=True,
                    clsid=child.clsid,
                    creationTime=child.created,
                    modifiedTime=child.modified,
                )
                stack.append(([*path, name], child))
    writer.write(str(target))


def peak_rss() -> int:
    """Peak resident set size of this process, in bytes.

    VmHWM belongs to this process image; ru_maxrss on Linux also carries the parent's
    peak over fork + exec, which would let one case pollute the next.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def run_child(case: str, method: str, n: int, out: Path) -> dict[str, Any]:
    """Set up (untimed), then time one method of one case; report time and peak RSS."""
    from msgsess import cfb

    if case == "big":
        _PAYLOADS["big"] = _payload(n, 1)
    elif case == "many":
        _PAYLOADS["many"] = _payload(5 * 1024, 2)
    count = n if case == "small" else 1
    targets = [out / f"{case}-{method}-{i:04d}.msg" for i in range(count)]
    if method in ("ours", "ours-durable"):
        durable = method == "ours-durable"
        started = time.perf_counter()
        messages = build_messages(case, n)
        for msg, target in zip(messages, targets, strict=True):
            # One message at a time, as `close` does: its tree is dropped before the next.
            cfb.write_atomic(encode_all([msg])[0], target, durable=durable)
        elapsed = time.perf_counter() - started
    elif method == "bare":
        trees = encode_all(build_messages(case, n))
        started = time.perf_counter()
        for tree, target in zip(trees, targets, strict=True):
            bare_write(tree, target)
        elapsed = time.perf_counter() - started
    else:
        sources = []
        for i, tree in enumerate(encode_all(build_messages(case, n))):
            src = out / f"src-{case}-{i:04d}.bin"
            with open(src, "wb") as f:
                cfb.write_stream(tree, f)
            sources.append(src)
        started = time.perf_counter()
        for src, target in zip(sources, targets, strict=True):
            shutil.copyfile(src, target)
        elapsed = time.perf_counter() - started
        for src in sources:
            src.unlink()
    return {
        "seconds": elapsed,
        "peak_bytes": peak_rss(),
        "files": [str(p) for p in targets],
        "total_bytes": sum(p.stat().st_size for p in targets),
    }


# --------------------------------------------------------------------------- parent side


def verify(files: list[str]) -> None:
    """Every output opens with olefile and extract-msg at their default settings."""
    import extract_msg
    import olefile

    for name in files:
        with olefile.OleFileIO(name) as ole:
            ole.listdir()
        msg = extract_msg.openMsg(name)
        try:
            msg.subject  # noqa: B018 (parse the property stream)
            for att in msg.attachments:
                att.data  # noqa: B018
        finally:
            msg.close()


def spawn(case: str, method: str, n: int, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", case, method, str(n), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{case}/{method} failed:\n{proc.stderr.strip()}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def mib(n: float) -> str:
    return f"{n / (1 << 20):8.1f}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller cases (a quick smoke run)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case and method; best time is kept")
    parser.add_argument("--keep", type=Path, help="write outputs under this directory and keep them")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case, method, n, out = args.child
        print(json.dumps(run_child(case, method, int(n), Path(out))))
        return 0

    sizes = QUICK if args.quick else FULL
    base = args.keep or Path(tempfile.mkdtemp(prefix="msgsess-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"msgsess codec benchmark ({'quick' if args.quick else 'full'}), outputs in {base}")
    print(
        f"{'case':<6} {'method':<11} {'seconds':>8} {'files':>5} {'out MiB':>8} {'peak MiB':>8} "
        f"{'vs bare':>8} {'vs cp':>8}"
    )
    errors = 0
    missed: list[str] = []
    try:
        for case in CASES:
            out = base / case
            out.mkdir(exist_ok=True)
            results: dict[str, dict[str, Any]] = {}
            for method in METHODS:
                try:
                    runs = []
                    for attempt in range(max(1, args.repeat)):
                        if attempt:  # every run writes new files, as a real run does
                            for name in runs[-1]["files"]:
                                os.unlink(name)
                        runs.append(spawn(case, method, sizes[case], out))
                    best = min(runs, key=lambda r: r["seconds"])
                    best["peak_bytes"] = max(r["peak_bytes"] for r in runs)
                    results[method] = best
                    verify(runs[-1]["files"])
                    best["files"] = runs[-1]["files"]
                except Exception as exc:
                    errors += 1
                    print(f"ERROR {case}/{method}: {exc}", file=sys.stderr)
            for method, r in results.items():
                vs_bare = vs_cp = ""
                if "bare" in results:
                    vs_bare = f"{r['seconds'] / results['bare']['seconds']:7.2f}x"
                if "cp" in results:
                    vs_cp = f"{r['seconds'] / results['cp']['seconds']:7.1f}x"
                print(
                    f"{case:<6} {method:<11} {r['seconds']:8.3f} {len(r['files']):5d} "
                    f"{mib(r['total_bytes'])} {mib(r['peak_bytes'])} {vs_bare:>8} {vs_cp:>8}"
                )
            if "ours" in results and "bare" in results:
                max_ratio, max_mem = GOALS[case]
                ratio = results["ours"]["seconds"] / results["bare"]["seconds"]
                verdict = "met" if ratio <= max_ratio else "MISSED"
                line = f"  goal {case}: ours/bare {ratio:.2f} <= {max_ratio}: {verdict}"
                if verdict != "met":
                    missed.append(f"{case} time")
                if max_mem is not None:
                    mem = results["ours"]["peak_bytes"] / results["ours"]["total_bytes"]
                    mem_verdict = "met" if mem <= max_mem else "MISSED"
                    line += f"; peak/file {mem:.2f} <= {max_mem}: {mem_verdict}"
                    if mem_verdict != "met":
                        missed.append(f"{case} memory")
                print(line)
            for r in results.values():
                for name in r["files"]:
                    if not args.keep:
                        os.unlink(name)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print("all outputs open with olefile and extract-msg" if not errors else f"{errors} error(s)")
    if missed:
        print("MISSED: " + ", ".join(missed))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
