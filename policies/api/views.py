"""Views of the policies API: scope to the caller's organisation, call a service, shape the answer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from common.api import organization_of, validated
from policies import selectors, services
from policies.facts import Facts
from policies.models import Decision, Policy, PolicyVersion
from registry.api.views import OwnedViewSet, actor_of

from . import serializers as s


class CompareIn(serializers.Serializer):
    old = serializers.IntegerField(min_value=1, help_text="the older version's number")
    new = serializers.IntegerField(min_value=1, help_text="the newer version's number")


class PolicyViewSet(OwnedViewSet):
    """Policies: operators' are global, everyone else's apply to their own recordings."""

    model = Policy
    queryset = Policy.objects.none()  # the schema's view of it; get_queryset() scopes it
    serializer_class = s.PolicyOut
    filterset_fields = ["scope"]
    # The name is quoted by decisions, so it never changes: no PUT, PATCH or DELETE.
    http_method_names = ["get", "post", "head", "options"]

    def object_name(self) -> str:
        return "policy"

    def get_queryset(self) -> QuerySet[Policy]:
        return selectors.policies_visible(self.org())

    @extend_schema(request=s.PolicyIn, responses={201: s.PolicyOut})
    def create(self, request: Request) -> Response:
        """A policy of your organisation (global if you are an operator), optionally with a first draft."""
        policy = services.policy_create(
            actor=actor_of(request), **validated(s.PolicyIn, request.data)
        )
        return self.respond(policy, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[CompareIn],
        responses={200: OpenApiResponse(description="added, removed, changed and moved rules")},
    )
    @action(detail=True, methods=["get"])
    def compare(self, request: Request, pk: str) -> Response:
        """The rule diff between two versions: ``?old=1&new=2``."""
        policy = self.get_object()
        numbers = validated(CompareIn, request.query_params)
        old = selectors.version_or_404(policy, numbers["old"])
        new = selectors.version_or_404(policy, numbers["new"])
        return Response(services.compare(old=old, new=new))


class PolicyVersionViewSet(viewsets.GenericViewSet):
    """Versions of one policy, by number: drafts are edited, simulated, then published."""

    queryset = PolicyVersion.objects.none()  # the schema's view of it
    serializer_class = s.VersionOut

    def policy(self) -> Policy:
        org = organization_of(self.request)
        return selectors.policy_or_404(org, self.kwargs["policy_pk"])

    def version(self) -> PolicyVersion:
        return selectors.version_or_404(self.policy(), self.kwargs["number"])

    def show(self, version: PolicyVersion, code: int = status.HTTP_200_OK) -> Response:
        version = selectors.version_or_404(version.policy, version.number)  # fresh, with users
        return Response(s.VersionOut(version).data, status=code)

    def list(self, request: Request, policy_pk: int) -> Response:
        versions = (
            self.policy().versions.select_related("created_by", "published_by").order_by("number")
        )
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(s.VersionOut(page, many=True).data)

    @extend_schema(request=s.VersionIn, responses={201: s.VersionOut})
    def create(self, request: Request, policy_pk: int) -> Response:
        """A new draft version with these rules."""
        data = validated(s.VersionIn, request.data)
        version = services.version_create(
            actor=actor_of(request),
            policy=self.policy(),
            rules=data["rules"],
            note=data.get("note", ""),
        )
        return self.show(version, status.HTTP_201_CREATED)

    def retrieve(self, request: Request, policy_pk: int, number: int) -> Response:
        return self.show(self.version())

    @extend_schema(request=s.VersionIn, responses={200: s.VersionOut})
    def update(self, request: Request, policy_pk: int, number: int) -> Response:
        """Replace a draft's rules (409 POLICY_VERSION_NOT_DRAFT once published)."""
        data = validated(s.VersionIn, request.data)
        version = services.version_update(
            actor=actor_of(request),
            version=self.version(),
            rules=data["rules"],
            note=data.get("note"),
        )
        return self.show(version)

    @extend_schema(request=None, responses={200: s.VersionOut})
    def publish(self, request: Request, policy_pk: int, number: int) -> Response:
        """Publish a draft; the version it replaces is retired, unchanged."""
        version = services.version_publish(actor=actor_of(request), version=self.version())
        return self.show(version)

    @extend_schema(request=None, responses={200: s.VersionOut})
    def retire(self, request: Request, policy_pk: int, number: int) -> Response:
        """Retire the published version: the policy stops applying until another is published."""
        version = services.version_retire(actor=actor_of(request), version=self.version())
        return self.show(version)

    @extend_schema(
        request=s.SimulateIn,
        responses={200: OpenApiResponse(description="what would change, decision by decision")},
    )
    def simulate(self, request: Request, policy_pk: int, number: int) -> Response:
        """Evaluate this version against the latest past decisions' facts and list the differences."""
        version = self.version()
        limit = validated(s.SimulateIn, request.data)["limit"]
        result = services.simulate(actor=actor_of(request), version=version, limit=limit)
        return Response(
            {
                "policy": version.policy_id,
                "version": version.number,
                "considered": result.considered,
                "changed": len(result.changes),
                "changes": result.changes,
            }
        )

    @extend_schema(
        request=s.EvaluateIn,
        responses={200: OpenApiResponse(description="the outcome; nothing is stored")},
    )
    def evaluate(self, request: Request, policy_pk: int, number: int) -> Response:
        """A dry run of this version alone on the facts you send."""
        version = self.version()
        facts = Facts.from_json(validated(s.EvaluateIn, request.data)["facts"])
        return Response(services.evaluate_version(version=version, facts=facts).to_json())


class DecisionViewSet(OwnedViewSet):
    """Decisions about your checks, or about checks that matched your recordings."""

    model = Decision
    queryset = Decision.objects.none()  # the schema's view of it; get_queryset() scopes it
    serializer_class = s.DecisionOut
    filterset_fields = ["subject_type", "subject_id", "action"]
    http_method_names = ["get", "head", "options"]  # decisions are made by services, never edited

    def get_queryset(self) -> QuerySet[Decision]:
        return selectors.decisions_visible(self.org())

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "organization": self.org()}

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={200: OpenApiResponse(description="whether replaying gives the same outcome")},
    )
    @action(detail=True, methods=["get"])
    def replay(self, request: Request, pk: str) -> Response:
        """Evaluate the stored facts again with the exact versions used, and compare."""
        decision = self.get_object()
        result = services.replay(decision=decision)
        return Response(
            {
                "decision": decision.pk,
                "identical": result.identical,
                "outcome_sha256": result.outcome.sha256(),
                "stored_outcome_sha256": decision.outcome_sha256,
            }
        )
