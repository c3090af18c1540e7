"""Registry tables: organisations, parties, works, recordings, releases, rights, provenance."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

PCT_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class Organization(models.Model):
    class Kind(models.TextChoices):
        LABEL = "label", "Label"
        DISTRIBUTOR = "distributor", "Distributor"
        AI_PROVIDER = "ai_provider", "AI provider"
        OPERATOR = "operator", "Operator"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_operator(self) -> bool:
        return self.kind == self.Kind.OPERATOR


class User(AbstractUser):
    """A person (or script) acting for one organisation."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )


class OwnedModel(models.Model):
    """Something one organisation registered and only it (and operators) may see."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Party(OwnedModel):
    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        ORGANIZATION = "organization", "Organisation"
        AI_SYSTEM = "ai_system", "AI system"

    name = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ipi = models.CharField("IPI name number", max_length=11, null=True, blank=True)
    isni = models.CharField("ISNI", max_length=16, null=True, blank=True)
    dpid = models.CharField("DDEX party id", max_length=18, null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(fields=["organization", "ipi"], name="party_unique_ipi"),
            models.UniqueConstraint(fields=["organization", "isni"], name="party_unique_isni"),
            models.UniqueConstraint(fields=["organization", "dpid"], name="party_unique_dpid"),
            models.CheckConstraint(
                condition=Q(ipi__isnull=True) | Q(ipi__regex=r"^[0-9]{11}$"), name="party_ipi_form"
            ),
            models.CheckConstraint(
                condition=Q(isni__isnull=True) | Q(isni__regex=r"^[0-9]{15}[0-9X]$"),
                name="party_isni_form",
            ),
            models.CheckConstraint(
                condition=Q(dpid__isnull=True) | Q(dpid__regex=r"^PADPIDA[0-9]{10}[0-9A-Z]$"),
                name="party_dpid_form",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Involvement(models.TextChoices):
    HUMAN = "human", "Human"
    AI_ASSISTED = "ai_assisted", "AI-assisted"
    AI_GENERATED = "ai_generated", "AI-generated"


class Work(OwnedModel):
    title = models.CharField(max_length=500)
    iswc = models.CharField("ISWC", max_length=11, null=True, blank=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "iswc"], name="work_unique_iswc"),
            models.CheckConstraint(
                condition=Q(iswc__isnull=True) | Q(iswc__regex=r"^T[0-9]{10}$"),
                name="work_iswc_form",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class WorkWriter(models.Model):
    class Role(models.TextChoices):
        COMPOSER = "composer", "Composer"
        LYRICIST = "lyricist", "Lyricist"
        COMPOSER_LYRICIST = "composer_lyricist", "Composer and lyricist"
        ARRANGER = "arranger", "Arranger"
        ADAPTER = "adapter", "Adapter"
        TRANSLATOR = "translator", "Translator"
        PUBLISHER = "publisher", "Publisher"

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="writers")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="writer_credits")
    role = models.CharField(max_length=30, choices=Role.choices)
    share_pct = models.DecimalField(max_digits=6, decimal_places=3, validators=PCT_VALIDATORS)
    involvement = models.CharField(
        max_length=20, choices=Involvement.choices, default=Involvement.HUMAN
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(share_pct__gte=0) & Q(share_pct__lte=100), name="writer_share_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party} ({self.role}, {self.share_pct}%)"


class Recording(OwnedModel):
    class AiDisclosure(models.TextChoices):
        NONE = "none", "No AI"
        PARTLY = "partly", "Partly AI"
        ALL = "all", "All AI"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class FingerprintStatus(models.TextChoices):
        NO_AUDIO = "no_audio", "No audio"
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    title = models.CharField(max_length=500)
    isrc = models.CharField("ISRC", max_length=12, null=True, blank=True)
    work = models.ForeignKey(
        Work, null=True, blank=True, on_delete=models.PROTECT, related_name="recordings"
    )
    display_artist = models.CharField(max_length=500, blank=True)
    ai_disclosure = models.CharField(
        max_length=10, choices=AiDisclosure.choices, default=AiDisclosure.NONE
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)

    audio = models.FileField(upload_to="audio/%Y/%m/", max_length=300, blank=True)
    audio_filename = models.CharField(max_length=300, blank=True)
    audio_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    audio_size_bytes = models.BigIntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    fingerprint_status = models.CharField(
        max_length=10, choices=FingerprintStatus.choices, default=FingerprintStatus.NO_AUDIO
    )
    fingerprint_error = models.CharField(max_length=40, blank=True)
    fingerprint_error_message = models.CharField(max_length=500, blank=True)
    # The audio with a signed C2PA manifest (content credentials) the registry issued for it.
    credential = models.FileField(upload_to="credentials/", max_length=300, blank=True)
    credential_sha256 = models.CharField(max_length=64, blank=True)
    credential_issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "isrc"], name="recording_unique_isrc"),
            models.CheckConstraint(
                condition=Q(isrc__isnull=True) | Q(isrc__regex=r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$"),
                name="recording_isrc_form",
            ),
            models.CheckConstraint(
                condition=Q(audio_sha256="") | Q(audio_sha256__regex=r"^[0-9a-f]{64}$"),
                name="recording_sha256_form",
            ),
        ]
        indexes = [models.Index(fields=["isrc"], name="recording_isrc_idx")]

    def __str__(self) -> str:
        return self.title


class Contribution(models.Model):
    class Role(models.TextChoices):
        COMPOSER = "composer", "Composer"
        LYRICIST = "lyricist", "Lyricist"
        PERFORMER = "performer", "Performer"
        FEATURED_ARTIST = "featured_artist", "Featured artist"
        VOCALIST = "vocalist", "Vocalist"
        INSTRUMENTALIST = "instrumentalist", "Instrumentalist"
        PRODUCER = "producer", "Producer"
        ARRANGER = "arranger", "Arranger"
        PROGRAMMER = "programmer", "Programmer"
        REMIXER = "remixer", "Remixer"
        MIXING_ENGINEER = "mixing_engineer", "Mixing engineer"
        MASTERING_ENGINEER = "mastering_engineer", "Mastering engineer"
        RECORDING_ENGINEER = "recording_engineer", "Recording engineer"
        ARTWORK = "artwork", "Artwork"

    class Element(models.TextChoices):
        COMPOSITION = "composition", "Composition"
        LYRICS = "lyrics", "Lyrics"
        VOCALS = "vocals", "Vocals"
        INSTRUMENTATION = "instrumentation", "Instrumentation"
        PRODUCTION = "production", "Production"
        POST_PRODUCTION = "post_production", "Post-production"
        ARTWORK = "artwork", "Artwork"

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="contributions")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="contributions")
    role = models.CharField(max_length=30, choices=Role.choices)
    element = models.CharField(max_length=30, choices=Element.choices)
    involvement = models.CharField(
        max_length=20, choices=Involvement.choices, default=Involvement.HUMAN
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.party}: {self.role} / {self.element} ({self.involvement})"


class GenerationRecord(models.Model):
    """The parameters of one AI generation that produced (part of) a recording."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="generations")
    ai_system = models.ForeignKey(
        Party, null=True, blank=True, on_delete=models.PROTECT, related_name="generations"
    )
    provider = models.CharField(max_length=200)
    model_name = models.CharField(max_length=200)
    model_version = models.CharField(max_length=100, blank=True)
    prompt = models.TextField(blank=True)
    negative_prompt = models.TextField(blank=True)
    lyrics = models.TextField("lyrics input", blank=True)
    seed = models.CharField(max_length=40, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    provider_job_id = models.CharField(max_length=200, blank=True)
    terms = models.TextField("terms / licence", blank=True)
    training_data = models.TextField("training-data statement", blank=True)
    output_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "provider_job_id"],
                condition=~Q(provider_job_id=""),
                name="generation_unique_job",
            ),
            models.CheckConstraint(
                condition=Q(output_sha256="") | Q(output_sha256__regex=r"^[0-9a-f]{64}$"),
                name="generation_sha256_form",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.model_name} {self.model_version}".strip()


class GenerationInput(models.Model):
    """A recording used as conditioning or reference audio for a generation."""

    generation = models.ForeignKey(
        GenerationRecord, on_delete=models.CASCADE, related_name="inputs"
    )
    recording = models.ForeignKey(
        Recording, null=True, blank=True, on_delete=models.SET_NULL, related_name="used_as_input"
    )
    isrc = models.CharField(max_length=12, blank=True)
    title = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title or self.isrc or f"recording {self.recording_id}"


class Release(OwnedModel):
    class Type(models.TextChoices):
        ALBUM = "album", "Album"
        SINGLE = "single", "Single"
        EP = "ep", "EP"
        COMPILATION = "compilation", "Compilation"

    title = models.CharField(max_length=500)
    upc = models.CharField("UPC/EAN (ICPN)", max_length=13, null=True, blank=True)
    release_type = models.CharField(max_length=20, choices=Type.choices, default=Type.ALBUM)
    display_artist = models.CharField(max_length=500, blank=True)
    release_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "upc"], name="release_unique_upc"),
            models.CheckConstraint(
                condition=Q(upc__isnull=True) | Q(upc__regex=r"^[0-9]{12,13}$"),
                name="release_upc_form",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ReleaseTrack(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="tracks")
    recording = models.ForeignKey(
        Recording, on_delete=models.PROTECT, related_name="release_tracks"
    )
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["release", "position"], name="track_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.recording}"


class RightsShare(models.Model):
    """An owner's percentage of a recording or a work, for territories, a period and usages."""

    owner = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="rights_shares")
    registered_by = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    recording = models.ForeignKey(
        Recording, null=True, blank=True, on_delete=models.CASCADE, related_name="rights"
    )
    work = models.ForeignKey(
        Work, null=True, blank=True, on_delete=models.CASCADE, related_name="rights"
    )
    share_pct = models.DecimalField(max_digits=6, decimal_places=3, validators=PCT_VALIDATORS)
    territories = models.JSONField(default=list)
    exclude_territories = models.JSONField(default=list, blank=True)
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    usage_types = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(share_pct__gt=0) & Q(share_pct__lte=100), name="rights_share_range"
            ),
            models.CheckConstraint(
                condition=(Q(recording__isnull=False) & Q(work__isnull=True))
                | (Q(recording__isnull=True) & Q(work__isnull=False)),
                name="rights_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(start__isnull=True)
                | Q(end__isnull=True)
                | Q(end__gte=models.F("start")),
                name="rights_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner}: {self.share_pct}% in {','.join(self.territories)}"


class OwnershipConflict(models.Model):
    """Shares of one recording (by ISRC) or work (by ISWC) over 100% somewhere."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class SubjectKind(models.TextChoices):
        RECORDING = "recording", "Recording"
        WORK = "work", "Work"

    subject_kind = models.CharField(max_length=10, choices=SubjectKind.choices)
    subject_key = models.CharField(
        max_length=40, help_text="ISRC, ISWC, or recording:<id> / work:<id> without one"
    )
    share_set_key = models.CharField(max_length=64, help_text="sha256 of the sorted share ids")
    shares = models.ManyToManyField(RightsShare, related_name="conflicts")
    organizations = models.ManyToManyField(Organization, related_name="conflicts")
    territories = models.JSONField(default=list)
    usage_types = models.JSONField(default=list)
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    total_pct = models.DecimalField(max_digits=8, decimal_places=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    detected_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_kind", "subject_key", "share_set_key"],
                condition=Q(status="open"),
                name="conflict_unique_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind} {self.subject_key}: {self.total_pct}% ({self.status})"


class ProvenanceEvent(models.Model):
    """One append-only, hash-chained record of a change. Never updated, never deleted."""

    created_at = models.DateTimeField()
    actor_user = models.CharField(max_length=150, blank=True)
    actor_organization = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="provenance_object_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"
