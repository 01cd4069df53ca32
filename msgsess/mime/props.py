"""Property ids the MIME mapping needs beyond ``msgsess.props.ids`` ([MS-OXPROPS], [MS-OXCMAIL])."""

from __future__ import annotations

from msgsess.props.keys import PS_INTERNET_HEADERS, PS_PUBLIC_STRINGS, NamedId

ATTACH_RENDERING = 0x3709
ATTACH_PATHNAME = 0x3708
ATTACH_LONG_PATHNAME = 0x370D
ATTACH_CONTENT_BASE = 0x3711
ATTACH_TRANSPORT_NAME = 0x370C
ORIGINAL_SUBJECT = 0x0049
MESSAGE_CLASS_SMIME = "IPM.Note.SMIME"
MESSAGE_CLASS_SIGNED = "IPM.Note.SMIME.MultipartSigned"
SMIME_NAME = "smime.p7m"

#: PidNameKeywords: the categories ([MS-OXCMAIL] 2.2.3.2.11).
KEYWORDS = NamedId(PS_PUBLIC_STRINGS, name="Keywords")
#: The full Content-Type of an attachment whose parameters say more than its name (a calendar's
#: ``method=REQUEST``, an S/MIME ``smime-type``, a text charset): kept so export writes it back.
CONTENT_TYPE = NamedId(PS_INTERNET_HEADERS, name="content-type")


def internet_header(name: str) -> NamedId:
    """The PS_INTERNET_HEADERS property of a header field, lower-cased as Outlook stores them."""
    return NamedId(PS_INTERNET_HEADERS, name=name.lower())
