"""The pure .msg codec: message model <-> storage tree. Never touches the disk.

``encode`` and ``decode`` load on first use, so that light users of the package
(``from msgsess.oxmsg import layout`` on a command's start-up path) do not pay for them.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from msgsess.oxmsg.decoder import decode
    from msgsess.oxmsg.encoder import encode

__all__ = ["decode", "encode"]


def __getattr__(name: str) -> Any:
    value: Any
    if name == "encode":
        from msgsess.oxmsg import encoder

        value = encoder.encode
    elif name == "decode":
        from msgsess.oxmsg import decoder

        value = decoder.decode
    else:
        raise AttributeError(f"module 'msgsess.oxmsg' has no attribute {name!r}")
    # Kept as a module attribute: later look-ups (close encodes every message through
    # ``oxmsg.encode``) no longer come here.
    globals()[name] = value
    return value
