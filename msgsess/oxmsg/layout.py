"""Byte layouts and names of MS-OXMSG, as data ([MS-OXMSG] 2.2, 2.4)."""

from __future__ import annotations

import struct
import uuid

#: Root CLSIDs: a message and an Outlook template (.oft).
CLSID_MAIL_MESSAGE = uuid.UUID("00020D0B-0000-0000-C000-000000000046").bytes_le
CLSID_TEMPLATE = uuid.UUID("0006F046-0000-0000-C000-000000000046").bytes_le

PROPERTIES = "__properties_version1.0"
NAMEID = "__nameid_version1.0"
RECIP_PREFIX = "__recip_version1.0_#"
ATTACH_PREFIX = "__attach_version1.0_#"
SUBSTG_PREFIX = "__substg1.0_"
ATTACH_OBJECT = "__substg1.0_3701000D"

#: At most this many recipient and attachment storages per message ([MS-OXMSG] 2.2.1, 2.2.2).
MAX_OBJECTS = 2048

#: Embedded messages nest at most this deep, in what msgsess writes and in what it reads: each
#: level is two storages, and the compound-file reader allows 64 (``msgsess.cfb.Limits``).
MAX_EMBEDDING_DEPTH = 30

#: [MS-OXMSG] 2.4.1.1: top level 32 bytes, embedded 24, recipient/attachment 8.
TOP_HEADER = struct.Struct("<8xIIII8x")
EMBEDDED_HEADER = struct.Struct("<8xIIII")
OBJECT_HEADER_SIZE = 8

#: [MS-OXMSG] 2.4.2: tag, flags, 8-byte value (or size + reserved).
ENTRY = struct.Struct("<II8s")
VAR_ENTRY = struct.Struct("<IIII")
U32 = struct.Struct("<I")
MV_BINARY_LENGTH = struct.Struct("<II")

#: Reserved field of the PidTagAttachDataObject entry ([MS-OXMSG] 2.4.2.2).
RESERVED_EMBEDDED = 0x1
RESERVED_CUSTOM = 0x4
OBJECT_SIZE = 0xFFFFFFFF


def value_stream(tag: int) -> str:
    return f"{SUBSTG_PREFIX}{tag:08X}"


def mv_value_stream(tag: int, index: int) -> str:
    return f"{SUBSTG_PREFIX}{tag:08X}-{index:08X}"


def recip_storage(index: int) -> str:
    return f"{RECIP_PREFIX}{index:08X}"


def attach_storage(index: int) -> str:
    return f"{ATTACH_PREFIX}{index:08X}"
