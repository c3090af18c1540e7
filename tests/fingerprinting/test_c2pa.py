"""C2PA content credentials: sign audio with a throwaway CA, read it back, catch tampering, offline."""

from __future__ import annotations

import io
import random
import socket
import stat
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import c2pa as c2pa_sdk
import numpy as np
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.core.management import call_command

from fingerprinting import c2pa, devca, synth

FORMATS = ("wav", "mp3", "flac", "m4a")
MIME = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "m4a": "audio/mp4"}
REGISTRY_URL = "https://stemma.example/api/v1/recordings/4711"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# What c2pa reports when the audio no longer matches the hash in the manifest.
DATA_HASH_MISMATCH = {
    "wav": "assertion.dataHash.mismatch",
    "mp3": "assertion.dataHash.mismatch",
    "flac": "assertion.dataHash.mismatch",
    "m4a": "assertion.bmffHash.mismatch",
}
PARTLY_AI = {
    "title": "Night Drive",
    "registry_url": REGISTRY_URL,
    "disclosure": "partly",
    "contributions": [
        ("Ada Moreau", "composer", "composition", "human"),
        ("Ada Moreau", "lyricist", "lyrics", "ai_assisted"),
        ("Suno", "vocalist", "vocals", "ai_generated"),
    ],
    "ai_systems": [("Suno", "chirp-v4", "4.5"), ("Stable Audio", "stable-audio-open", "1.0")],
}


@pytest.fixture(autouse=True)
def no_python_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any outgoing connection from Python code fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args[1:]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@dataclass
class Listener:
    """A TCP server on loopback that records every connection made to it.

    The c2pa library is native code that a Python socket guard cannot see, so the tests
    point every URL it could fetch (remote manifest, OCSP responder) here and count.
    """

    url: str
    requests: list[bytes] = field(default_factory=list)


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    found = Listener(url=f"http://127.0.0.1:{server.getsockname()[1]}")
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    found.requests.append(conn.recv(200))
                except OSError:
                    found.requests.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield found
    stop.set()
    thread.join(timeout=2)
    server.close()


@pytest.fixture(scope="module")
def dev_ca() -> devca.DevCA:
    return devca.make_dev_ca()


@pytest.fixture(scope="module")
def other_ca() -> devca.DevCA:
    return devca.make_dev_ca(organization="Someone Else", ca_common_name="Someone Else CA")


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same 4 s of music in each format, without any manifest."""
    folder = tmp_path_factory.mktemp("audio")
    samples = synth.music(11, 4.0)
    paths = {}
    for fmt in FORMATS:
        paths[fmt] = folder / f"music.{fmt}"
        synth.write(paths[fmt], samples, 44100, fmt)
    return paths


@pytest.fixture(scope="module")
def signed(
    audio: dict[str, Path], dev_ca: devca.DevCA, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Each format signed once with the partly-AI manifest, by the test CA."""
    folder = tmp_path_factory.mktemp("signed")
    manifest = c2pa.manifest_for_recording(**PARTLY_AI)  # type: ignore[arg-type]
    paths = {}
    for fmt in FORMATS:
        paths[fmt] = folder / f"signed.{fmt}"
        c2pa.sign(
            audio[fmt],
            paths[fmt],
            manifest=manifest,
            signer_cert_chain_pem=dev_ca.signer_chain_pem,
            signer_key_pem=dev_ca.signer_key_pem,
        )
    return paths


def _decoded(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frames = [f.to_ndarray() for f in container.decode(audio=0)]
    return np.concatenate(frames, axis=-1)


def _flip(data: bytes, offset: int, count: int = 4) -> bytes:
    out = bytearray(data)
    for i in range(offset, offset + count):
        out[i] ^= 0xFF
    return bytes(out)


def _audio_payload_offset(data: bytes, fmt: str) -> int:
    """An offset well inside the encoded audio, away from headers and the manifest."""
    if fmt == "wav":
        return data.index(b"data") + 8 + 4000
    if fmt == "m4a":
        return data.index(b"mdat") + 8 + 4000
    return len(data) - 20_000  # MP3 and FLAC keep the manifest at the start


def _sign_raw(
    source: Path,
    dest: Path,
    ca: devca.DevCA,
    *,
    configure: Callable[[c2pa_sdk.Builder], None] = lambda builder: None,
) -> None:
    """Sign with c2pa-python directly (offline settings), for files our sign() never makes."""
    manifest = c2pa.manifest_for_recording(**PARTLY_AI)  # type: ignore[arg-type]
    context = c2pa_sdk.Context.from_dict(
        {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": False}}
    )
    info = c2pa_sdk.C2paSignerInfo(b"es256", ca.signer_chain_pem, ca.signer_key_pem, None)
    with (
        c2pa_sdk.Builder(manifest, context=context) as builder,
        c2pa_sdk.Signer.from_info(info) as signer,
        open(source, "rb") as src,
        open(dest, "w+b") as out,
    ):
        configure(builder)
        builder.sign(signer, "audio/wav", src, out)


# --- formats -------------------------------------------------------------------------------


def test_c2pa_python_reads_and_signs_all_four_audio_formats() -> None:
    assert c2pa.supported_audio_mime_types() == {
        "audio/wav",
        "audio/mpeg",
        "audio/flac",
        "audio/mp4",
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_is_sniffed_from_the_bytes_not_the_name(
    fmt: str, audio: dict[str, Path], tmp_path: Path
) -> None:
    misnamed = tmp_path / "upload.bin"
    misnamed.write_bytes(audio[fmt].read_bytes())

    assert c2pa.mime_type_for(misnamed) == MIME[fmt]


# --- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_signed_file_reads_back_with_source_type_agents_link_and_trust(
    fmt: str, signed: dict[str, Path], dev_ca: devca.DevCA
) -> None:
    summary = c2pa.read(signed[fmt], trust_anchors_pem=dev_ca.ca_cert_pem.decode())

    assert summary is not None
    assert summary.validation_state == "Trusted"
    assert summary.signature_valid is True
    assert summary.trusted is True
    assert summary.validation_errors == ()
    assert summary.title == "Night Drive"
    assert summary.claim_generator == "Stemma/1.0"
    assert summary.active_manifest_label is not None
    assert summary.active_manifest_label.startswith("urn:c2pa:")
    assert summary.digital_source_type == IPTC + "compositeWithTrainedAlgorithmicMedia"
    assert summary.digital_source_type_short == c2pa.COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA
    assert summary.software_agents == (
        c2pa.SoftwareAgent("Suno", "4.5", "chirp-v4"),
        c2pa.SoftwareAgent("Stable Audio", "1.0", "stable-audio-open"),
    )
    (created,) = summary.creation_actions
    assert summary.actions == (created,)
    assert created.action == "c2pa.created"
    assert created.software_agent == c2pa.SoftwareAgent("Suno", "4.5", "chirp-v4")
    assert created.parameters == {
        "com.stemma.aiDisclosure": "partly",
        "com.stemma.elements": {
            "composition": "human",
            "lyrics": "ai_assisted",
            "vocals": "ai_generated",
        },
    }
    assert summary.links == (REGISTRY_URL,)
    assert "stds.schema-org.CreativeWork" in summary.assertion_labels
    assert summary.ingredients == ()
    assert summary.remote_manifest_url is None
    assert summary.read_error is None
    assert summary.signer == c2pa.SignerCertificate(
        subject="CN=Stemma Development Signer, O=Stemma Development, C=ZZ",
        issuer="CN=Stemma Development CA, O=Stemma Development, C=ZZ",
        common_name="Stemma Development Signer",
        organization="Stemma Development",
        serial_number=summary.signer.serial_number if summary.signer else None,
        not_before=summary.signer.not_before if summary.signer else None,
        not_after=summary.signer.not_after if summary.signer else None,
        algorithm="es256",
        signed_at=None,  # no timestamp authority
    )
    leaf = x509.load_pem_x509_certificate(dev_ca.signer_cert_pem)
    assert summary.signer.serial_number == format(leaf.serial_number, "x")


@pytest.mark.parametrize("fmt", FORMATS)
def test_signing_leaves_the_audio_itself_unchanged(
    fmt: str, audio: dict[str, Path], signed: dict[str, Path]
) -> None:
    assert np.array_equal(_decoded(signed[fmt]), _decoded(audio[fmt]))


def test_summary_is_json_serialisable_with_the_derived_fields(
    signed: dict[str, Path], dev_ca: devca.DevCA
) -> None:
    import json

    summary = c2pa.read(signed["wav"], trust_anchors_pem=dev_ca.ca_cert_pem)
    assert summary is not None

    data = json.loads(json.dumps(summary.as_dict()))

    assert data["digital_source_type_short"] == "compositeWithTrainedAlgorithmicMedia"
    assert data["trusted"] is True
    assert data["software_agents"][0] == {"name": "Suno", "version": "4.5", "model": "chirp-v4"}


def test_reads_a_file_object_without_being_told_the_format(
    signed: dict[str, Path], dev_ca: devca.DevCA
) -> None:
    stream = io.BytesIO(signed["flac"].read_bytes())
    stream.seek(1234)  # read() starts from the beginning whatever the position

    summary = c2pa.read(stream, trust_anchors_pem=dev_ca.ca_cert_pem)

    assert summary is not None
    assert summary.trusted is True
    assert summary.links == (REGISTRY_URL,)


def test_signing_in_place_replaces_the_file(
    audio: dict[str, Path], dev_ca: devca.DevCA, tmp_path: Path
) -> None:
    path = tmp_path / "track.mp3"
    path.write_bytes(audio["mp3"].read_bytes())
    manifest = c2pa.manifest_for_recording(
        title="Solo",
        registry_url=REGISTRY_URL,
        disclosure="none",
        contributions=[("Ada Moreau", "performer", "vocals", "human")],
        ai_systems=[],
    )

    c2pa.sign(
        path,
        path,
        manifest=manifest,
        signer_cert_chain_pem=dev_ca.signer_chain_pem,
        signer_key_pem=dev_ca.signer_key_pem,
    )
    summary = c2pa.read(path, trust_anchors_pem=dev_ca.ca_cert_pem)

    assert summary is not None
    assert summary.trusted is True
    assert summary.digital_source_type_short == "digitalCreation"
    assert summary.software_agents == ()
    assert [p.name for p in tmp_path.iterdir()] == ["track.mp3"]  # no temporary file left


def test_ps256_certificates_sign_and_verify(audio: dict[str, Path], tmp_path: Path) -> None:
    ca = devca.make_dev_ca(algorithm="ps256")
    manifest = c2pa.manifest_for_recording(**PARTLY_AI)  # type: ignore[arg-type]

    c2pa.sign(
        audio["wav"],
        tmp_path / "ps.wav",
        manifest=manifest,
        signer_cert_chain_pem=ca.signer_chain_pem,
        signer_key_pem=ca.signer_key_pem,
        algorithm="ps256",
    )
    summary = c2pa.read(tmp_path / "ps.wav", trust_anchors_pem=ca.ca_cert_pem)

    assert summary is not None
    assert summary.trusted is True
    assert summary.signer is not None
    assert summary.signer.algorithm == "ps256"


# --- trust -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_another_cas_anchor_does_not_make_the_signer_trusted(
    fmt: str, signed: dict[str, Path], other_ca: devca.DevCA
) -> None:
    summary = c2pa.read(signed[fmt], trust_anchors_pem=other_ca.ca_cert_pem.decode())

    assert summary is not None
    assert summary.validation_state == "Valid"
    assert summary.signature_valid is True
    assert summary.trusted is False
    assert summary.validation_errors == ("signingCredential.untrusted",)


@pytest.mark.parametrize("anchors", [None, "", "  \n"])
def test_without_anchors_nothing_is_trusted(anchors: str | None, signed: dict[str, Path]) -> None:
    summary = c2pa.read(signed["wav"], trust_anchors_pem=anchors)

    assert summary is not None
    assert summary.signature_valid is True
    assert summary.trusted is False
    assert summary.validation_errors == ("signingCredential.untrusted",)


def test_any_of_several_anchors_can_vouch(
    signed: dict[str, Path], dev_ca: devca.DevCA, other_ca: devca.DevCA
) -> None:
    bundle = other_ca.ca_cert_pem + dev_ca.ca_cert_pem

    summary = c2pa.read(signed["m4a"], trust_anchors_pem=bundle)

    assert summary is not None
    assert summary.trusted is True


def test_anchors_that_are_not_certificates_are_a_configuration_error(
    signed: dict[str, Path],
) -> None:
    with pytest.raises(c2pa.ProvenanceError) as raised:
        c2pa.read(signed["wav"], trust_anchors_pem="-----BEGIN CERTIFICATE-----\nxx\n")

    assert raised.value.code == c2pa.C2PA_TRUST_ANCHORS_INVALID


# --- tampering and broken manifests ----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_changed_audio_after_signing_fails_the_data_hash(
    fmt: str, signed: dict[str, Path], dev_ca: devca.DevCA, tmp_path: Path
) -> None:
    data = signed[fmt].read_bytes()
    tampered = tmp_path / f"tampered.{fmt}"
    tampered.write_bytes(_flip(data, _audio_payload_offset(data, fmt)))

    summary = c2pa.read(tampered, trust_anchors_pem=dev_ca.ca_cert_pem)

    assert summary is not None
    assert summary.validation_state == "Invalid"
    assert summary.signature_valid is False
    assert summary.trusted is False
    assert summary.validation_errors == (DATA_HASH_MISMATCH[fmt],)
    # What the manifest claims is still reported, for the evidence trail.
    assert summary.digital_source_type_short == "compositeWithTrainedAlgorithmicMedia"


def test_edited_registry_link_inside_the_manifest_is_detected(
    signed: dict[str, Path], dev_ca: devca.DevCA, tmp_path: Path
) -> None:
    data = signed["wav"].read_bytes()
    assert data.count(REGISTRY_URL.encode()) == 1
    forged = REGISTRY_URL.replace("4711", "4712").encode()
    tampered = tmp_path / "forged-link.wav"
    tampered.write_bytes(data.replace(REGISTRY_URL.encode(), forged))

    summary = c2pa.read(tampered, trust_anchors_pem=dev_ca.ca_cert_pem)

    assert summary is not None
    assert summary.signature_valid is False
    assert summary.trusted is False
    assert summary.validation_errors == ("assertion.hashedURI.mismatch",)


@pytest.mark.parametrize("fmt", FORMATS)
def test_file_without_manifest_gives_none(fmt: str, audio: dict[str, Path]) -> None:
    assert c2pa.read(audio[fmt], trust_anchors_pem=None) is None


def _wav_with_chunk(wav: bytes, chunk_id: bytes, payload: bytes) -> bytes:
    chunk = chunk_id + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) & 1)
    body = wav + chunk
    return body[:4] + struct.pack("<I", len(body) - 8) + body[8:]


def test_garbage_in_the_manifest_chunk_gives_an_error_summary_not_an_exception(
    audio: dict[str, Path], dev_ca: devca.DevCA, tmp_path: Path
) -> None:
    garbage = bytes(range(256)) * 8
    path = tmp_path / "garbage.wav"
    path.write_bytes(_wav_with_chunk(audio["wav"].read_bytes(), b"C2PA", garbage))

    summary = c2pa.read(path, trust_anchors_pem=dev_ca.ca_cert_pem)

    assert summary is not None
    assert summary.signature_valid is False
    assert summary.trusted is False
    assert summary.validation_errors == ("general.error",)
    assert summary.read_error is not None and "JUMBF" in summary.read_error
    assert summary.creation_actions == ()


def test_signed_file_cut_short_gives_an_error_summary(
    signed: dict[str, Path], dev_ca: devca.DevCA, tmp_path: Path
) -> None:
    data = signed["wav"].read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[:-700])  # the manifest is the last chunk: cut into it

    summary = c2pa.read(path, trust_anchors_pem=dev_ca.ca_cert_pem)

    assert summary is not None
    assert summary.signature_valid is False
    assert summary.validation_errors == ("general.error",)


@pytest.mark.parametrize(
    "content", [b"", b"not audio at all" * 64, b"RIFF\x00\x00\x00\x00WAVEjunk"]
)
def test_bytes_that_are_not_audio_give_none(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "upload.wav"
    path.write_bytes(content)

    assert c2pa.read(path, trust_anchors_pem=None) is None


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_never_pass_for_a_manifest(seed: int, tmp_path: Path) -> None:
    path = tmp_path / "upload.wav"
    path.write_bytes(random.Random(seed).randbytes(5000))

    summary = c2pa.read(path, trust_anchors_pem=None)

    # The library may say "no manifest" or "cannot read": either way nothing is claimed.
    assert summary is None or (
        summary.active_manifest_label is None
        and not summary.signature_valid
        and not summary.actions
    )


def test_random_bytes_inside_a_signed_manifest_never_raise(
    signed: dict[str, Path], dev_ca: devca.DevCA
) -> None:
    data = signed["flac"].read_bytes()
    start = data.index(b"jumb") - 4
    end = start + int.from_bytes(data[start : start + 4], "big")
    outcomes = set()
    for offset in range(start, end, max(1, (end - start) // 150)):
        summary = c2pa.read(
            io.BytesIO(_flip(data, offset, 1)), trust_anchors_pem=dev_ca.ca_cert_pem
        )
        outcomes.add(None if summary is None else summary.signature_valid)

    assert False in outcomes  # most flips break the signature or the structure


# --- no network --------------------------------------------------------------------------------


def test_manifest_stored_only_at_a_remote_url_is_reported_but_never_fetched(
    audio: dict[str, Path], dev_ca: devca.DevCA, listener: Listener, tmp_path: Path
) -> None:
    remote = f"{listener.url}/manifests/1.c2pa"
    path = tmp_path / "remote.wav"

    def remote_only(builder: c2pa_sdk.Builder) -> None:
        builder.set_remote_url(remote)
        builder.set_no_embed()

    _sign_raw(audio["wav"], path, dev_ca, configure=remote_only)

    summary = c2pa.read(path, trust_anchors_pem=dev_ca.ca_cert_pem)

    assert summary is not None
    assert summary.remote_manifest_url == remote
    assert summary.validation_errors == ("manifest.inaccessible",)
    assert summary.signature_valid is False
    assert listener.requests == []

    # Control: with fetching allowed, the library does connect, so the listener can see it.
    fetching = c2pa_sdk.Context.from_dict({"verify": {"remote_manifest_fetch": True}})
    with pytest.raises(c2pa_sdk.C2paError), open(path, "rb") as stream:
        c2pa_sdk.Reader("audio/wav", stream, context=fetching)
    assert len(listener.requests) == 1
    assert listener.requests[0].startswith(b"GET /manifests/1.c2pa ")


def test_signing_and_reading_never_ask_the_ocsp_responder(
    audio: dict[str, Path], listener: Listener, tmp_path: Path
) -> None:
    ca = devca.make_dev_ca(ocsp_url=f"{listener.url}/ocsp")
    path = tmp_path / "ocsp.flac"

    c2pa.sign(
        audio["flac"],
        path,
        manifest=c2pa.manifest_for_recording(**PARTLY_AI),  # type: ignore[arg-type]
        signer_cert_chain_pem=ca.signer_chain_pem,
        signer_key_pem=ca.signer_key_pem,
    )
    summary = c2pa.read(path, trust_anchors_pem=ca.ca_cert_pem)

    assert summary is not None
    assert summary.trusted is True
    assert "signingCredential.ocsp.skipped" in summary.validation_informational
    assert listener.requests == []

    # Control: with OCSP on, the library asks the responder named in the certificate.
    checking = c2pa_sdk.Context.from_dict({"verify": {"ocsp_fetch": True}})
    with open(path, "rb") as stream, c2pa_sdk.Reader("audio/flac", stream, context=checking):
        pass
    assert len(listener.requests) == 1
    assert listener.requests[0].startswith(b"GET /")


# --- signing errors ----------------------------------------------------------------------------


def test_unsupported_format_is_refused_and_nothing_is_written(
    dev_ca: devca.DevCA, tmp_path: Path
) -> None:
    source = tmp_path / "track.ogg"
    synth.write(source, synth.music(3, 3.0), 44100, "ogg")
    dest = tmp_path / "signed.ogg"

    with pytest.raises(c2pa.ProvenanceError) as raised:
        c2pa.sign(
            source,
            dest,
            manifest=c2pa.manifest_for_recording(**PARTLY_AI),  # type: ignore[arg-type]
            signer_cert_chain_pem=dev_ca.signer_chain_pem,
            signer_key_pem=dev_ca.signer_key_pem,
        )

    assert raised.value.code == c2pa.C2PA_FORMAT_UNSUPPORTED
    assert not dest.exists()


def test_key_of_another_certificate_is_refused_and_dest_is_left_alone(
    audio: dict[str, Path], dev_ca: devca.DevCA, other_ca: devca.DevCA, tmp_path: Path
) -> None:
    dest = tmp_path / "existing.wav"
    dest.write_bytes(b"previous content")

    with pytest.raises(c2pa.ProvenanceError) as raised:
        c2pa.sign(
            audio["wav"],
            dest,
            manifest=c2pa.manifest_for_recording(**PARTLY_AI),  # type: ignore[arg-type]
            signer_cert_chain_pem=dev_ca.signer_chain_pem,
            signer_key_pem=other_ca.signer_key_pem,
        )

    assert raised.value.code == c2pa.C2PA_SIGNER_INVALID
    assert dest.read_bytes() == b"previous content"


def test_traditional_pem_key_is_accepted(
    audio: dict[str, Path], dev_ca: devca.DevCA, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(dev_ca.signer_key_pem, password=None)
    traditional = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert traditional.startswith(b"-----BEGIN EC PRIVATE KEY-----")  # c2pa wants PKCS#8

    c2pa.sign(
        audio["wav"],
        tmp_path / "trad.wav",
        manifest=c2pa.manifest_for_recording(**PARTLY_AI),  # type: ignore[arg-type]
        signer_cert_chain_pem=dev_ca.signer_chain_pem,
        signer_key_pem=traditional,
    )
    summary = c2pa.read(tmp_path / "trad.wav", trust_anchors_pem=dev_ca.ca_cert_pem)

    assert summary is not None
    assert summary.trusted is True


@pytest.mark.parametrize(
    "manifest", [{"title": 5}, {"assertions": "not a list"}, {"claim_generator_info": "x"}]
)
def test_manifest_of_the_wrong_shape_is_refused(
    manifest: dict[str, object], audio: dict[str, Path], dev_ca: devca.DevCA, tmp_path: Path
) -> None:
    with pytest.raises(c2pa.ProvenanceError) as raised:
        c2pa.sign(
            audio["wav"],
            tmp_path / "bad.wav",
            manifest=manifest,
            signer_cert_chain_pem=dev_ca.signer_chain_pem,
            signer_key_pem=dev_ca.signer_key_pem,
        )

    assert raised.value.code == c2pa.C2PA_MANIFEST_INVALID
    assert raised.value.status == 422


def test_certificate_outside_the_c2pa_profile_is_refused(
    audio: dict[str, Path], dev_ca: devca.DevCA, tmp_path: Path
) -> None:
    # A TLS server certificate: right key usage, but an extended key usage C2PA refuses.
    import datetime as dt

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ca_cert = x509.load_pem_x509_certificate(dev_ca.ca_cert_pem)
    ca_key = serialization.load_pem_private_key(dev_ca.ca_key_pem, password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("CN=web.example,O=Web"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )

    with pytest.raises(c2pa.ProvenanceError) as raised:
        c2pa.sign(
            audio["wav"],
            tmp_path / "tls.wav",
            manifest=c2pa.manifest_for_recording(**PARTLY_AI),  # type: ignore[arg-type]
            signer_cert_chain_pem=cert.public_bytes(serialization.Encoding.PEM)
            + dev_ca.ca_cert_pem,
            signer_key_pem=key_pem,
        )

    assert raised.value.code == c2pa.C2PA_SIGNER_INVALID
    assert not (tmp_path / "tls.wav").exists()


def test_manifest_breaking_c2pa_rules_is_refused(
    audio: dict[str, Path], dev_ca: devca.DevCA, tmp_path: Path
) -> None:
    manifest = c2pa.manifest_for_recording(**PARTLY_AI)  # type: ignore[arg-type]
    actions = manifest["assertions"][0]["data"]["actions"]
    actions.append(dict(actions[0]))  # two c2pa.created actions

    with pytest.raises(c2pa.ProvenanceError) as raised:
        c2pa.sign(
            audio["wav"],
            tmp_path / "bad.wav",
            manifest=manifest,
            signer_cert_chain_pem=dev_ca.signer_chain_pem,
            signer_key_pem=dev_ca.signer_key_pem,
        )

    assert raised.value.code == c2pa.C2PA_SIGNING_FAILED
    assert "more than one c2pa.created" in raised.value.message
    assert not (tmp_path / "bad.wav").exists()


# --- the manifest we issue -----------------------------------------------------------------


def test_manifest_for_a_partly_ai_recording() -> None:
    manifest = c2pa.manifest_for_recording(**PARTLY_AI)  # type: ignore[arg-type]

    assert manifest == {
        "claim_generator_info": [{"name": "Stemma", "version": "1.0"}],
        "title": "Night Drive",
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": IPTC + "compositeWithTrainedAlgorithmicMedia",
                            "description": "Registered in Stemma; AI involvement: partly",
                            "parameters": {
                                "com.stemma.aiDisclosure": "partly",
                                "com.stemma.elements": {
                                    "composition": "human",
                                    "lyrics": "ai_assisted",
                                    "vocals": "ai_generated",
                                },
                            },
                            "softwareAgentIndex": 0,
                        }
                    ],
                    "softwareAgents": [
                        {"name": "Suno", "version": "4.5", "model": "chirp-v4"},
                        {"name": "Stable Audio", "version": "1.0", "model": "stable-audio-open"},
                    ],
                },
            },
            {
                "label": "stds.schema-org.CreativeWork",
                "data": {
                    "@context": "https://schema.org",
                    "@type": "MusicRecording",
                    "name": "Night Drive",
                    "url": REGISTRY_URL,
                },
            },
        ],
    }


H = ("Ada", "composer", "composition", "human")
ASSISTED = ("Ada", "lyricist", "lyrics", "ai_assisted")
GENERATED = ("Suno", "vocalist", "vocals", "ai_generated")


@pytest.mark.parametrize(
    ("disclosure", "contributions", "expected"),
    [
        ("none", [H], "digitalCreation"),
        ("none", [H, ASSISTED], "compositeWithTrainedAlgorithmicMedia"),
        ("none", [H, GENERATED], "compositeWithTrainedAlgorithmicMedia"),
        ("none", [ASSISTED], "compositeWithTrainedAlgorithmicMedia"),
        ("none", [GENERATED, GENERATED], "trainedAlgorithmicMedia"),
        ("partly", [H], "compositeWithTrainedAlgorithmicMedia"),  # declared AI is kept
        ("all", [H, GENERATED], "trainedAlgorithmicMedia"),
        ("partly", [GENERATED], "trainedAlgorithmicMedia"),  # never understated
        ("none", [], "digitalCreation"),
        ("partly", [], "compositeWithTrainedAlgorithmicMedia"),
        ("all", [], "trainedAlgorithmicMedia"),
    ],
)
def test_source_type_comes_from_contributions_and_disclosure(
    disclosure: c2pa.Disclosure, contributions: list[tuple[str, str, str, str]], expected: str
) -> None:
    assert c2pa.source_type_for(disclosure, contributions) == IPTC + expected


def test_a_recorded_human_performance_can_be_a_digital_capture() -> None:
    manifest = c2pa.manifest_for_recording(
        title="Live",
        registry_url=REGISTRY_URL,
        disclosure="none",
        contributions=[H],
        ai_systems=[],
        human_source_type=c2pa.DIGITAL_CAPTURE,
        claim_generator="Stemma/2.3.1",
    )

    (created,) = manifest["assertions"][0]["data"]["actions"]
    assert created["digitalSourceType"] == IPTC + "digitalCapture"
    assert "softwareAgentIndex" not in created
    assert "softwareAgents" not in manifest["assertions"][0]["data"]
    assert manifest["claim_generator_info"] == [{"name": "Stemma", "version": "2.3.1"}]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"disclosure": "some"},
        {"contributions": [("Ada", "composer", "composition", "robot")]},
        {"registry_url": "/relative/4711"},
        {"title": "  "},
        {"human_source_type": c2pa.TRAINED_ALGORITHMIC_MEDIA},
        {"ai_systems": [("", "model", "1")]},
    ],
)
def test_manifest_inputs_are_checked(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        c2pa.manifest_for_recording(**{**PARTLY_AI, **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("iri", "short"),
    [
        (IPTC + "trainedAlgorithmicMedia", "trainedAlgorithmicMedia"),
        ("https://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia/", "algorithmicMedia"),
        ("http://c2pa.org/digitalsourcetype/empty", "empty"),
        ("digitalCapture", "digitalCapture"),
    ],
)
def test_source_type_short_names(iri: str, short: str) -> None:
    assert c2pa.source_type_short(iri) == short


def test_short_names_round_trip_to_iptc_iris() -> None:
    for short in (c2pa.TRAINED_ALGORITHMIC_MEDIA, c2pa.DIGITAL_CREATION, c2pa.ALGORITHMIC_MEDIA):
        assert c2pa.source_type_short(c2pa.source_type_iri(short)) == short
    assert {
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
    } == c2pa.GENERATIVE_AI_SOURCE_TYPES


# --- the development CA ------------------------------------------------------------------------


def test_dev_ca_certificates_follow_the_c2pa_profile(dev_ca: devca.DevCA) -> None:
    ca = x509.load_pem_x509_certificate(dev_ca.ca_cert_pem)
    leaf, issuer = x509.load_pem_x509_certificates(dev_ca.signer_chain_pem)

    assert issuer == ca
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True
    basic = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.value.ca is False
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical is True
    assert usage.value.digital_signature is True
    assert usage.value.key_cert_sign is False
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION, devca.DOCUMENT_SIGNING_EKU]
    assert leaf.issuer == ca.subject
    assert leaf.signature_hash_algorithm is not None
    assert leaf.signature_hash_algorithm.name == "sha256"


def test_make_dev_ca_command_writes_files_that_sign_and_verify(
    audio: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "ca"
    out, err = io.StringIO(), io.StringIO()

    call_command("make_dev_ca", str(folder), stdout=out, stderr=err)

    assert sorted(p.name for p in folder.iterdir()) == ["ca.pem", "signer.key", "signer.pem"]
    assert stat.S_IMODE((folder / "signer.key").stat().st_mode) == 0o600
    assert out.getvalue().splitlines() == [
        f"STEMMA_C2PA_SIGNER_CERT={(folder / 'signer.pem').resolve()}",
        f"STEMMA_C2PA_SIGNER_KEY={(folder / 'signer.key').resolve()}",
        f"STEMMA_C2PA_TRUST_ANCHORS={(folder / 'ca.pem').resolve()}",
    ]
    assert "made a new development CA" in err.getvalue()

    c2pa.sign(
        audio["m4a"],
        tmp_path / "demo.m4a",
        manifest=c2pa.manifest_for_recording(**PARTLY_AI),  # type: ignore[arg-type]
        signer_cert_chain_pem=(folder / "signer.pem").read_bytes(),
        signer_key_pem=(folder / "signer.key").read_bytes(),
    )
    summary = c2pa.read(tmp_path / "demo.m4a", trust_anchors_pem=(folder / "ca.pem").read_text())
    assert summary is not None
    assert summary.trusted is True


def test_make_dev_ca_command_is_idempotent_unless_forced(tmp_path: Path) -> None:
    call_command("make_dev_ca", str(tmp_path), stdout=io.StringIO(), stderr=io.StringIO())
    first = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    err = io.StringIO()

    call_command("make_dev_ca", str(tmp_path), stdout=io.StringIO(), stderr=err)

    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == first
    assert "kept the development CA" in err.getvalue()

    call_command("make_dev_ca", str(tmp_path), "--force", stdout=io.StringIO(), stderr=err)

    forced = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert forced.keys() == first.keys()
    assert all(forced[name] != first[name] for name in first)


def test_inconsistent_dev_ca_files_are_replaced(tmp_path: Path) -> None:
    devca.write_dev_ca(tmp_path)
    (tmp_path / "signer.key").write_bytes(devca.make_dev_ca().signer_key_pem)  # wrong key

    files = devca.write_dev_ca(tmp_path)

    assert files.created is True
    leaf = x509.load_pem_x509_certificates(files.signer_chain.read_bytes())[0]
    assert leaf.issuer == x509.load_pem_x509_certificate(files.ca_cert.read_bytes()).subject
