"""DDEX allowed values and how they map to the registry's words, both ways (pure, no Django)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from registry.territories import ISO_3166_ALPHA2, WORLD

# ---------------------------------------------------------------- message versions

# The root element's namespace says which ERN version a message follows.
NAMESPACES: dict[str, str] = {
    "http://ddex.net/xml/ern/43": "4.3",
    "http://ddex.net/xml/ern/431": "4.3.1",
    "http://ddex.net/xml/ern/432": "4.3.2",
}
EXPORT_VERSION = "4.3.1"
EXPORT_NAMESPACE = "http://ddex.net/xml/ern/431"
# Allowed-value-set version written on export (the set that has ContainsAI); see docs/ddex.md.
EXPORT_AVS_VERSION = "12"

# ProprietaryId namespace in which the registry carries what ERN has no element for.
STEMMA_NAMESPACE = "Stemma"

# ---------------------------------------------------------------- AI disclosure

# ContainsAI (SoundRecording) and AiContribution (Contributor) share one allowed-value set.
CONTAINS_AI_TO_DISCLOSURE = {"None": "none", "Partly": "partly", "All": "all"}
DISCLOSURE_TO_CONTAINS_AI = {v: k for k, v in CONTAINS_AI_TO_DISCLOSURE.items()}
AI_CONTRIBUTION_TO_INVOLVEMENT = {"None": "human", "Partly": "ai_assisted", "All": "ai_generated"}
INVOLVEMENT_TO_AI_CONTRIBUTION = {v: k for k, v in AI_CONTRIBUTION_TO_INVOLVEMENT.items()}

# ---------------------------------------------------------------- contributor roles

# Registry role -> (DDEX ContributorRole written on export, default element).
ROLE_EXPORT: dict[str, tuple[str, str]] = {
    "composer": ("Composer", "composition"),
    "lyricist": ("Lyricist", "lyrics"),
    "performer": ("Performer", "vocals"),
    "featured_artist": ("Performer", "vocals"),  # plus HasMadeFeaturedContribution
    "vocalist": ("Vocalist", "vocals"),
    "instrumentalist": ("Musician", "instrumentation"),
    "producer": ("StudioProducer", "production"),
    "arranger": ("Arranger", "production"),
    "programmer": ("Programmer", "production"),
    "remixer": ("Remixer", "post_production"),
    "mixing_engineer": ("MixingEngineer", "post_production"),
    "mastering_engineer": ("MasteringEngineer", "post_production"),
    "recording_engineer": ("RecordingEngineer", "production"),
    "artwork": ("CoverDesigner", "artwork"),
}
DEFAULT_ELEMENT = {role: element for role, (_, element) in ROLE_EXPORT.items()}

# DDEX ContributorRole -> registry roles (ComposerLyricist is two contributions).
_ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "composer": ("Composer", "SubArranger"),
    "lyricist": ("Lyricist", "SubLyricist", "Librettist"),
    "performer": (
        "Performer",
        "AssociatedPerformer",
        "LeadPerformer",
        "AdditionalPerformer",
        "Artist",
        "MainArtist",
        "Conductor",
        "Choir",
        "Orchestra",
        "Ensemble",
        "MusicGroup",
        "BandLeader",
        "DJ",
    ),
    "featured_artist": ("FeaturedArtist",),
    "vocalist": ("Vocalist", "LeadVocalist", "BackgroundVocalist", "PlaybackSinger"),
    "instrumentalist": (
        "Musician",
        "PrimaryMusician",
        "StudioMusician",
        "Soloist",
        "Accompanyist",
        "OrchestraMember",
    ),
    "producer": (
        "StudioProducer",
        "Producer",
        "CoProducer",
        "AssistantProducer",
        "AssociateProducer",
        "AdditionalStudioProducer",
        "VocalProducer",
        "ExecutiveProducer",
        "CoExecutiveProducer",
        "PostProducer",
    ),
    "arranger": ("Arranger", "MusicArranger", "VocalArranger"),
    "programmer": ("Programmer", "ProgrammingEngineer", "ComputerProgrammer"),
    "remixer": ("Remixer", "RemixingEngineer"),
    "mixing_engineer": (
        "MixingEngineer",
        "Mixer",
        "CoMixer",
        "CoMixingEngineer",
        "AdditionalMixingEngineer",
        "SurroundMixingEngineer",
        "ImmersiveMixingEngineer",
    ),
    "mastering_engineer": ("MasteringEngineer", "ImmersiveMasteringEngineer"),
    "recording_engineer": (
        "RecordingEngineer",
        "Engineer",
        "BalanceEngineer",
        "TrackingEngineer",
        "VocalEngineer",
        "AdditionalEngineer",
        "Tonmeister",
    ),
    "artwork": (
        "CoverDesigner",
        "GraphicArtist",
        "GraphicDesigner",
        "Designer",
        "Illustrator",
        "Photographer",
        "ArtDirector",
        "Painter",
    ),
}
ROLE_IMPORT: dict[str, tuple[str, ...]] = {"ComposerLyricist": ("composer", "lyricist")}
for _role, _names in _ROLE_GROUPS.items():
    for _name in _names:
        ROLE_IMPORT.setdefault(_name, (_role,))

REGISTRY_ROLES = frozenset(ROLE_EXPORT)
ELEMENTS = frozenset(DEFAULT_ELEMENT.values()) | {"vocals", "instrumentation"}

# ---------------------------------------------------------------- releases

RELEASE_TYPE_EXPORT = {"album": "Album", "single": "Single", "ep": "EP", "compilation": "Album"}
RELEASE_TYPE_IMPORT = {
    "Album": "album",
    "ClassicalAlbum": "album",
    "LongFormNonMusicalWorkAudioRelease": "album",
    "Single": "single",
    "ClassicalSingle": "single",
    "AudioSingle": "single",
    "EP": "ep",
}

# ---------------------------------------------------------------- deals and usage

USE_TYPES_ERN = frozenset(
    """
    Broadcast Cable ConditionalDownload ContentInfluencedStream Display Download Dub
    DubForOnDemandStreaming DubForLivePerformance DubForMovies DubForMusicOnHold
    DubForPublicPerformance DubForRadio DubForTV ExtractForInternet KioskDownload Narrowcast
    NonInteractiveStream OnDemandStream Perform PerformAsMusicOnHold PerformInLivePerformance
    PerformInPublic PermanentDownload Playback PlayInPublic Podcast Print PrivateCopy
    PurchaseAsPhysicalProduct Rent Simulcast Stream TetheredDownload TimeInfluencedStream Use
    UseAsAlertTone UseAsDevice UseAsKaraoke UseAsRingbackTone UseAsRingbackTune UseAsRingtone
    UseAsRingtune UseAsScreensaver UseAsVoiceMail UseAsWallpaper UseForDataMining
    UseForGenerativeAI UseForIdentification UseForNonGenerativeAI UseInMobilePhoneMessaging
    UseInPhoneListening UserDefined UserMakeAvailableLabelProvided UserMakeAvailableUserProvided
    Webcast
    """.split()  # noqa: SIM905 (one allowed value set, as published, reads better as text)
)
COMMERCIAL_MODEL_TYPES_ERN = frozenset(
    {
        "AdvertisementSupportedModel",
        "DeviceFeeModel",
        "FreeOfChargeModel",
        "PayAsYouGoModel",
        "PerformanceRoyaltiesModel",
        "RightsClaimModel",
        "SubscriptionModel",
        "UserDefined",
    }
)
# RightsControlType values that say the party owns (a share of) the recording.
OWNERSHIP_CONTROL_TYPES = frozenset({"RightsController"})
# The generic UseType: a delegation "for any use" (an empty usage list in the registry).
ANY_USE = "Use"

_CAMEL_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z]?[a-z0-9]+")


def use_type_to_usage(use_type: str, user_defined: str = "") -> str:
    """A DDEX UseType ("OnDemandStream") as a registry usage type ("on_demand_stream")."""
    if use_type == "UserDefined":
        return user_defined.strip().lower()
    return "_".join(word.lower() for word in _CAMEL_WORD.findall(use_type))


_USAGE_TO_USE_TYPE = {
    use_type_to_usage(name): name for name in USE_TYPES_ERN if name not in ("UserDefined", ANY_USE)
}


def usage_to_use_type(usage: str) -> tuple[str, str]:
    """A registry usage type ("on_demand_stream") as (UseType, UserDefinedValue)."""
    if usage in _USAGE_TO_USE_TYPE:
        return _USAGE_TO_USE_TYPE[usage], ""
    return "UserDefined", usage


# ---------------------------------------------------------------- territories

WORLDWIDE = "Worldwide"
# An include list this long is written back as Worldwide minus the rest.
_COMPLEMENT_THRESHOLD = len(ISO_3166_ALPHA2) // 2


def territory_from_ddex(code: str) -> str:
    return WORLD if code.strip() == WORLDWIDE else code.strip().upper()


def territory_to_ddex(code: str) -> str:
    return WORLDWIDE if code == WORLD else code


def compact_territories(codes: list[str]) -> tuple[list[str], list[str]]:
    """(include, exclude) for an include-only list; long lists become WORLD minus the rest."""
    unique = sorted(set(codes))
    if WORLD in unique:
        return [WORLD], []
    if len(unique) > _COMPLEMENT_THRESHOLD and set(unique) <= ISO_3166_ALPHA2:
        return [WORLD], sorted(ISO_3166_ALPHA2 - set(unique))
    return unique, []


def expand_territories(include: list[str], exclude: list[str]) -> list[str]:
    """An include-only list for places where ERN has no exclusions."""
    if not exclude:
        return list(include)
    base = ISO_3166_ALPHA2 if include == [WORLD] else set(include)
    return sorted(base - set(exclude))


# ---------------------------------------------------------------- durations

_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> float | None:
    """Seconds in an ISO 8601 duration (PT3M30S, PT1H2M3.5S, P0DT4M); None if not one.

    Years and months have no fixed length and are refused.
    """
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        return None
    parts = match.groupdict()
    if not any(parts.values()):
        return None
    seconds = Decimal(parts["seconds"] or 0)
    seconds += 60 * int(parts["minutes"] or 0) + 3600 * int(parts["hours"] or 0)
    seconds += 86400 * int(parts["days"] or 0)
    return float(seconds)


def format_duration(seconds: float) -> str:
    """ISO 8601 duration to the millisecond: 210.5 -> PT3M30.5S."""
    try:
        total = Decimal(str(seconds)).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        raise ValueError(f"not a duration: {seconds!r}") from None
    if total < 0:
        raise ValueError(f"negative duration: {seconds!r}")
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{int(hours)}H"
    if minutes:
        text += f"{int(minutes)}M"
    secs_text = format(secs.normalize(), "f") if secs else "0"
    if secs or text == "PT":
        text += f"{secs_text}S"
    return text
