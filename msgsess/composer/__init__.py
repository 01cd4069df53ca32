"""A message spec (the JSON of ``add --json``) -> a model ``Message`` with Outlook's defaults.

Pure: no disk I/O. Attachment bytes and embedded messages come through the
``read_blob`` and ``embedded`` callbacks, the time through ``now``, so the
same spec and time always give the same message (reproducible builds): ids,
search keys and conversation indexes are derived from the content.

One module per concern, each putting its part of the spec on the message:
:mod:`~msgsess.composer.context` (reading the spec), :mod:`~msgsess.composer.message`
(defaults, edits, times, and the order of the parts), :mod:`~msgsess.composer.addresses`,
:mod:`~msgsess.composer.bodies`, :mod:`~msgsess.composer.options`,
:mod:`~msgsess.composer.attachments`. Kinds beyond mail plug in around them
(:class:`msgsess.spec.Kind`); the property ids used live in :mod:`msgsess.props.ids`.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping

from msgsess.composer.addresses import (
    new_recipient,
    one_off_entry_id,
    parse_address,
    search_key,
    set_address_group,
)
from msgsess.composer.attachments import guess_mime, set_file_props, short_name
from msgsess.composer.bodies import missing_content_ids, rtf_bytes
from msgsess.composer.context import Context
from msgsess.composer.message import build, conversation_index
from msgsess.errors import InvalidParameter, MsgsessError
from msgsess.model import Message
from msgsess.props import types as t
from msgsess.spec import KEYS as SPEC_KEYS
from msgsess.spec import all_steps, steps_for
from msgsess.storage import StreamSource

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "check_text",
    "compose",
    "conversation_index",
    "guess_mime",
    "missing_content_ids",
    "new_recipient",
    "now_filetime",
    "one_off_entry_id",
    "parse_address",
    "rtf_bytes",
    "search_key",
    "set_address_group",
    "set_file_props",
    "short_name",
]


def now_filetime() -> t.FileTime:
    return t.FileTime.from_datetime(_dt.datetime.now(_dt.UTC))


def compose(
    spec: Mapping[str, Any],
    *,
    now: t.FileTime | None = None,
    read_blob: Callable[[str], bytes | StreamSource] | None = None,
    embedded: Callable[[Mapping[str, Any]], Message] | None = None,
    label: str = "message",
    unicode: bool = True,
    codepage: int = 1252,
    base: Message | None = None,
    from_index: Mapping[str, int] | None = None,
) -> Message:
    """Build the model of one message from its spec.

    ``base`` is an existing message (an edited ``.msg``) that the spec changes;
    without it a new message gets the defaults a user of Outlook expects.
    ``label`` names the message: errors are located at it, and it seeds the
    message's search key and conversation index. ``from_index`` composes only the
    entries of some lists from an index on (``{"attachments": 3}``), to check
    entries just added without composing the ones checked before; errors still
    name every entry by its index in the whole list.
    """
    try:
        if not SPEC_KEYS.issuperset(spec):
            unknown = sorted(set(spec) - SPEC_KEYS)
            raise InvalidParameter(
                f"unknown key {unknown[0]!r}", hint=f"known keys: {', '.join(sorted(SPEC_KEYS))}"
            )
        check_text(spec)
        when = now if now is not None else now_filetime()
        # Kinds beyond mail (msgsess.spec.Kind.steps): each turns its keys into mail keys first
        # (for an edited message, merged over the fields it has), then puts its own properties
        # on the message the mail composer built.
        prepared = []
        for steps in steps_for(spec):
            if base is None:
                state = steps.prepare(spec, label=label)
            else:
                state = steps.prepare_edit(base, spec, label=label)
            prepared.append((steps, state))
            spec = state.mail_spec
        ctx = Context(spec, when, read_blob, embedded, label, unicode, codepage, from_index or {})
        msg = build(ctx, base)
        for steps, state in prepared:
            steps.apply(state, msg, now=when)
        refresh = base is not None and not prepared and _sets_named(spec.get("properties"))
        if refresh:
            # An edited item whose named properties were set directly (its start…): what
            # derives from them follows (a series' start moves to its first occurrence, as in
            # Outlook). An edit that leaves them alone keeps every property.
            for steps in all_steps():
                steps.refresh(msg)
        if prepared:  # what was --set wins over what the kind derives
            ctx.overrides(msg.props, spec.get("properties"), "properties")
        return msg
    except MsgsessError as exc:
        exc.at(label)
        raise


def _sets_named(props: Any) -> bool:
    """Whether a ``properties`` object sets or removes a named property (PidLid…)."""
    if not isinstance(props, Mapping) or not props:
        return False
    from msgsess.props import registry
    from msgsess.props.keys import NamedId

    return any(isinstance(registry.resolve(str(name)).pid, NamedId) for name in props)


#: What no text of a spec may hold: NUL, or half of a surrogate pair.
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_search = _BAD_CHAR.search
#: Keys whose values are the captured bytes of an edited file, not text.
_NOT_TEXT = frozenset({"source", "eml"})


def check_text(value: Any, path: str = "") -> None:
    """Every string of a spec is text a .msg can hold: no NUL, no unpaired surrogate.

    A NUL would end a string early for most readers and shift the fields of a one-off
    entry id; an unpaired surrogate is no character at all. The error is located at the
    JSON path of the string (``to[2]``, ``attachments[0].name``).

    Run on every spec composed: the strings of an object or a list are scanned where they
    stand, and only what is not clean text (an object, a list, a bad string) comes back here
    with its path, so a clean spec costs one call per object and list, not one per string.
    """
    if isinstance(value, str):
        bad = _search(value)  # one scan in C, however long the text
        if bad is not None:
            char = bad.group()
            shown = "NUL" if char == "\0" else f"an unpaired surrogate U+{ord(char):04X}"
            raise InvalidParameter(
                f"{shown} at character {bad.start()}", hint="remove it; text cannot hold it"
            ).at(path or "spec")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key in _NOT_TEXT:
                continue
            if isinstance(key, str) and _search(key) is not None:
                check_text(key, path or "spec")
            if not (isinstance(item, str) and _search(item) is None):
                check_text(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if not (isinstance(item, str) and _search(item) is None):
                check_text(item, f"{path}[{index}]")
