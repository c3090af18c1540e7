"""A throwaway certificate authority and C2PA signing certificate, for development and tests.

Nothing here is fit for production: nobody outside this machine trusts the CA, and its
private key is thrown away once the signing certificate is issued (make a new CA to get a
new certificate). It exists so that the demo and the tests can
sign audio with C2PA manifests (see docs/c2pa.md) without a real certificate.

The certificates follow the C2PA certificate profile that c2pa-python enforces:
X.509 v3; the CA has ``basicConstraints CA:TRUE`` and ``keyCertSign``; the signing
(end-entity) certificate has ``basicConstraints CA:FALSE``, a critical ``keyUsage`` with
``digitalSignature`` only, and an extended key usage C2PA accepts (emailProtection and
documentSigning, never anyExtendedKeyUsage); both carry subject and authority key
identifiers. Keys are ECDSA P-256 (ES256, the default) or RSA-PSS capable RSA 2048 (PS256).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Algorithm = Literal["es256", "ps256"]

CA_FILENAME = "ca.pem"
SIGNER_CHAIN_FILENAME = "signer.pem"
SIGNER_KEY_FILENAME = "signer.key"

# id-kp-documentSigning (RFC 9336); c2pa-python's default EKU list accepts it.
DOCUMENT_SIGNING_EKU = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")

_PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class DevCA:
    """A CA certificate and one signing certificate it issued, all as PEM bytes."""

    ca_cert_pem: bytes
    ca_key_pem: bytes
    signer_cert_pem: bytes
    signer_key_pem: bytes
    algorithm: Algorithm

    @property
    def signer_chain_pem(self) -> bytes:
        """The signing certificate followed by its issuer: what a C2PA signer is given."""
        return self.signer_cert_pem + self.ca_cert_pem


@dataclass(frozen=True)
class DevCAFiles:
    """Where :func:`write_dev_ca` put the files, and whether it created them."""

    ca_cert: Path
    signer_chain: Path
    signer_key: Path
    created: bool


def _new_key(algorithm: Algorithm) -> _PrivateKey:
    if algorithm == "es256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ps256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unsupported algorithm {algorithm!r}; expected 'es256' or 'ps256'")


def _name(common_name: str, organization: str, country: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: _PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_dev_ca(
    *,
    organization: str = "Stemma Development",
    ca_common_name: str = "Stemma Development CA",
    signer_common_name: str = "Stemma Development Signer",
    country: str = "ZZ",
    algorithm: Algorithm = "es256",
    ca_valid_days: int = 3650,
    signer_valid_days: int = 825,
    ocsp_url: str | None = None,
    now: dt.datetime | None = None,
) -> DevCA:
    """Make a new CA and a C2PA signing certificate issued by it (fresh keys every call).

    ``ocsp_url`` adds an Authority Information Access OCSP entry to the signing certificate;
    only the tests use it, to prove that reading never contacts the responder.
    """
    # Backdated a little so that clocks slightly behind ours still accept the certificates.
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(hours=1)
    ca_key = _new_key(algorithm)
    signer_key = _new_key(algorithm)
    ca_name = _name(ca_common_name, organization, country)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=ca_valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    signer_builder = (
        x509.CertificateBuilder()
        .subject_name(_name(signer_common_name, organization, country))
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=min(signer_valid_days, ca_valid_days)))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING_EKU]),
            critical=False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )
    if ocsp_url is not None:
        signer_builder = signer_builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(ocsp_url),
                    )
                ]
            ),
            critical=False,
        )
    signer_cert = signer_builder.sign(ca_key, hashes.SHA256())
    return DevCA(
        ca_cert_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        ca_key_pem=_pem_key(ca_key),
        signer_cert_pem=signer_cert.public_bytes(serialization.Encoding.PEM),
        signer_key_pem=_pem_key(signer_key),
        algorithm=algorithm,
    )


def _write(path: Path, data: bytes, *, private: bool) -> None:
    # Written beside the target and renamed, so a reader never sees half a file; keys are
    # created owner-only from the start rather than chmod-ed afterwards.
    tmp = path.with_name(f".{path.name}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(tmp, flags, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _usable(files: DevCAFiles, *, min_remaining: dt.timedelta) -> bool:
    """True when the files exist, parse, match each other and stay valid a while longer."""
    try:
        chain = x509.load_pem_x509_certificates(files.signer_chain.read_bytes())
        ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(files.signer_key.read_bytes(), password=None)
    except (OSError, ValueError):
        return False
    if not chain:
        return False
    leaf = chain[0]
    if leaf.issuer != ca.subject:
        return False
    public_der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*public_der) != leaf.public_key().public_bytes(*public_der):
        return False
    deadline = dt.datetime.now(dt.UTC) + min_remaining
    return leaf.not_valid_after_utc > deadline and ca.not_valid_after_utc > deadline


def write_dev_ca(
    directory: str | os.PathLike[str],
    *,
    force: bool = False,
    algorithm: Algorithm = "es256",
    min_remaining: dt.timedelta = dt.timedelta(days=30),
) -> DevCAFiles:
    """Write ca.pem, signer.pem (signing certificate + CA) and signer.key to ``directory``.

    Idempotent: files that are already there, consistent and valid for ``min_remaining``
    more are kept (``created`` is False); otherwise (or with ``force``) a new CA is made.
    """
    root = Path(directory)
    files = DevCAFiles(
        ca_cert=root / CA_FILENAME,
        signer_chain=root / SIGNER_CHAIN_FILENAME,
        signer_key=root / SIGNER_KEY_FILENAME,
        created=False,
    )
    if not force and _usable(files, min_remaining=min_remaining):
        return files
    root.mkdir(parents=True, exist_ok=True)
    ca = make_dev_ca(algorithm=algorithm)
    _write(files.signer_key, ca.signer_key_pem, private=True)
    _write(files.ca_cert, ca.ca_cert_pem, private=False)
    _write(files.signer_chain, ca.signer_chain_pem, private=False)
    return DevCAFiles(
        ca_cert=files.ca_cert,
        signer_chain=files.signer_chain,
        signer_key=files.signer_key,
        created=True,
    )
