"""Serializers of the registry API: input shapes (checked here) and output representations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api import json_object
from registry import identifiers
from registry.models import (
    Contribution,
    GenerationRecord,
    Involvement,
    OwnershipConflict,
    Party,
    Recording,
    Release,
    RightsShare,
    Work,
    WorkWriter,
)

# ---------------------------------------------------------------- input


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "object"}]})
class RefField(serializers.JSONField):
    """An id, or an object describing the thing (created or found on the fly)."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if isinstance(value, bool) or not isinstance(value, int | str | dict):
            raise serializers.ValidationError("an id or an object", code="invalid")
        if isinstance(value, str):
            if not value.isdigit():
                raise serializers.ValidationError("an id or an object", code="invalid")
            value = int(value)
        return value


class PartyIn(serializers.Serializer):
    name = serializers.CharField(max_length=300)
    kind = serializers.ChoiceField(choices=Party.Kind.choices, default=Party.Kind.PERSON)
    ipi = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)
    isni = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)
    dpid = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)


class RightsShareIn(serializers.Serializer):
    owner = serializers.IntegerField(required=False, allow_null=True)
    share_pct = serializers.DecimalField(max_digits=7, decimal_places=3)
    territories = serializers.ListField(
        child=serializers.CharField(max_length=8), default=["WORLD"]
    )
    exclude_territories = serializers.ListField(
        child=serializers.CharField(max_length=8), required=False, default=list
    )
    start = serializers.DateField(required=False, allow_null=True)
    end = serializers.DateField(required=False, allow_null=True)
    usage_types = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list
    )


class WriterIn(serializers.Serializer):
    party = RefField()
    role = serializers.ChoiceField(
        choices=WorkWriter.Role.choices, default=WorkWriter.Role.COMPOSER
    )
    share_pct = serializers.DecimalField(max_digits=7, decimal_places=3, default=Decimal(0))
    involvement = serializers.ChoiceField(choices=Involvement.choices, default=Involvement.HUMAN)


class WorkIn(serializers.Serializer):
    title = serializers.CharField(max_length=500)
    iswc = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)
    writers = WriterIn(many=True, required=False)
    rights = RightsShareIn(many=True, required=False)


class ContributionIn(serializers.Serializer):
    party = RefField()
    role = serializers.ChoiceField(choices=Contribution.Role.choices)
    element = serializers.ChoiceField(choices=Contribution.Element.choices)
    involvement = serializers.ChoiceField(choices=Involvement.choices, default=Involvement.HUMAN)


class GenerationIn(serializers.Serializer):
    ai_system = RefField(required=False, allow_null=True)
    provider = serializers.CharField(max_length=200)
    model_name = serializers.CharField(max_length=200)
    model_version = serializers.CharField(max_length=100, required=False, allow_blank=True)
    prompt = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    negative_prompt = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    lyrics = serializers.CharField(required=False, allow_blank=True, max_length=50000)
    seed = serializers.JSONField(required=False, allow_null=True)
    parameters = serializers.DictField(required=False, default=dict)
    input_recordings = serializers.ListField(child=RefField(), required=False, default=list)
    provider_job_id = serializers.CharField(max_length=200, required=False, allow_blank=True)
    terms = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    training_data = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    output_sha256 = serializers.CharField(required=False, allow_blank=True, max_length=64)

    def validate_seed(self, value: Any) -> Any:
        if (
            value is None
            or isinstance(value, str)
            or (isinstance(value, int) and not isinstance(value, bool))
        ):
            return value
        raise serializers.ValidationError("a seed is an integer or a string", code="invalid")


class RecordingIn(serializers.Serializer):
    title = serializers.CharField(max_length=500)
    isrc = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)
    work = serializers.IntegerField(required=False, allow_null=True)
    display_artist = serializers.CharField(required=False, allow_blank=True, max_length=500)
    ai_disclosure = serializers.ChoiceField(
        choices=Recording.AiDisclosure.choices, default=Recording.AiDisclosure.NONE
    )
    contributions = ContributionIn(many=True, required=False)
    generations = GenerationIn(many=True, required=False)
    rights = RightsShareIn(many=True, required=False)


class RecordingMultipartIn(serializers.Serializer):
    metadata = serializers.CharField(help_text="the recording as JSON (see RecordingIn)")
    audio = serializers.FileField(required=False, allow_empty_file=True)

    def validate_metadata(self, value: str) -> dict[str, Any]:
        return json_object(value)


class AudioIn(serializers.Serializer):
    audio = serializers.FileField(allow_empty_file=True)


class ReleaseIn(serializers.Serializer):
    title = serializers.CharField(max_length=500)
    upc = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=40)
    release_type = serializers.ChoiceField(choices=Release.Type.choices, default=Release.Type.ALBUM)
    display_artist = serializers.CharField(required=False, allow_blank=True, max_length=500)
    release_date = serializers.DateField(required=False, allow_null=True)
    tracks = serializers.ListField(child=RefField(), required=False, default=list)

    def validate_tracks(self, value: list[Any]) -> list[Any]:
        result: list[Any] = []
        errors: list[Any] = []
        for item in value:
            if isinstance(item, dict):
                nested = RecordingIn(data=item)
                if nested.is_valid():
                    result.append(nested.validated_data)
                    errors.append({})
                else:
                    errors.append(nested.errors)
            else:
                result.append(item)
                errors.append({})
        if any(errors):
            raise serializers.ValidationError(errors)  # tracks[i].field, as the services name it
        return result


# ---------------------------------------------------------------- output


class PartyOut(serializers.ModelSerializer):
    class Meta:
        model = Party
        fields = ["id", "name", "kind", "ipi", "isni", "dpid", "created_at", "updated_at"]


class PartyBrief(serializers.ModelSerializer):
    class Meta:
        model = Party
        fields = ["id", "name", "kind"]


class RightsShareOut(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_id")
    owner_name = serializers.CharField(source="owner.name")

    class Meta:
        model = RightsShare
        fields = [
            "id",
            "owner",
            "owner_name",
            "share_pct",
            "territories",
            "exclude_territories",
            "start",
            "end",
            "usage_types",
        ]


class WriterOut(serializers.ModelSerializer):
    party = PartyBrief()

    class Meta:
        model = WorkWriter
        fields = ["party", "role", "share_pct", "involvement"]


class WorkOut(serializers.ModelSerializer):
    iswc_display = serializers.SerializerMethodField()
    writers = WriterOut(many=True)
    rights = RightsShareOut(many=True)

    class Meta:
        model = Work
        fields = [
            "id",
            "title",
            "iswc",
            "iswc_display",
            "writers",
            "rights",
            "created_at",
            "updated_at",
        ]

    def get_iswc_display(self, work: Work) -> str | None:
        return identifiers.format_iswc(work.iswc) if work.iswc else None


class ContributionOut(serializers.ModelSerializer):
    party = PartyBrief()

    class Meta:
        model = Contribution
        fields = ["party", "role", "element", "involvement"]


class GenerationOut(serializers.ModelSerializer):
    ai_system = PartyBrief(allow_null=True)
    input_recordings = serializers.SerializerMethodField()
    seed = serializers.SerializerMethodField()

    class Meta:
        model = GenerationRecord
        fields = [
            "id",
            "ai_system",
            "provider",
            "model_name",
            "model_version",
            "prompt",
            "negative_prompt",
            "lyrics",
            "seed",
            "parameters",
            "input_recordings",
            "provider_job_id",
            "terms",
            "training_data",
            "output_sha256",
            "created_at",
        ]

    @extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True})
    def get_seed(self, generation: GenerationRecord) -> int | str | None:
        if not generation.seed:
            return None
        return int(generation.seed) if generation.seed.isdigit() else generation.seed

    def get_input_recordings(self, generation: GenerationRecord) -> list[dict[str, Any]]:
        return [
            {"recording": i.recording_id, "isrc": i.isrc or None, "title": i.title}
            for i in generation.inputs.all()
        ]


class RecordingOut(serializers.ModelSerializer):
    isrc_display = serializers.SerializerMethodField()
    owner = serializers.IntegerField(source="organization_id")
    contributions = ContributionOut(many=True)
    generations = GenerationOut(many=True)
    rights = RightsShareOut(many=True)
    audio = serializers.SerializerMethodField()
    credential = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id",
            "title",
            "isrc",
            "isrc_display",
            "work",
            "display_artist",
            "ai_disclosure",
            "status",
            "owner",
            "duration_s",
            "audio",
            "credential",
            "fingerprint_status",
            "fingerprint_error",
            "fingerprint_error_message",
            "contributions",
            "generations",
            "rights",
            "created_at",
            "updated_at",
        ]

    def get_isrc_display(self, recording: Recording) -> str | None:
        return identifiers.format_isrc(recording.isrc) if recording.isrc else None

    def get_credential(self, recording: Recording) -> dict[str, Any] | None:
        if not recording.credential:
            return None
        return {
            "sha256": recording.credential_sha256,
            "issued_at": recording.credential_issued_at,
            "url": f"/api/v1/recordings/{recording.pk}/credential/",
        }

    def get_audio(self, recording: Recording) -> dict[str, Any] | None:
        if not recording.audio:
            return None
        return {
            "filename": recording.audio_filename,
            "sha256": recording.audio_sha256,
            "size_bytes": recording.audio_size_bytes,
        }


class TrackOut(serializers.Serializer):
    position = serializers.IntegerField()
    recording = serializers.IntegerField(source="recording_id")
    title = serializers.CharField(source="recording.title")
    isrc = serializers.CharField(source="recording.isrc", allow_null=True)


class ReleaseOut(serializers.ModelSerializer):
    tracks = TrackOut(many=True)

    class Meta:
        model = Release
        fields = [
            "id",
            "title",
            "upc",
            "release_type",
            "display_artist",
            "release_date",
            "tracks",
            "created_at",
            "updated_at",
        ]


class ConflictShareOut(serializers.Serializer):
    id = serializers.IntegerField()
    owner = serializers.IntegerField(source="owner_id")
    owner_name = serializers.CharField(source="owner.name")
    registered_by = serializers.IntegerField(source="registered_by_id")
    share_pct = serializers.DecimalField(max_digits=7, decimal_places=3)
    territories = serializers.ListField(child=serializers.CharField())
    exclude_territories = serializers.ListField(child=serializers.CharField())
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    usage_types = serializers.ListField(child=serializers.CharField())


class ConflictOut(serializers.ModelSerializer):
    shares = ConflictShareOut(many=True)
    organizations = serializers.SerializerMethodField()

    class Meta:
        model = OwnershipConflict
        fields = [
            "id",
            "status",
            "subject_kind",
            "subject_key",
            "total_pct",
            "territories",
            "usage_types",
            "start",
            "end",
            "shares",
            "organizations",
            "detected_at",
            "resolved_at",
        ]

    def get_organizations(self, conflict: OwnershipConflict) -> list[dict[str, Any]]:
        return [{"id": o.pk, "name": o.name} for o in conflict.organizations.all()]


class TokenIn(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenOut(serializers.Serializer):
    token = serializers.CharField()
