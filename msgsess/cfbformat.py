"""[MS-CFB] layout constants that the compound-file reader and writer share.

Kept apart from both so that a command that only reads a file (``dump``, ``check``) loads
neither the writer nor anything of the reader it does not use.
"""

from __future__ import annotations

from struct import Struct

# [MS-CFB] 2.1 special sector and stream numbers.
MAXREGSECT = 0xFFFFFFFA
DIFSECT = 0xFFFFFFFC
FATSECT = 0xFFFFFFFD
ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
NOSTREAM = 0xFFFFFFFF

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: [MS-CFB] 2.2: signature, CLSID, minor, major, byte order, sector shift, mini sector shift,
#: reserved, directory sectors, FAT sectors, first directory sector, transaction signature,
#: mini stream cutoff, first MiniFAT sector, MiniFAT sectors, first DIFAT sector, DIFAT sectors.
HEADER = Struct("<8s16sHHHHH6sIIIIIIIII")
#: FAT sector numbers the header itself lists ([MS-CFB] 2.2).
HEADER_DIFAT = 109
MINI_SECTOR_SHIFT = 6
MINI_SECTOR = 1 << MINI_SECTOR_SHIFT
MINI_STREAM_CUTOFF = 0x1000
#: [MS-CFB] 2.6.1: name, name length, type, colour, left, right, child, CLSID, state bits,
#: creation time, modified time, starting sector, stream size.
DIR_ENTRY = Struct("<64sHBBIII16sIQQIQ")
DIR_ENTRY_SIZE = 128
#: [MS-CFB] 2.6.1 object types.
UNALLOCATED, STORAGE, STREAM, ROOT = 0, 1, 2, 5
