"""Sessions: a transactional store of messages that are not files yet, and its use cases.

Each function runs one command in one transaction and returns a result; nothing here prints.
``close`` lives in :mod:`msgsess.session.close` (it needs the codec and the compound-file writer).

The use cases load on first use: commands that only read ``.msg`` files (``dump``, ``check``)
import :mod:`msgsess.session.inputs` without the store, SQLite and the use cases.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from msgsess.session.usecases import (
        add,
        add_properties,
        add_recipients,
        attach,
        detach,
        discard,
        edit_file,
        message_ids,
        open_session,
        remove_recipient,
        session_info,
        set_property,
        show,
        unset_property,
    )

__all__ = [
    "add",
    "add_properties",
    "add_recipients",
    "attach",
    "detach",
    "discard",
    "edit_file",
    "message_ids",
    "open_session",
    "remove_recipient",
    "session_info",
    "set_property",
    "show",
    "unset_property",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from msgsess.session import usecases

        return getattr(usecases, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
