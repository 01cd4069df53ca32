"""``import``: many MIME messages into a session at once (``.eml`` files, folders of them, mbox).

Each message becomes a session message whose ``eml`` is its bytes, so that it is written at
``close`` like any other and can be changed before (``set``, ``recipient``, ``attach``…).
Outputs are named as ``msgsess convert`` names them: ``DIR/<stem>.msg``, files found in a
folder keep their path below it, each message of an mbox ``DIR/<mbox stem>-<n>.msg``; ``DIR`` is
``out_dir``, else the input's own folder (a folder given is its own root).

One transaction, all or nothing, as ``add --json``: a clash or a file that is no mail adds
nothing. Inputs are read one message at a time inside it (an mbox is never whole in memory),
so the session stays locked while an import runs. Running the same import again is cheap and
safe: an input whose output is already its message's is skipped (its id printed again), unless
``replace``, which replaces it with the input as it is now.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from msgsess.errors import InvalidParameter, NotFound, located
from msgsess.session.inputs import Input, load_eml
from msgsess.session.store import Settings, Store, transaction
from msgsess.session.usecases import Warn, _insert_spec, output_taken

#: Extensions searched for in folders; other files given by name are sniffed.
FOLDER_KINDS = (".eml", ".mbox", ".mbx")


@dataclass
class Imported:
    """What an import did: one id per message of the inputs (in their order), and counts."""

    ids: list[str] = field(default_factory=list)
    added: int = 0
    replaced: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class _Input:
    """One input file: where it is, what it is (``eml``/``mbox``) and its output's stem path."""

    source: str
    kind: str
    target: str


def plan(inputs: list[str], out_dir: str | None) -> list[_Input]:
    """The files to import, in order: files as given, folders searched recursively (sorted).

    A missing input is NotFound, a ``.msg`` given by name InvalidParameter (``edit`` takes it),
    before anything is read.
    """
    from msgsess.convert import plan as convert_plan

    found: list[_Input] = []
    for given in inputs:
        if not os.path.lexists(given):
            raise NotFound(f"{given}: no such file or folder", hint="check the path")
        folder = os.path.isdir(given)
        root = out_dir if out_dir is not None else given if folder else os.path.dirname(given) or "."
        tasks, _refused = convert_plan([given], root)  # one input: no clash between inputs here
        for task in tasks:
            if task.kind == "msg":
                if folder:
                    continue  # a folder's .msg files are no mail to import
                raise InvalidParameter(
                    f"{given} is a .msg file, not MIME mail",
                    hint=f"`msgsess edit SESSION {given}` adds a .msg file to change",
                )
            found.append(_Input(task.source, task.kind, task.target))
    return found


def _messages(item: _Input) -> Iterator[tuple[str, str, bytes | None]]:
    """(label, output, bytes or None to read the file) of each message of one input."""
    if item.kind != "mbox":
        yield item.source, item.target, None
        return
    from msgsess.mime import iter_mbox

    try:
        stream = open(item.source, "rb")  # noqa: SIM115 - closed below, after the last message
    except OSError as exc:
        raise InvalidParameter(f"cannot read {item.source}: {exc.strerror}", hint="check the file") from None
    with stream:
        for number, data in enumerate(iter_mbox(stream), start=1):
            yield f"{item.source} message {number}", f"{item.target}-{number}.msg", data


def import_mail(
    path: str | os.PathLike[str],
    inputs: list[str],
    *,
    out_dir: str | None = None,
    replace: bool = False,
    warn: Warn | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Imported:
    """Import every message of ``inputs`` (files, folders, mbox) into the session at ``path``.

    ``progress(done, total)`` is called after each input file. Warnings (what a message's
    reader repaired or guessed) are given after the import is committed.
    """
    files = plan(inputs, out_dir)
    result = Imported()
    warnings: list[str] = []
    with transaction(path, write=True) as store:
        importer = _Importer(store, store.settings(), result, replace, warnings.append)
        for done, item in enumerate(files, start=1):
            for label, target, data in _messages(item):
                with located(label):
                    importer.one(item.source, target, data, label)
            if progress is not None:
                progress(done, len(files))
    if warn is not None:
        for text in warnings:
            warn(text)
    return result


@dataclass
class _Importer:
    """One import's transaction: what it added so far, and where."""

    store: Store
    settings: Settings
    result: Imported
    replace: bool
    warn: Warn
    #: Outputs of this import's messages (two inputs with one output clash, even with replace).
    outputs: set[str] = field(default_factory=set)

    def one(self, source: str, target: str, data: bytes | None, label: str) -> None:
        store, result = self.store, self.result
        output = os.path.abspath(target)
        owner = store.output_owner(output)
        if owner is not None and (not self.replace or os.path.realpath(output) in self.outputs):
            eml = store.get(owner[0]).spec.get("eml")
            same = isinstance(eml, dict) and eml.get("file") == os.path.abspath(source)
            if same and os.path.realpath(output) not in self.outputs:
                result.ids.append(owner[0])  # imported before: resumed
                result.skipped += 1
                self.outputs.add(os.path.realpath(output))
                return
            raise output_taken(store, output, owner, "import")
        loaded = load_eml({"file": source}, data, label)
        item = Input(label, {"output": output, "eml": {"file": source}}, None, None, eml=loaded)
        stored = _insert_spec(store, item, self.settings, label, self.warn, self.replace)
        self.outputs.add(os.path.realpath(output))
        result.ids.append(stored.id)
        if owner is None:
            result.added += 1
        else:
            result.replaced += 1
