"""The pure .msg codec: message model <-> storage tree. Never touches the disk."""

from msgsess.oxmsg.decoder import decode
from msgsess.oxmsg.encoder import encode

__all__ = ["decode", "encode"]
