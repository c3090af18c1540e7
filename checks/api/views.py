"""Views of the checks API: submit audio, read the verdict, configure the webhook."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checks import selectors, services
from common.api import Pagination, organization_of, validated
from registry.api.views import actor_of

from . import serializers as s


class CheckListView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": s.CheckIn},
        responses={202: s.CheckAccepted},
        description="Submit audio and what the uploader declares; the verdict comes later.",
    )
    def post(self, request: Request) -> Response:
        envelope = validated(s.CheckIn, request.data)
        metadata = validated(s.CheckMetadataIn, envelope.get("metadata") or {})
        check, _ = services.check_submit(
            actor=actor_of(request), audio=envelope["audio"], metadata=metadata
        )
        url = f"/api/v1/checks/{check.pk}/"
        body = {"id": check.pk, "status": check.status, "url": url}
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    @extend_schema(
        responses={200: OpenApiResponse(description="the caller's checks, newest first")}
    )
    def get(self, request: Request) -> Response:
        org = organization_of(request)
        qs = selectors.checks_visible(org)
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response([selectors.verdict(c, viewer=org) for c in page])


class CheckDetailView(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="the verdict (see API.md)")})
    def get(self, request: Request, pk: int) -> Response:
        org = organization_of(request)
        return Response(selectors.verdict(selectors.check_for(org, pk), viewer=org))


class WebhookView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(responses={200: s.WebhookOut})
    def get(self, request: Request) -> Response:
        return Response(selectors.webhook_describe(organization_of(request)))

    @extend_schema(request=s.WebhookIn, responses={200: s.WebhookOut})
    def put(self, request: Request) -> Response:
        """Set the URL; the first time (or with ?rotate=1) the response carries the new secret."""
        data = validated(s.WebhookIn, request.data)
        body = services.webhook_configure(
            actor=actor_of(request),
            url=data["url"],
            active=data["active"],
            rotate=request.query_params.get("rotate") in ("1", "true"),
        )
        return Response(body)
