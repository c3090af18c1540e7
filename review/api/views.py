"""Views of the review API: open disputes, read them and their outcome, read a check's review."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checks.models import Check, CheckMatch
from common.api import Pagination, organization_of, validated
from common.errors import NotFound, ValidationError
from registry.api.views import actor_of
from registry.models import OwnershipConflict
from review import selectors, services

from . import serializers as s


def _created(dispute_id: int) -> dict[str, str]:
    return {"Location": f"/api/v1/disputes/{dispute_id}/"}


class CheckDisputeView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=s.DisputeIn,
        responses={201: s.DisputeOut},
        description="The check's submitter disputes its decision, or one of its matches.",
    )
    def post(self, request: Request, pk: int) -> Response:
        org = organization_of(request)
        data = validated(s.DisputeIn, request.data)
        check = Check.objects.filter(pk=pk, organization=org).first()
        if check is None:
            raise NotFound(f"check {pk} not found", code="CHECK_NOT_FOUND")
        match = None
        if data.get("match") is not None:
            match = (
                CheckMatch.objects.select_related("recording")
                .filter(pk=data["match"], submission=check)
                .first()
            )
            if match is None:
                raise ValidationError(
                    f"match {data['match']} is not a match of check {pk}",
                    code="MATCH_NOT_IN_CHECK",
                    detail={"field": "match", "value": data["match"]},
                )
        dispute = services.dispute_open_for_check(
            actor=actor_of(request), check=check, reason=data["reason"], match=match
        )
        return Response(
            selectors.dispute_view(dispute),
            status=status.HTTP_201_CREATED,
            headers=_created(dispute.pk),
        )


class CheckReviewView(APIView):
    @extend_schema(
        responses={200: s.CheckReviewOut},
        description="The check's review: state, final action, note, when and by whom.",
    )
    def get(self, request: Request, pk: int) -> Response:
        org = organization_of(request)
        checks = Check.objects.all() if org.is_operator else Check.objects.filter(organization=org)
        check = checks.filter(pk=pk).first()
        if check is None:
            raise NotFound(f"check {pk} not found", code="CHECK_NOT_FOUND")
        return Response(selectors.review_for_check(check))


class ConflictDisputeView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        request=s.ConflictDisputeIn,
        responses={201: s.DisputeOut},
        description="An organisation involved in an ownership conflict disputes it.",
    )
    def post(self, request: Request, pk: int) -> Response:
        org = organization_of(request)
        data = validated(s.ConflictDisputeIn, request.data)
        conflict = OwnershipConflict.objects.filter(pk=pk, organizations=org).first()
        if conflict is None:
            raise NotFound(f"conflict {pk} not found", code="CONFLICT_NOT_FOUND")
        dispute = services.dispute_open_for_conflict(
            actor=actor_of(request), conflict=conflict, reason=data["reason"]
        )
        return Response(
            selectors.dispute_view(dispute),
            status=status.HTTP_201_CREATED,
            headers=_created(dispute.pk),
        )


class DisputeListView(APIView):
    @extend_schema(responses={200: s.DisputeOut(many=True)})
    def get(self, request: Request) -> Response:
        """The caller's disputes, newest first (``?state=open|resolved``)."""
        qs = selectors.disputes_of(organization_of(request))
        if request.query_params.get("state"):
            qs = qs.filter(state=request.query_params["state"])
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response([selectors.dispute_view(d) for d in page])


class DisputeDetailView(APIView):
    @extend_schema(responses={200: s.DisputeOut})
    def get(self, request: Request, pk: int) -> Response:
        return Response(selectors.dispute_view(selectors.dispute_for(organization_of(request), pk)))
