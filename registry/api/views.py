"""Views of the registry API: authenticate, scope to the caller's organisation, call a service."""

from __future__ import annotations

import os
from typing import Any

import django_filters
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from common.api import organization_of, validated
from common.errors import DomainError, NotFound, ValidationError
from registry import selectors, services
from registry.models import OwnershipConflict, Party, Recording, Release, Work
from registry.provenance import Actor

from . import serializers as s


def actor_of(request: Request) -> Actor:
    return Actor.for_user(request.user)  # type: ignore[arg-type]


class TokenView(APIView):
    """Exchange a username and password for the user's API token."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=s.TokenIn, responses=s.TokenOut)
    def post(self, request: Request) -> Response:
        data = validated(s.TokenIn, request.data)
        user = authenticate(request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            raise DomainError(
                "wrong username or password", code="AUTHENTICATION_FAILED", status=401
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(APIView):
    """Who the token belongs to."""

    @extend_schema(responses={200: OpenApiResponse(description="the caller and its organisation")})
    def get(self, request: Request) -> Response:
        org = organization_of(request)
        return Response(
            {
                "username": request.user.get_username(),
                "organization": {"id": org.pk, "name": org.name, "kind": org.kind},
                "open_conflicts": selectors.open_conflict_count(org),
            }
        )


class OwnedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List and read within the caller's organisation; writes go to services."""

    def org(self) -> Any:
        return organization_of(self.request)

    def get_object(self) -> Any:
        """Anything the caller may not see answers as if it did not exist, with one code."""
        try:
            return super().get_object()
        except Http404:
            name = self.object_name()
            pk = self.kwargs.get(self.lookup_field, "")
            raise NotFound(f"{name} {pk} not found", code=f"{name.upper()}_NOT_FOUND") from None

    model: type[Any]
    input_serializer: type[Any]
    # Lists a PUT replaces with [] when it leaves them out (PATCH leaves them alone).
    replaced_lists: tuple[str, ...] = ()

    def respond(self, obj: Any, code: int = status.HTTP_200_OK, **extra: Any) -> Response:
        obj = self.get_queryset().get(pk=obj.pk)
        data = self.get_serializer(obj).data
        data.update(extra)
        return Response(data, status=code)

    def object_name(self) -> str:
        return str(self.model._meta.model_name)

    def own(self, pk: str) -> Any:
        """The caller's own object, for writing; anything else is a 404."""
        return selectors.owned_or_404(self.model, self.org(), pk, name=self.object_name())

    def apply_update(self, actor: Actor, obj: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _update(self, request: Request, pk: str, *, partial: bool) -> Response:
        data = validated(self.input_serializer, request.data, partial=partial)
        if not partial:
            for name in self.replaced_lists:
                data.setdefault(name, [])
        return self.respond(self.apply_update(actor_of(request), self.own(pk), data))

    def update(self, request: Request, pk: str) -> Response:
        """Replace the object's fields with the body's (lists left out become empty)."""
        return self._update(request, pk, partial=False)

    def partial_update(self, request: Request, pk: str) -> Response:
        """Change only the fields the body names; lists given replace the old ones."""
        return self._update(request, pk, partial=True)


class PartyFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Party
        fields = ["name", "kind", "ipi", "isni", "dpid"]


@extend_schema_view(
    update=extend_schema(request=s.PartyIn), partial_update=extend_schema(request=s.PartyIn)
)
class PartyViewSet(OwnedViewSet):
    model = Party
    queryset = Party.objects.none()  # the schema's view of it; get_queryset() scopes it
    serializer_class = s.PartyOut
    input_serializer = s.PartyIn
    filterset_class = PartyFilter

    def get_queryset(self) -> QuerySet[Party]:
        return selectors.parties_visible(self.org())

    @extend_schema(request=s.PartyIn, responses={201: s.PartyOut})
    def create(self, request: Request) -> Response:
        party = services.party_create(
            actor=actor_of(request), data=validated(s.PartyIn, request.data)
        )
        return self.respond(party, status.HTTP_201_CREATED)

    def apply_update(self, actor: Actor, obj: Party, data: dict[str, Any]) -> Party:
        return services.party_update(actor=actor, party=obj, data=data)


class WorkFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(lookup_expr="icontains")
    iswc = django_filters.CharFilter(method="filter_iswc")

    class Meta:
        model = Work
        fields = ["title", "iswc"]

    def filter_iswc(self, qs: QuerySet[Work], name: str, value: str) -> QuerySet[Work]:
        return qs.filter(iswc=value.replace("-", "").replace(".", "").upper())


@extend_schema_view(
    update=extend_schema(request=s.WorkIn), partial_update=extend_schema(request=s.WorkIn)
)
class WorkViewSet(OwnedViewSet):
    model = Work
    queryset = Work.objects.none()  # the schema's view of it; get_queryset() scopes it
    input_serializer = s.WorkIn
    replaced_lists = ("writers", "rights")
    serializer_class = s.WorkOut
    filterset_class = WorkFilter

    def get_queryset(self) -> QuerySet[Work]:
        return selectors.works_visible(self.org())

    @extend_schema(request=s.WorkIn, responses={201: s.WorkOut})
    def create(self, request: Request) -> Response:
        work = services.work_create(actor=actor_of(request), data=validated(s.WorkIn, request.data))
        return self.respond(work, status.HTTP_201_CREATED)

    def apply_update(self, actor: Actor, obj: Work, data: dict[str, Any]) -> Work:
        return services.work_update(actor=actor, work=obj, data=data)


class RecordingFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(lookup_expr="icontains")
    isrc = django_filters.CharFilter(method="filter_isrc")

    class Meta:
        model = Recording
        fields = ["title", "isrc", "ai_disclosure", "fingerprint_status", "status", "work"]

    def filter_isrc(self, qs: QuerySet[Recording], name: str, value: str) -> QuerySet[Recording]:
        return qs.filter(isrc=value.replace("-", "").replace(" ", "").upper())


@extend_schema_view(
    update=extend_schema(request=s.RecordingIn),
    partial_update=extend_schema(request=s.RecordingIn),
)
class RecordingViewSet(OwnedViewSet):
    model = Recording
    queryset = Recording.objects.none()  # the schema's view of it; get_queryset() scopes it
    input_serializer = s.RecordingIn
    replaced_lists = ("contributions", "generations", "rights")
    serializer_class = s.RecordingOut
    filterset_class = RecordingFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Recording]:
        return selectors.recordings_visible(self.org())

    @extend_schema(
        request={"application/json": s.RecordingIn, "multipart/form-data": s.RecordingMultipartIn},
        responses={201: s.RecordingOut},
    )
    def create(self, request: Request) -> Response:
        audio = None
        if request.content_type.startswith("multipart/"):
            envelope = validated(s.RecordingMultipartIn, request.data)
            data = validated(s.RecordingIn, envelope["metadata"])
            audio = envelope.get("audio")
        else:
            data = validated(s.RecordingIn, request.data)
        recording, report = services.recording_register_with_audio(
            actor=actor_of(request), data=data, audio=audio
        )
        extra = {"audio_report": report} if report is not None else {}
        return self.respond(recording, status.HTTP_201_CREATED, **extra)

    def apply_update(self, actor: Actor, obj: Recording, data: dict[str, Any]) -> Recording:
        return services.recording_update(actor=actor, recording=obj, data=data)

    @extend_schema(responses={200: s.RecordingOut})
    def destroy(self, request: Request, pk: str) -> Response:
        """Withdraw the recording: it leaves matching and conflicts, and stays in the log."""
        recording = services.recording_withdraw(actor=actor_of(request), recording=self.own(pk))
        return self.respond(recording)

    @extend_schema(request={"multipart/form-data": s.AudioIn}, responses={202: s.RecordingOut})
    @action(detail=True, methods=["put"], parser_classes=[MultiPartParser])
    def audio(self, request: Request, pk: str) -> Response:
        recording = self.own(pk)
        if "audio" not in request.FILES:
            raise ValidationError(
                "send the file in a multipart part named audio",
                code="AUDIO_MISSING",
                detail={"field": "audio"},
            )
        report = services.recording_attach_audio(
            actor=actor_of(request), recording=recording, audio=request.FILES["audio"]
        )
        recording.refresh_from_db()
        return self.respond(recording, status.HTTP_202_ACCEPTED, audio_report=report)

    @extend_schema(
        methods=["POST"],
        request=None,
        responses={201: s.RecordingOut},
        description="Issue (or re-issue) the C2PA credential.",
    )
    @extend_schema(
        methods=["GET"],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="the signed audio")
        },
    )
    @action(detail=True, methods=["get", "post"])
    def credential(self, request: Request, pk: str) -> Response | FileResponse:
        """The recording's audio with a signed C2PA manifest: POST issues it, GET downloads it."""
        if request.method == "POST":
            recording = services.recording_issue_credential(
                actor=actor_of(request), recording=self.own(pk)
            )
            return self.respond(recording, status.HTTP_201_CREATED)
        recording = self.get_object()
        if not recording.credential:
            raise NotFound(
                "no credential was issued for this recording", code="CREDENTIAL_NOT_FOUND"
            )
        extension = os.path.splitext(recording.credential.name)[1]
        return FileResponse(
            recording.credential.open("rb"),
            as_attachment=True,
            filename=f"recording-{recording.pk}-c2pa{extension}",
        )

    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str) -> Response:
        """The provenance events of this recording, oldest first."""
        recording = self.get_object()
        events = [
            {
                "id": e.pk,
                "at": e.created_at,
                "action": e.action,
                "actor": e.actor_user,
                "organization": e.actor_organization,
                "before": e.before,
                "after": e.after,
                "hash": e.hash,
            }
            for e in services.provenance.history(recording)
        ]
        return Response(events)


class ReleaseFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Release
        fields = ["title", "upc", "release_type"]


@extend_schema_view(
    update=extend_schema(request=s.ReleaseIn), partial_update=extend_schema(request=s.ReleaseIn)
)
class ReleaseViewSet(OwnedViewSet):
    model = Release
    queryset = Release.objects.none()  # the schema's view of it; get_queryset() scopes it
    input_serializer = s.ReleaseIn
    replaced_lists = ("tracks",)
    serializer_class = s.ReleaseOut
    filterset_class = ReleaseFilter

    def get_queryset(self) -> QuerySet[Release]:
        return selectors.releases_visible(self.org())

    @extend_schema(request=s.ReleaseIn, responses={201: s.ReleaseOut})
    def create(self, request: Request) -> Response:
        release = services.release_register(
            actor=actor_of(request), data=validated(s.ReleaseIn, request.data)
        )
        return self.respond(release, status.HTTP_201_CREATED)

    def apply_update(self, actor: Actor, obj: Release, data: dict[str, Any]) -> Release:
        return services.release_update(actor=actor, release=obj, data=data)


class ConflictViewSet(OwnedViewSet):
    model = OwnershipConflict
    queryset = OwnershipConflict.objects.none()  # the schema's view of it; get_queryset() scopes it
    # Read-only: conflicts change when shares do. Without this, the inherited
    # update/partial_update answer PUT/PATCH with a 500 (no input_serializer).
    http_method_names = ["get", "head", "options"]

    def object_name(self) -> str:
        return "conflict"

    serializer_class = s.ConflictOut
    filterset_fields = ["status", "subject_kind"]

    def get_queryset(self) -> QuerySet[OwnershipConflict]:
        return selectors.conflicts_involving(self.org())
