"""Correcting a session: remove messages (``rm``) and change where a message goes (``output``).

With ``add --replace`` (in :mod:`msgsess.session.usecases`) these make a session that a build
got wrong fixable without starting over. Each function is one transaction and returns a result;
nothing here prints. Ids are never reused or renumbered: removing ``m2`` leaves ``m3`` as it is,
and the next assigned id is still a new one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from msgsess.errors import InvalidParameter, located
from msgsess.session.inputs import check_text
from msgsess.session.store import Store, transaction
from msgsess.session.usecases import Warn, _save_edit, no_output_warning, output_taken, output_warnings
from msgsess.spec import rows


@dataclass
class Removed:
    """What ``rm`` did."""

    #: The messages removed, in the order given (each once).
    ids: list[str] = field(default_factory=list)
    #: (embedder, attachment number as ``show`` gave it, embedded id): attachments ``--force`` removed.
    detached: list[tuple[str, int, str]] = field(default_factory=list)


def remove(
    path: str | os.PathLike[str], msg_ids: list[str], *, force: bool = False, warn: Warn | None = None
) -> Removed:
    """Remove messages; all of them or (on any error) none.

    A message that another message (not removed with it) embeds is refused, naming the
    embedder, unless ``force``: then the attachments that embed it are removed too. ``warn``
    receives one warning per message left with no output and nothing embedding it (a message
    a removed one embedded), which ``close`` would refuse.
    """
    result = Removed(ids=list(dict.fromkeys(msg_ids)))
    gone = set(result.ids)
    warnings: list[str] = []
    with transaction(path, write=True) as store:
        for msg_id in result.ids:
            store.get(msg_id)  # NotFound for an unknown id, before anything changes
        embedders: dict[str, list[str]] = {}
        for msg_id in result.ids:
            for parent in store.parents(msg_id):
                if parent not in gone:
                    embedders.setdefault(parent, []).append(msg_id)
        if embedders and not force:
            parent, (child, *_) = next(iter(embedders.items()))
            raise InvalidParameter(
                f"message {child} is embedded in message {parent}",
                hint=f"remove both with `msgsess rm {store.path} {parent} {child}`, or add --force to "
                f"remove the attachment of {parent} that embeds it too",
            ).at(str(store.path))
        for parent in embedders:
            result.detached.extend(_detach_embedded(store, parent, gone))
        children = [c for msg_id in result.ids for c in store.children(msg_id) if c not in gone]
        for msg_id in result.ids:
            store.remove(msg_id)
        for child in dict.fromkeys(children):
            if store.get(child).output is None and not store.has_parent(child):
                warnings.append(no_output_warning(store.path, child))
    if warn is not None:
        for text in warnings:
            warn(text)
    return result


def _detach_embedded(store: Store, parent: str, gone: set[str]) -> list[tuple[str, int, str]]:
    """Remove the attachments of ``parent`` that embed a message of ``gone``; their numbers as
    ``show`` gave them before (an edited message's own attachments first)."""
    spec = store.get(parent).spec
    numbered = rows(spec, "attachments")
    atts = spec.get("attachments") or []
    removed = [
        (parent, number, str(atts[index]["message"]))
        for number, (kind, index) in enumerate(numbered)
        if kind == "attachments" and atts[index].get("message") in gone
    ]
    kept = [att for att in atts if att.get("message") not in gone]
    if kept:
        spec["attachments"] = kept
    else:
        spec.pop("attachments", None)
    for child in {att["message"] for att in atts if att.get("message") in gone}:
        store.remove_embed(parent, child)
    _save_edit(store, parent, spec)
    return removed


def output(path: str | os.PathLike[str], msg_id: str) -> str | None:
    """The output of message ``msg_id`` (an absolute path), or None when it has none."""
    with transaction(path, write=False) as store:
        return store.get(msg_id).output


def set_output(
    path: str | os.PathLike[str], msg_id: str, new: str | None, *, warn: Warn | None = None
) -> str | None:
    """Give message ``msg_id`` the output ``new`` (relative to the current folder), or none.

    Another message's output (also through another path to the same file) is refused:
    Collision. Returns the output as kept (absolute). ``warn`` receives the warnings ``add``
    gives: an output that is no ``.msg``/``.oft`` or whose folder is not writable now, or no
    output while nothing embeds the message.
    """
    warnings: list[str] = []
    kept = None if new is None else os.path.abspath(new)
    with transaction(path, write=True) as store:
        store.get(msg_id)  # NotFound for an unknown id
        if new is None or kept is None:
            if not store.has_parent(msg_id):
                warnings.append(no_output_warning(store.path, msg_id))
        else:
            with located(f"message {msg_id}"):
                check_text({"output": kept})
                owner = store.output_owner(kept)
                if owner is not None and owner[0] != msg_id:
                    raise output_taken(store, kept, owner, "output")
            warnings.extend(output_warnings(store.path, msg_id, new, kept))
        store.set_output(msg_id, kept)
    if warn is not None:
        for text in warnings:
            warn(text)
    return kept
