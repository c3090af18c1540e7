"""Read and sign C2PA manifests (content credentials) in WAV, MP3, FLAC and M4A files, offline.

A thin, typed layer over c2pa-python (see docs/c2pa.md). Every call builds its own
c2pa ``Context`` whose settings turn all network access off: no remote manifest fetch,
no OCSP, and an empty ``core.allowed_network_hosts`` list as a second lock. Signing uses
no timestamp authority. Trust is decided only by the anchors the caller passes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Literal, NamedTuple

import c2pa as c2pa_sdk
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from common.errors import DomainError

# --- digital source types (IPTC NewsCodes, as C2PA uses them) ------------------------------

IPTC_DIGITAL_SOURCE_TYPE: Final = "http://cv.iptc.org/newscodes/digitalsourcetype/"

TRAINED_ALGORITHMIC_MEDIA: Final = "trainedAlgorithmicMedia"
COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA: Final = "compositeWithTrainedAlgorithmicMedia"
ALGORITHMIC_MEDIA: Final = "algorithmicMedia"
ALGORITHMICALLY_ENHANCED: Final = "algorithmicallyEnhanced"
COMPOSITE_SYNTHETIC: Final = "compositeSynthetic"
DATA_DRIVEN_MEDIA: Final = "dataDrivenMedia"
DIGITAL_CREATION: Final = "digitalCreation"
DIGITAL_CAPTURE: Final = "digitalCapture"
COMPUTATIONAL_CAPTURE: Final = "computationalCapture"
COMPOSITE_CAPTURE: Final = "compositeCapture"
COMPOSITE: Final = "composite"
HUMAN_EDITS: Final = "humanEdits"
VIRTUAL_RECORDING: Final = "virtualRecording"

# Made (wholly or in part) by a model trained on data: what "AI-generated" means in the
# product. algorithmicMedia (rules, no training) and the synthetic composites are listed
# separately so that callers choose how to weigh them.
GENERATIVE_AI_SOURCE_TYPES: Final = frozenset(
    {TRAINED_ALGORITHMIC_MEDIA, COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA}
)
SYNTHETIC_SOURCE_TYPES: Final = GENERATIVE_AI_SOURCE_TYPES | {
    ALGORITHMIC_MEDIA,
    COMPOSITE_SYNTHETIC,
}


def source_type_iri(short: str) -> str:
    """The IPTC IRI of a short digital source type name (``digitalCreation`` -> full IRI)."""
    if not short or "/" in short:
        raise ValueError(f"not a short digital source type name: {short!r}")
    return IPTC_DIGITAL_SOURCE_TYPE + short


def source_type_short(iri: str) -> str:
    """The short name of a digital source type IRI: its last path segment.

    Works for the IPTC IRIs (http or https, with or without a trailing slash) and for the
    older ``http://c2pa.org/digitalsourcetype/...`` ones; a bare name is returned as is.
    """
    return re.split(r"[/#]", iri.strip().rstrip("/"))[-1]


# --- formats ---------------------------------------------------------------------------------

# The MIME types handed to c2pa-python; it supports all four for reading and signing
# (c2pa.Builder.get_supported_mime_types() lists audio/wav, audio/mpeg, audio/flac, audio/mp4).
AUDIO_MIME_TYPES: Final[Mapping[str, str]] = {
    ".wav": "audio/wav",
    ".wave": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
}

# The JUMBF description box of a C2PA manifest store: 'jumd' + the store's UUID, which
# starts with the ASCII bytes "c2pa". Used only to tell a broken manifest from none at all.
_C2PA_STORE_MARKER: Final = b"jumdc2pa\x00\x11\x00\x10"


def sniff_mime_type(head: bytes) -> str | None:
    """The audio MIME type from a file's first bytes (at least 12), or None if not one of ours."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"fLaC":
        return "audio/flac"
    if head[4:8] == b"ftyp":
        return "audio/mp4"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    return None


def mime_type_for(path: str | os.PathLike[str]) -> str | None:
    """The MIME type of an audio file: sniffed from its bytes, else from its extension."""
    with open(path, "rb") as stream:
        sniffed = sniff_mime_type(stream.read(16))
    return sniffed or AUDIO_MIME_TYPES.get(Path(path).suffix.lower())


def supported_audio_mime_types() -> frozenset[str]:
    """Which of our audio MIME types the installed c2pa-python can both read and sign."""
    readable = set(c2pa_sdk.Reader.get_supported_mime_types())
    signable = set(c2pa_sdk.Builder.get_supported_mime_types())
    return frozenset(m for m in AUDIO_MIME_TYPES.values() if m in readable and m in signable)


# --- errors ----------------------------------------------------------------------------------

C2PA_FORMAT_UNSUPPORTED: Final = "C2PA_FORMAT_UNSUPPORTED"
C2PA_SIGNER_INVALID: Final = "C2PA_SIGNER_INVALID"
C2PA_TRUST_ANCHORS_INVALID: Final = "C2PA_TRUST_ANCHORS_INVALID"
C2PA_MANIFEST_INVALID: Final = "C2PA_MANIFEST_INVALID"
C2PA_SIGNING_FAILED: Final = "C2PA_SIGNING_FAILED"


class ProvenanceError(DomainError):
    """Signing failed, or the signer / trust configuration is unusable (reading never raises it
    for a bad manifest)."""

    code = C2PA_SIGNING_FAILED
    status = 500


# --- what read() returns ---------------------------------------------------------------------


@dataclass(frozen=True)
class SoftwareAgent:
    """The software (here usually an AI system) that performed an action."""

    name: str
    version: str | None = None
    model: str | None = None

    @property
    def label(self) -> str:
        """``name/version`` (``name`` alone when there is no version)."""
        return f"{self.name}/{self.version}" if self.version else self.name


@dataclass(frozen=True)
class Action:
    """One entry of a c2pa.actions assertion."""

    action: str
    digital_source_type: str | None
    software_agent: SoftwareAgent | None
    description: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def digital_source_type_short(self) -> str | None:
        if self.digital_source_type is None:
            return None
        return source_type_short(self.digital_source_type)


@dataclass(frozen=True)
class Ingredient:
    """An asset the active manifest declares it was made from."""

    title: str | None
    format: str | None
    relationship: str | None
    manifest_label: str | None
    instance_id: str | None


@dataclass(frozen=True)
class SignerCertificate:
    """Who signed: the signing certificate, as the manifest carries it."""

    subject: str  # RFC 4514 order: "CN=..., O=..., C=..."
    issuer: str
    common_name: str | None
    organization: str | None
    serial_number: str | None
    not_before: str | None
    not_after: str | None
    algorithm: str | None
    signed_at: str | None  # from a trusted timestamp; None when the signer used none


@dataclass(frozen=True)
class ValidationStatus:
    """One validation result code as c2pa reports it, e.g. ``assertion.dataHash.mismatch``."""

    code: str
    explanation: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ManifestSummary:
    """What the active C2PA manifest of a file says, and whether it holds up.

    ``signature_valid``: the manifest is intact: the claim signature verifies and every
    hash (assertions and the audio itself) matches. ``trusted``: in addition, the signing
    certificate chains to one of the trust anchors passed to :func:`read`.
    ``validation_errors`` lists the failure codes exactly as c2pa reports them
    (``assertion.dataHash.mismatch``, ``claimSignature.mismatch``,
    ``signingCredential.untrusted``...); a manifest that could not be parsed at all
    reports ``general.error``, and a manifest stored only at a remote URL (never fetched)
    ``manifest.inaccessible``, both with ``read_error`` saying more.
    """

    active_manifest_label: str | None
    claim_generator: str | None
    title: str | None
    creation_actions: tuple[Action, ...]
    actions: tuple[Action, ...]
    software_agents: tuple[SoftwareAgent, ...]
    ingredients: tuple[Ingredient, ...]
    links: tuple[str, ...]
    training_mining: Mapping[str, str]
    assertion_labels: tuple[str, ...]
    signer: SignerCertificate | None
    validation_state: str | None
    signature_valid: bool
    trusted: bool
    validation_errors: tuple[str, ...]
    validation_failures: tuple[ValidationStatus, ...] = ()
    validation_informational: tuple[str, ...] = ()
    remote_manifest_url: str | None = None
    read_error: str | None = None

    @property
    def digital_source_type(self) -> str | None:
        """The IRI of the (first) creation action's digitalSourceType."""
        for action in self.creation_actions:
            if action.digital_source_type:
                return action.digital_source_type
        return None

    @property
    def digital_source_type_short(self) -> str | None:
        iri = self.digital_source_type
        return None if iri is None else source_type_short(iri)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy, with the derived source type fields included."""
        data = asdict(self)
        data["digital_source_type"] = self.digital_source_type
        data["digital_source_type_short"] = self.digital_source_type_short
        return data


# --- settings --------------------------------------------------------------------------------

# Shared by reading and signing: nothing may leave the machine.
_OFFLINE: Final[Mapping[str, Any]] = {
    "core": {"allowed_network_hosts": []},
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
}


def _settings(*, verify: Mapping[str, Any], **sections: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "core": dict(_OFFLINE["core"]),
        "verify": {**_OFFLINE["verify"], **verify},
        **sections,
    }


def _load_certificates(pem: str | bytes, what: str, code: str) -> list[x509.Certificate]:
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ProvenanceError(f"{what} is not PEM certificates: {exc}", code=code) from exc
    if not certs:
        raise ProvenanceError(f"{what} holds no certificate", code=code)
    return certs


def _read_context(trust_anchors_pem: str | bytes | None) -> tuple[Any, bool]:
    """A c2pa Context for reading, and whether any trust anchor is configured."""
    if isinstance(trust_anchors_pem, bytes):
        trust_anchors_pem = trust_anchors_pem.decode("ascii", errors="replace")
    verify = {"verify_after_reading": True, "verify_trust": True, "verify_timestamp_trust": True}
    if not trust_anchors_pem or not trust_anchors_pem.strip():
        return c2pa_sdk.Context.from_dict(_settings(verify=verify)), False
    _load_certificates(trust_anchors_pem, "the C2PA trust anchors", C2PA_TRUST_ANCHORS_INVALID)
    # trust_anchors replaces any list built into the library: only ours count.
    settings = _settings(verify=verify, trust={"trust_anchors": trust_anchors_pem})
    return c2pa_sdk.Context.from_dict(settings), True


# --- reading ---------------------------------------------------------------------------------


def read(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    *,
    mime_type: str | None = None,
    trust_anchors_pem: str | bytes | None,
) -> ManifestSummary | None:
    """Read and validate the C2PA manifest embedded in an audio file, without any network.

    Returns None when the file carries no manifest (or is in a format c2pa cannot hold one
    in). A manifest that is present but broken or tampered with gives a summary with
    ``signature_valid`` False and its ``validation_errors``; it never raises for that.
    ``trust_anchors_pem``: PEM CA certificates; the signer is ``trusted`` only if it chains
    to one of them (None or empty: nothing is trusted). A file object must be seekable
    and is read from its start. Raises OSError for an unreadable path and
    :class:`ProvenanceError` (C2PA_TRUST_ANCHORS_INVALID) for anchors that do not parse.
    """
    context, anchors_configured = _read_context(trust_anchors_pem)
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "rb") as stream:
            fmt = (
                mime_type
                or _detect(stream)
                or AUDIO_MIME_TYPES.get(Path(path_or_file).suffix.lower())
            )
            return _read_stream(stream, fmt, context, anchors_configured)
    fmt = mime_type or _detect(path_or_file)
    return _read_stream(path_or_file, fmt, context, anchors_configured)


def _detect(stream: IO[bytes]) -> str | None:
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    return sniff_mime_type(head)


def _read_stream(
    stream: IO[bytes], fmt: str | None, context: Any, anchors_configured: bool
) -> ManifestSummary | None:
    stream.seek(0)
    try:
        with c2pa_sdk.Reader(fmt, stream, context=context) as reader:
            store = json.loads(reader.json())
            try:
                crjson = json.loads(reader.crjson())
            except (c2pa_sdk.C2paError, ValueError):
                crjson = {}  # certificate details only; the summary stands without them
    except c2pa_sdk.C2paError.ManifestNotFound:
        return None
    except c2pa_sdk.C2paError.NotSupported:
        return None
    except c2pa_sdk.C2paError as exc:
        return _unreadable(exc, stream)
    except ValueError as exc:  # the library produced JSON that does not parse
        return _broken_summary("general.error", f"manifest JSON: {exc}")
    return _summarize(store, crjson, anchors_configured)


_REMOTE_URL = re.compile(r"(https?://\S+)")


def _unreadable(exc: Exception, stream: IO[bytes]) -> ManifestSummary | None:
    message = str(exc)
    if message.startswith("Remote"):
        # The manifest lives at a URL we never fetch: its presence is still evidence.
        found = _REMOTE_URL.search(message)
        remote_url = found.group(1).rstrip(".,;)") if found else None
        return _broken_summary("manifest.inaccessible", message, remote_manifest_url=remote_url)
    if isinstance(exc, c2pa_sdk.C2paError.Other | c2pa_sdk.C2paError.Io) and not _has_store(stream):
        # The container itself could not be parsed and holds nothing that looks like a
        # manifest store: this is bad audio, not a bad manifest.
        return None
    return _broken_summary("general.error", message)


def _has_store(stream: IO[bytes], chunk_bytes: int = 1 << 20) -> bool:
    overlap = len(_C2PA_STORE_MARKER) - 1
    stream.seek(0)
    tail = b""
    while block := stream.read(chunk_bytes):
        if _C2PA_STORE_MARKER in tail + block:
            return True
        tail = block[-overlap:]
    return False


def _broken_summary(
    code: str, message: str, *, remote_manifest_url: str | None = None
) -> ManifestSummary:
    return ManifestSummary(
        active_manifest_label=None,
        claim_generator=None,
        title=None,
        creation_actions=(),
        actions=(),
        software_agents=(),
        ingredients=(),
        links=(),
        training_mining={},
        assertion_labels=(),
        signer=None,
        validation_state=None,
        signature_valid=False,
        trusted=False,
        validation_errors=(code,),
        validation_failures=(ValidationStatus(code, message),),
        remote_manifest_url=remote_manifest_url,
        read_error=message,
    )


# Manifest JSON comes from the file: every field may be missing or of the wrong type.
def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _base_label(label: str) -> str:
    # A second instance of an assertion is labelled "label__1".
    return re.sub(r"__\d+$", "", label)


def _agent(value: Any) -> SoftwareAgent | None:
    if isinstance(value, str) and value:
        return SoftwareAgent(name=value)
    data = _dict(value)
    name = _str(data.get("name"))
    if name is None:
        return None
    return SoftwareAgent(
        name=name, version=_str(data.get("version")), model=_str(data.get("model"))
    )


def _actions(data: dict[str, Any]) -> tuple[list[Action], list[SoftwareAgent]]:
    listed = [a for a in (_agent(v) for v in _list(data.get("softwareAgents"))) if a is not None]
    actions: list[Action] = []
    for raw in _list(data.get("actions")):
        entry = _dict(raw)
        name = _str(entry.get("action"))
        if name is None:
            continue
        agent = _agent(entry.get("softwareAgent"))
        index = entry.get("softwareAgentIndex")
        if agent is None and isinstance(index, int) and 0 <= index < len(listed):
            agent = listed[index]
        actions.append(
            Action(
                action=name,
                digital_source_type=_str(entry.get("digitalSourceType")),
                software_agent=agent,
                description=_str(entry.get("description")),
                parameters=_dict(entry.get("parameters")),
            )
        )
    return actions, listed


_LINK_ASSERTIONS: Final = frozenset(
    {"stds.schema-org.CreativeWork", "c2pa.metadata", "cawg.metadata"}
)
_LINK_KEYS: Final = ("url", "schema:url", "@id", "identifier", "sameAs")


def _links(data: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for key in _LINK_KEYS:
        value = data.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.startswith(("http://", "https://")):
                found.append(item)
    return found


def _name_text(name: Any) -> str:
    # crJSON gives a distinguished name as {"C": "ZZ", "O": ..., "CN": ...} in certificate
    # order; RFC 4514 writes it most specific first.
    parts = []
    for key, value in _dict(name).items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(f"{key}={item}")
    return ", ".join(reversed(parts))


def _signer(
    label: str | None, manifest: dict[str, Any], crjson: dict[str, Any]
) -> SignerCertificate | None:
    info = _dict(manifest.get("signature_info"))
    cert: dict[str, Any] = {}
    algorithm = _str(info.get("alg"))
    for entry in _list(crjson.get("manifests")):
        entry = _dict(entry)
        if entry.get("label") == label:
            signature = _dict(entry.get("signature"))
            cert = _dict(signature.get("certificateInfo"))
            algorithm = _str(signature.get("algorithm")) or algorithm
    if not info and not cert:
        return None
    subject, issuer = _dict(cert.get("subject")), _dict(cert.get("issuer"))
    validity = _dict(cert.get("validity"))
    common_name = _str(subject.get("CN")) or _str(info.get("common_name"))
    return SignerCertificate(
        subject=_name_text(subject) or (f"CN={common_name}" if common_name else ""),
        issuer=_name_text(issuer) or (f"O={info['issuer']}" if _str(info.get("issuer")) else ""),
        common_name=common_name,
        organization=_str(subject.get("O")),
        serial_number=_str(cert.get("serialNumber")) or _str(info.get("cert_serial_number")),
        not_before=_str(validity.get("notBefore")),
        not_after=_str(validity.get("notAfter")),
        algorithm=algorithm.lower() if algorithm else None,
        signed_at=_str(info.get("time")),
    )


def _statuses(values: Any) -> list[ValidationStatus]:
    out = []
    for raw in _list(values):
        entry = _dict(raw)
        code = _str(entry.get("code"))
        if code:
            out.append(
                ValidationStatus(code, _str(entry.get("explanation")), _str(entry.get("url")))
            )
    return out


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    legacy = _str(manifest.get("claim_generator"))
    if legacy:
        return legacy
    for info in _list(manifest.get("claim_generator_info")):
        name = _str(_dict(info).get("name"))
        if name:
            version = _str(_dict(info).get("version"))
            return f"{name}/{version}" if version else name
    return None


def _summarize(
    store: dict[str, Any], crjson: dict[str, Any], anchors_configured: bool
) -> ManifestSummary:
    label = _str(store.get("active_manifest"))
    manifest = _dict(_dict(store.get("manifests")).get(label)) if label else {}

    actions: list[Action] = []
    agents: list[SoftwareAgent] = []
    links: list[str] = []
    training_mining: dict[str, str] = {}
    labels: list[str] = []
    for raw in _list(manifest.get("assertions")):
        assertion = _dict(raw)
        assertion_label = _str(assertion.get("label"))
        if assertion_label is None:
            continue
        labels.append(assertion_label)
        base, data = _base_label(assertion_label), _dict(assertion.get("data"))
        if base in ("c2pa.actions", "c2pa.actions.v2"):
            found, listed = _actions(data)
            actions.extend(found)
            agents.extend(listed)
        elif base in _LINK_ASSERTIONS:
            links.extend(_links(data))
        elif base in ("c2pa.training-mining", "cawg.training-mining"):
            for key, entry in _dict(data.get("entries")).items():
                use = _str(_dict(entry).get("use"))
                if use:
                    training_mining[key] = use
    agents.extend(a.software_agent for a in actions if a.software_agent is not None)

    ingredients = []
    for raw in _list(manifest.get("ingredients")):
        entry = _dict(raw)
        ingredients.append(
            Ingredient(
                title=_str(entry.get("title")),
                format=_str(entry.get("format")),
                relationship=_str(entry.get("relationship")),
                manifest_label=_str(entry.get("active_manifest")),
                instance_id=_str(entry.get("instance_id")),
            )
        )

    results = _dict(_dict(store.get("validation_results")).get("activeManifest"))
    if results:
        failures = _statuses(results.get("failure"))
        successes = {s.code for s in _statuses(results.get("success"))}
        informational = [s.code for s in _statuses(results.get("informational"))]
    else:  # older stores report failures only, as a flat list
        failures = _statuses(store.get("validation_status"))
        successes, informational = set(), []
    state = _str(store.get("validation_state"))
    if state is not None:
        # "Valid": well-formed, signature and hashes verified; "Trusted": and chained to
        # an anchor; "Invalid": anything else.
        signature_valid = state in ("Valid", "Trusted")
    else:
        signature_valid = "claimSignature.validated" in successes and all(
            f.code.startswith("signingCredential.") for f in failures
        )
    trusted = anchors_configured and signature_valid and state == "Trusted"

    return ManifestSummary(
        active_manifest_label=label,
        claim_generator=_claim_generator(manifest),
        title=_str(manifest.get("title")),
        creation_actions=tuple(a for a in actions if a.action == "c2pa.created"),
        actions=tuple(actions),
        software_agents=tuple(dict.fromkeys(agents)),
        ingredients=tuple(ingredients),
        links=tuple(dict.fromkeys(links)),
        training_mining=training_mining,
        assertion_labels=tuple(labels),
        signer=_signer(label, manifest, crjson),
        validation_state=state,
        signature_valid=signature_valid,
        trusted=trusted,
        validation_errors=tuple(dict.fromkeys(f.code for f in failures)),
        validation_failures=tuple(failures),
        validation_informational=tuple(dict.fromkeys(informational)),
    )


# --- signing ---------------------------------------------------------------------------------

SigningAlgorithm = Literal["es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519"]
_ALGORITHMS: Final = frozenset({"es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519"})


def _checked_signer_key(chain_pem: bytes, key_pem: bytes) -> bytes:
    """The signing key as unencrypted PKCS#8 PEM, after checking it matches the chain's leaf.

    c2pa-python reads PKCS#8 only; a traditional "EC/RSA PRIVATE KEY" PEM is converted.
    """
    chain = _load_certificates(chain_pem, "the C2PA signing certificate chain", C2PA_SIGNER_INVALID)
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ProvenanceError(
            f"the C2PA signing key is not an unencrypted PEM private key: {exc}",
            code=C2PA_SIGNER_INVALID,
        ) from exc
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != chain[0].public_key().public_bytes(*spki):
        raise ProvenanceError(
            "the C2PA signing key does not belong to the first certificate of the chain",
            code=C2PA_SIGNER_INVALID,
        )
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@contextlib.contextmanager
def _replacing(dest: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside ``dest`` that replaces it only if the block succeeds."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "w+b") as out:
            yield out
        os.replace(tmp_name, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def sign(
    source_path: str | os.PathLike[str],
    dest_path: str | os.PathLike[str],
    *,
    manifest: Mapping[str, Any],
    signer_cert_chain_pem: bytes,
    signer_key_pem: bytes,
    algorithm: SigningAlgorithm = "es256",
) -> None:
    """Write a copy of ``source_path`` with ``manifest`` embedded and signed to ``dest_path``.

    WAV, MP3, FLAC and M4A (format sniffed from the bytes, else taken from the extension).
    ``signer_cert_chain_pem``: the signing certificate first, then its issuers. No timestamp
    authority and no network are used. ``dest_path`` may equal ``source_path``; it is
    replaced atomically, and left untouched on failure. A manifest already in the source
    is replaced, not kept as an ingredient. Raises :class:`ProvenanceError` with code
    C2PA_FORMAT_UNSUPPORTED, C2PA_SIGNER_INVALID, C2PA_MANIFEST_INVALID or
    C2PA_SIGNING_FAILED.
    """
    if algorithm not in _ALGORITHMS:
        raise ValueError(
            f"unsupported algorithm {algorithm!r}; expected one of {sorted(_ALGORITHMS)}"
        )
    source, dest = Path(source_path), Path(dest_path)
    fmt = mime_type_for(source)
    if fmt is None:
        raise ProvenanceError(
            f"cannot sign {source.name}: not WAV, MP3, FLAC or M4A",
            code=C2PA_FORMAT_UNSUPPORTED,
            status=415,
        )
    key_pem = _checked_signer_key(signer_cert_chain_pem, signer_key_pem)
    settings = _settings(
        # Verify what was written (hashes, signature, structure); trust is for readers.
        verify={"verify_after_sign": True, "verify_trust": False, "verify_timestamp_trust": False},
        builder={"thumbnail": {"enabled": False}},
    )
    context = c2pa_sdk.Context.from_dict(settings)
    try:
        builder = c2pa_sdk.Builder(dict(manifest), context=context)
    except c2pa_sdk.C2paError as exc:
        raise ProvenanceError(
            f"c2pa rejected the manifest: {exc}", code=C2PA_MANIFEST_INVALID, status=422
        ) from exc
    signer_info = c2pa_sdk.C2paSignerInfo(
        algorithm.encode(),
        signer_cert_chain_pem,
        key_pem,
        None,  # None: no TSA
    )
    try:
        with (
            builder,
            c2pa_sdk.Signer.from_info(signer_info) as signer,
            open(source, "rb") as src,
            _replacing(dest) as out,
        ):
            builder.sign(signer, fmt, src, out)
    except c2pa_sdk.C2paError.Signature as exc:
        # c2pa-python checks the certificate against the C2PA profile before signing.
        raise ProvenanceError(
            f"C2PA signing of {source.name} failed: {exc} (the signing certificate must be"
            " X.509 v3 with keyUsage digitalSignature and an extended key usage such as"
            " emailProtection or documentSigning; see docs/c2pa.md)",
            code=C2PA_SIGNER_INVALID,
        ) from exc
    except c2pa_sdk.C2paError as exc:
        raise ProvenanceError(f"C2PA signing of {source.name} failed: {exc}") from exc


# --- the manifest Stemma issues for a recording -------------------------------------------

Disclosure = Literal["none", "partly", "all"]
HUMAN, AI_ASSISTED, AI_GENERATED = "human", "ai_assisted", "ai_generated"
_INVOLVEMENTS: Final = (HUMAN, AI_ASSISTED, AI_GENERATED)
_DISCLOSURES: Final = ("none", "partly", "all")


class Contribution(NamedTuple):
    party: str
    role: str
    element: str
    involvement: str  # human | ai_assisted | ai_generated


class AiSystem(NamedTuple):
    name: str
    model_name: str
    model_version: str


def ai_level(contributions: Sequence[tuple[str, str, str, str]]) -> Disclosure | None:
    """How much of a recording the contributions say is AI: none, partly or all (None if empty).

    ``all`` only when every contribution is AI-generated; any AI-assisted or AI-generated
    contribution beside others makes it ``partly``.
    """
    involvements = [Contribution(*c).involvement for c in contributions]
    for involvement in involvements:
        if involvement not in _INVOLVEMENTS:
            raise ValueError(
                f"unknown involvement {involvement!r}; expected one of {_INVOLVEMENTS}"
            )
    if not involvements:
        return None
    if all(i == AI_GENERATED for i in involvements):
        return "all"
    if all(i == HUMAN for i in involvements):
        return "none"
    return "partly"


def source_type_for(
    disclosure: Disclosure,
    contributions: Sequence[tuple[str, str, str, str]],
    *,
    human_source_type: str = DIGITAL_CREATION,
) -> str:
    """The digitalSourceType IRI for a recording.

    The contributions decide; the declared ``disclosure`` can only raise the level, never
    lower it (a manifest must not understate AI involvement): none -> ``human_source_type``
    (digitalCreation, or digitalCapture for a recorded performance), partly ->
    compositeWithTrainedAlgorithmicMedia, all -> trainedAlgorithmicMedia.
    """
    if disclosure not in _DISCLOSURES:
        raise ValueError(f"unknown disclosure {disclosure!r}; expected one of {_DISCLOSURES}")
    if human_source_type not in (DIGITAL_CREATION, DIGITAL_CAPTURE):
        raise ValueError("human_source_type must be digitalCreation or digitalCapture")
    from_contributions = ai_level(contributions) or "none"
    level = max(disclosure, from_contributions, key=_DISCLOSURES.index)
    short = {
        "none": human_source_type,
        "partly": COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA,
        "all": TRAINED_ALGORITHMIC_MEDIA,
    }[level]
    return source_type_iri(short)


def _generator_info(claim_generator: str) -> dict[str, str]:
    name, _, version = claim_generator.partition("/")
    if not name.strip():
        raise ValueError(f"claim_generator must be 'Name/version', got {claim_generator!r}")
    info = {"name": name.strip()}
    if version.strip():
        info["version"] = version.strip()
    return info


def manifest_for_recording(
    *,
    title: str,
    registry_url: str,
    disclosure: Disclosure,
    contributions: Sequence[tuple[str, str, str, str]],
    ai_systems: Sequence[tuple[str, str, str]],
    claim_generator: str = "Stemma/1.0",
    human_source_type: str = DIGITAL_CREATION,
) -> dict[str, Any]:
    """The C2PA manifest definition Stemma signs into a registered recording's audio.

    - ``c2pa.actions.v2``: one ``c2pa.created`` action whose digitalSourceType comes from
      :func:`source_type_for`; its parameters carry the AI disclosure and, per element
      (composition, vocals...), the strongest involvement declared for it. Party names
      stay in the registry. The AI systems are the assertion's ``softwareAgents``
      (name, version = model version, model = model name); the action points at the
      first with ``softwareAgentIndex``.
    - ``stds.schema-org.CreativeWork``: a schema.org MusicRecording whose ``url`` is the
      registry entry: the link back from the file to its registration.
    """
    if not title.strip():
        raise ValueError("title must not be empty")
    if not registry_url.startswith(("https://", "http://")):
        raise ValueError(f"registry_url must be an absolute http(s) URL, got {registry_url!r}")
    iri = source_type_for(disclosure, contributions, human_source_type=human_source_type)
    level = max(disclosure, ai_level(contributions) or "none", key=_DISCLOSURES.index)

    elements: dict[str, str] = {}
    for contribution in map(Contribution._make, contributions):
        current = elements.get(contribution.element, HUMAN)
        elements[contribution.element] = max(
            current, contribution.involvement, key=_INVOLVEMENTS.index
        )
    agents = []
    for system in map(AiSystem._make, ai_systems):
        if not system.name.strip():
            raise ValueError("an AI system needs a name")
        agent = {"name": system.name}
        if system.model_version:
            agent["version"] = system.model_version
        if system.model_name:
            agent["model"] = system.model_name
        agents.append(agent)

    created: dict[str, Any] = {
        "action": "c2pa.created",
        "digitalSourceType": iri,
        "description": f"Registered in Stemma; AI involvement: {level}",
        "parameters": {"com.stemma.aiDisclosure": level, "com.stemma.elements": elements},
    }
    actions_data: dict[str, Any] = {"actions": [created]}
    if agents:
        created["softwareAgentIndex"] = 0
        actions_data["softwareAgents"] = agents
    return {
        "claim_generator_info": [_generator_info(claim_generator)],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": actions_data},
            {
                "label": "stds.schema-org.CreativeWork",
                "data": {
                    "@context": "https://schema.org",
                    "@type": "MusicRecording",
                    "name": title,
                    "url": registry_url,
                },
            },
        ],
    }
