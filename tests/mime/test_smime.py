"""S/MIME: a really signed message keeps a signature that verifies, EML -> MSG -> EML -> MSG.

The message is signed here with the ``cryptography`` package (a fresh key and a self-signed
certificate) and verified with ``openssl smime -verify`` ([MS-OXOSMIME] 2.1.3.2: the signed
entity is the single attachment smime.p7m of an IPM.Note.SMIME.MultipartSigned message).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import olefile
import pytest

from msgsess.convert import eml_to_msg, msg_to_eml
from msgsess.mime.raw import split_head, split_parts

cryptography = pytest.importorskip("cryptography")
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs7  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

OPENSSL = shutil.which("openssl")
CONTENT = (
    b"Content-Type: multipart/alternative; boundary=inner\r\n\r\n"
    b"--inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Signed text  with two spaces and a trailing one \r\n"
    b"--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Signed <b>HTML</b></p>\r\n--inner--\r\n"
)
ATTACHMENT = "__attach_version1.0_#00000000/"


def signed_mail() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "signer@example.com")])
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    body = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(CONTENT)
        .add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.SMIME, [pkcs7.PKCS7Options.DetachedSignature])
    )
    head = (
        b"From: Signer <signer@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: Signed\r\n"
        b"Date: Tue, 02 Jan 2024 03:04:05 +0000\r\nMessage-ID: <signed@example.com>\r\n"
    )
    return head + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def verify(data: bytes, tmp_path: Path) -> None:
    if OPENSSL is None:
        return
    path = tmp_path / "verify.eml"
    path.write_bytes(data)
    proc = subprocess.run(
        [OPENSSL, "smime", "-verify", "-noverify", "-in", str(path), "-out", str(tmp_path / "content")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "content").read_bytes().replace(b"\r\n", b"\n") == CONTENT.replace(b"\r\n", b"\n")


def signed_parts(data: bytes) -> list[bytes]:
    """The signed content and the signature part, as bytes, of a multipart/signed message."""
    head, body = split_head(data)
    boundary = head.split(b'boundary="', 1)[1].split(b'"', 1)[0].decode()
    parts = split_parts(body, boundary)
    assert parts is not None and len(parts) == 2
    return parts


def stored_entity(msg_bytes: bytes, tmp_path: Path) -> bytes:
    path = tmp_path / "signed.msg"
    path.write_bytes(msg_bytes)
    with olefile.OleFileIO(str(path)) as ole:
        assert (
            ole.openstream("__substg1.0_001A001F").read().decode("utf-16-le")
            == "IPM.Note.SMIME.MultipartSigned"
        )
        name = ole.openstream(ATTACHMENT + "__substg1.0_3707001F").read().decode("utf-16-le")
        mime = ole.openstream(ATTACHMENT + "__substg1.0_370E001F").read().decode("utf-16-le")
        assert (name, mime) == ("smime.p7m", "multipart/signed")
        assert not ole.exists("__attach_version1.0_#00000001")
        return bytes(ole.openstream(ATTACHMENT + "__substg1.0_37010102").read())


def test_signature_survives_both_ways(tmp_path: Path) -> None:
    original = signed_mail()
    verify(original, tmp_path)
    as_msg = eml_to_msg(original)
    entity = stored_entity(as_msg, tmp_path)
    # The signed entity is stored whole: its Content-Type, then the body as it was.
    assert entity.startswith(b"Content-Type: multipart/signed;")
    assert entity.endswith(split_head(original)[1])

    back = msg_to_eml(as_msg)
    verify(back, tmp_path)
    assert signed_parts(back) == signed_parts(original)
    assert b"Subject: Signed" in back and b"From: Signer <signer@example.com>" in back

    again = eml_to_msg(back)
    assert stored_entity(again, tmp_path) == entity
    verify(msg_to_eml(again, crlf=True), tmp_path)


def test_signed_message_body_is_promoted(tmp_path: Path, to_msg: Any) -> None:
    em = to_msg(signed_mail())
    assert em.classType == "IPM.Note.SMIME.MultipartSigned"
    assert em.subject == "Signed"
    # extract-msg opens the signed entity and shows its bodies.
    assert "Signed text" in em.body
