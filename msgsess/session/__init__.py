"""Sessions: a transactional store of messages that are not files yet, and its use cases.

Each function runs one command in one transaction and returns a result; nothing here prints.
``close`` lives in :mod:`msgsess.session.close` (it needs the codec and the compound-file writer).
"""

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
