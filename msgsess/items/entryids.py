"""One-off EntryIDs ([MS-OXCDATA] 2.2.5.1) of contact e-mail addresses and list members, both ways."""

from __future__ import annotations

import struct

ONE_OFF_PROVIDER = bytes.fromhex("812B1FA4BEA310199D6E00DD010F5402")
#: MAPI_ONE_OFF_UNICODE | MAPI_ONE_OFF_NO_RICH_INFO, as Outlook writes them.
ONE_OFF_FLAGS = 0x8001
_HEAD = struct.Struct("<4s16sHH")


def one_off(name: str, addr_type: str, address: str) -> bytes:
    """The Unicode one-off EntryID of an address."""
    text = "".join(part + "\0" for part in (name, addr_type, address))
    return _HEAD.pack(bytes(4), ONE_OFF_PROVIDER, 0, ONE_OFF_FLAGS) + text.encode(
        "utf-16-le", "surrogatepass"
    )


def parse_one_off(data: bytes) -> tuple[str, str, str] | None:
    """(display name, address type, address) of a one-off EntryID, or None for any other EntryID."""
    if len(data) < _HEAD.size or data[4:20] != ONE_OFF_PROVIDER:
        return None
    _flags, _version, flags = data[:4], *struct.unpack_from("<HH", data, 20)
    body = data[_HEAD.size :]
    if flags & 0x8000:
        parts = body.decode("utf-16-le", "replace").split("\0")
    else:
        parts = body.decode("latin-1").split("\0")
    if len(parts) < 3:
        return None
    return parts[0], parts[1], parts[2]
