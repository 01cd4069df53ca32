"""MIME mail <-> the message model, pure: bytes in, bytes out, no files, no sessions.

* :func:`eml_to_message` reads an RFC 5322 / MIME message as Outlook stores received mail
  ([MS-OXCMAIL], [MS-OXOSMIME], [MS-OXTNEF]) and says what it had to guess or repair;
* :func:`message_to_eml` writes a model ``Message`` as RFC 5322 / MIME;
* :func:`iter_mbox` splits an mbox archive into messages, one at a time.

The mapping, and where it deviates from the specifications, is documented in ``docs/EML.md``.
"""

from __future__ import annotations

from msgsess.mime.mbox import iter_mbox
from msgsess.mime.reader import eml_to_message
from msgsess.mime.writer import message_to_eml

__all__ = ["eml_to_message", "iter_mbox", "message_to_eml"]
