"""msgsess: create and edit Outlook .msg files in sessions, from the shell or from Python.

The public API (``docs/API.md``)::

    import msgsess

    with msgsess.Session.create("work.session") as s:
        m = s.add(output="out/hello.msg", subject="Hello", to=["Bob <bob@example.com>"])
        s.attach(m, "report.pdf")
    message = msgsess.read("out/hello.msg")
    message.props["PidTagSubject"].value  # 'Hello'

Names load on first use, so that ``import msgsess`` (and every command) stays light.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing stays unimported: every command starts here
if TYPE_CHECKING:
    from typing import Any

    from msgsess.api import Session, SessionInfo, compose, export, read, write
    from msgsess.convert import eml_to_msg, msg_to_eml
    from msgsess.errors import MsgsessError
    from msgsess.model import Attachment, Message, Recipient
    from msgsess.spec import AttachmentSpec, MessageSpec, RecipientSpec

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_WHERE = {
    "Session": "msgsess.api",
    "SessionInfo": "msgsess.api",
    "compose": "msgsess.api",
    "read": "msgsess.api",
    "write": "msgsess.api",
    "export": "msgsess.api",
    "eml_to_msg": "msgsess.convert",
    "msg_to_eml": "msgsess.convert",
    "MsgsessError": "msgsess.errors",
    "Message": "msgsess.model",
    "Recipient": "msgsess.model",
    "Attachment": "msgsess.model",
    "MessageSpec": "msgsess.spec",
    "RecipientSpec": "msgsess.spec",
    "AttachmentSpec": "msgsess.spec",
}

__all__ = [
    "Attachment",
    "AttachmentSpec",
    "Message",
    "MessageSpec",
    "MsgsessError",
    "Recipient",
    "RecipientSpec",
    "Session",
    "SessionInfo",
    "__version__",
    "compose",
    "eml_to_msg",
    "export",
    "msg_to_eml",
    "read",
    "write",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'msgsess' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
