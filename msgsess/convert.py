"""Converters between ``.msg`` bytes and MIME mail bytes, and bulk conversion of files.

``eml_to_msg`` and ``msg_to_eml`` are pure functions on bytes: nothing touches the disk, so
a process pool, Dask or Spark can map them over many files (``docs/SCALE.md``). The rest of
this module is ``msgsess convert``: planning outputs for files, folders and mbox archives,
converting each on its own (per-file results, not all or nothing) in worker processes, and
writing every output atomically.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msgsess import cfb
from msgsess.errors import Collision, MsgsessError
from msgsess.inputs import read_input
from msgsess.mime import eml_to_message, iter_mbox, message_to_eml
from msgsess.mime.mbox import looks_like_mbox
from msgsess.oxmsg import decode, encode

__all__ = ["Options", "Result", "Task", "eml_to_msg", "export_file", "msg_to_eml", "plan", "run"]

_CFB_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def eml_to_msg(data: bytes, *, unicode: bool = True, codepage: int = 1252, name: str = "<bytes>") -> bytes:
    """The MIME message ``data`` as a ``.msg`` file (Unicode, or ANSI strings in ``codepage``).

    Damaged mail converts as well as it can (see :func:`msgsess.mime.eml_to_message` for the
    warnings); bytes that are not mail at all raise :class:`~msgsess.errors.CorruptFile` naming
    ``name``, text an ANSI code page cannot hold :class:`~msgsess.errors.Unconvertible`.
    """
    message, _warnings = eml_to_message(data, label=name)
    return cfb.to_bytes(encode(message, unicode=unicode, codepage=codepage, label=name))


def msg_to_eml(data: bytes, *, crlf: bool = False, name: str = "<bytes>") -> bytes:
    """The ``.msg`` file ``data`` as a MIME message (7-bit; CRLF line ends with ``crlf``).

    Damaged input raises :class:`~msgsess.errors.CorruptFile` naming ``name``.
    """
    message = decode(cfb.read_bytes(data, name), label=name)
    return message_to_eml(message, crlf=crlf, storage_bytes=cfb.to_bytes)


def export_file(source: str, target: Path | None, *, crlf: bool = False, force: bool = False) -> bytes:
    """Export the ``.msg`` at ``source`` as MIME to ``target`` (atomically), or return it when None.

    An existing ``target`` is refused with :class:`~msgsess.errors.Collision` unless ``force``.
    """
    if target is not None and not force and (target.exists() or target.is_symlink()):
        raise Collision(f"{target} exists", hint="remove it, or give --force to replace it").at(source)
    data = msg_to_eml(read_input(source), crlf=crlf, name=source)
    if target is not None:
        cfb.write_bytes_atomic(data, target)
    return data


# --- bulk conversion (msgsess convert) -------------------------------------------------------

#: Input kinds by extension; other files given by name are sniffed.
_KINDS = {".eml": "eml", ".msg": "msg", ".mbox": "mbox", ".mbx": "mbox"}
#: Tasks sent to a worker at once: small files convert in about a millisecond, so one
#: task each would spend more time in the pipe than in the work.
BATCH = 32


@dataclass(slots=True)
class Task:
    """One conversion: an input file (or one message of an mbox) and where its output goes."""

    source: str
    kind: str
    target: str
    #: 1-based number of the message in its mbox, and its bytes (read by the planner).
    number: int | None = None
    data: bytes | None = None


@dataclass
class Result:
    """What became of one input: ``converted``, ``skipped`` (output exists) or ``failed``."""

    input: str
    output: str | None
    status: str
    error: str | None = None
    message: int | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"input": self.input}
        if self.message is not None:
            data["message"] = self.message
        data.update(output=self.output, status=self.status, error=self.error)
        if self.warnings:
            data["warnings"] = self.warnings
        return data


@dataclass(frozen=True)
class Options:
    unicode: bool = True
    codepage: int = 1252
    force: bool = False
    crlf: bool = False


def kind_of(path: str | os.PathLike[str]) -> str:
    """``eml``, ``msg`` or ``mbox``: by extension, else by the first bytes (an extension-less mbox)."""
    suffix = os.path.splitext(os.fspath(path))[1]
    kind = _KINDS.get(suffix.lower())
    if kind is not None:
        return kind
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return "eml"
    if head.startswith(_CFB_SIGNATURE):
        return "msg"
    if not suffix and looks_like_mbox(head):
        return "mbox"
    return "eml"


def plan(inputs: list[str], out_dir: str) -> tuple[list[Task], list[Result]]:
    """The conversions for ``inputs`` (files, and folders searched recursively), and inputs refused.

    Each output is ``out_dir/<stem>.msg`` (``.eml`` for a ``.msg`` input); files found in a
    folder keep their path below it. mbox files become ``<stem>-<n>`` per message when they
    are converted (:func:`expand`). Two inputs with one output, or an output that is another
    input, are refused.
    """
    tasks: list[Task] = []
    refused: list[Result] = []
    for given in inputs:
        if os.path.isdir(given):
            for file, below in _search(given):
                tasks.append(_task(file, os.path.join(out_dir, *below)))
        elif os.path.lexists(given):
            tasks.append(_task(given, out_dir))
        else:
            # One failed input among the others (issue 13: results per file, exit 1), in
            # the words import and the readers use for a missing path.
            refused.append(Result(given, None, "failed", f"{given}: no such file or folder (check the path)"))
    cwd = os.getcwd()
    sources: set[str] | None = None
    taken: dict[str, str] = {}
    kept: list[Task] = []
    for task in tasks:
        key = os.path.normcase(os.path.normpath(os.path.join(cwd, task.target)))
        if key in taken:
            refused.append(
                Result(
                    task.source,
                    task.target,
                    "failed",
                    f"{task.source}: {task.target} is also the output of {taken[key]}",
                )
            )
            continue
        # Only an output that exists can be an input: the inputs' real paths are found the
        # first time one does (a run that goes on where it stopped), not for every new output.
        if os.path.lexists(task.target):
            if sources is None:
                sources = {os.path.realpath(t.source) for t in tasks}
            if os.path.realpath(task.target) in sources:
                refused.append(
                    Result(
                        task.source,
                        task.target,
                        "failed",
                        f"{task.source}: its output {task.target} is an input",
                    )
                )
                continue
        taken[key] = task.source
        kept.append(task)
    return kept, refused


def _search(folder: str) -> list[tuple[str, tuple[str, ...]]]:
    """The files below ``folder`` with an input's extension (regular files, or links to them),
    each with the folders between (sorted as paths); folders that are symlinks are not entered
    (as ``Path.rglob``). Directory entries tell files from folders without a ``stat`` each."""
    found: list[tuple[str, tuple[str, ...]]] = []
    pending: list[tuple[str, tuple[str, ...]]] = [(folder, ())]
    while pending:
        here, below = pending.pop()
        try:
            with os.scandir(here) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, (*below, entry.name)))
                    elif os.path.splitext(entry.name)[1].lower() in _KINDS and entry.is_file():
                        found.append((entry.path, below))
        except OSError:
            continue  # an unreadable folder holds nothing we can convert
    return sorted(found, key=lambda item: (*item[1], os.path.basename(item[0])))


def _task(path: str, folder: str) -> Task:
    kind = kind_of(path)
    suffix = {"eml": ".msg", "msg": ".eml", "mbox": ""}[kind]
    stem = os.path.splitext(os.path.basename(path))[0]
    return Task(path, kind, os.path.join(folder, stem + suffix))


def expand(tasks: Iterable[Task]) -> Iterator[Task]:
    """Tasks with every mbox turned into one task per message, read lazily (one message in memory)."""
    for task in tasks:
        if task.kind != "mbox":
            yield task
            continue
        try:
            stream = open(task.source, "rb")  # noqa: SIM115 - closed below, after the last message
        except OSError as exc:
            yield Task(task.source, "error", task.target, data=(exc.strerror or str(exc)).encode())
            continue
        with stream:
            for number, message in enumerate(iter_mbox(stream), start=1):
                yield Task(task.source, "eml", f"{task.target}-{number}.msg", number=number, data=message)


def convert_task(task: Task, options: Options) -> Result:
    """Convert one input and write its output atomically; every failure becomes a ``failed`` Result."""
    target = Path(task.target)
    result = Result(task.source, task.target, "converted", message=task.number)
    if task.kind == "error":
        result.status, result.error = "failed", f"{task.source}: {(task.data or b'').decode()}"
        return result
    if not options.force and os.path.lexists(target):
        result.status = "skipped"
        return result
    label = task.source if task.number is None else f"{task.source} message {task.number}"
    try:
        data = task.data if task.data is not None else read_input(task.source)
        _make_folder(task.target)
        if task.kind == "msg":
            cfb.write_bytes_atomic(msg_to_eml(data, crlf=options.crlf, name=label), target)
        else:
            message, result.warnings = eml_to_message(data, label=label)
            tree = encode(message, unicode=options.unicode, codepage=options.codepage, label=label)
            cfb.write_atomic(tree, target)
    except MsgsessError as exc:
        # Located at the input once: at() does not repeat a place that is already the outermost.
        result.status, result.error = "failed", exc.at(label).one_line()
    except OSError as exc:
        result.status, result.error = "failed", f"{label}: {exc.strerror or exc}"
    return result


def _make_folder(target: str) -> None:
    """Create the folder of an output if it is missing (one ``stat`` when it is there, as it
    is for all but the first of thousands of outputs; no exception raised and caught)."""
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        os.makedirs(folder, exist_ok=True)


def _work(batch: list[Task], options: Options) -> list[Result]:
    return [convert_task(task, options) for task in batch]


def _batches(tasks: Iterable[Task], size: int) -> Iterator[list[Task]]:
    batch: list[Task] = []
    for task in tasks:
        batch.append(task)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run(tasks: Iterable[Task], options: Options, *, jobs: int = 1) -> Iterator[Result]:
    """Convert every task, ``jobs`` processes at a time; results come as they are done.

    Inputs are handed out in batches and at most a few batches per process wait at once, so
    memory stays flat however many files (or mbox messages) there are.
    """
    expanded = expand(tasks)
    if jobs <= 1:
        for task in expanded:
            yield convert_task(task, options)
        return
    import concurrent.futures as cf
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    window = jobs * 4
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        pending: set[cf.Future[list[Result]]] = set()
        for batch in _batches(expanded, BATCH):
            if len(pending) >= window:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    yield from future.result()
            pending.add(pool.submit(_work, batch, options))
        for future in cf.as_completed(pending):
            yield from future.result()
