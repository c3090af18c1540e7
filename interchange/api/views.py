"""Views of the interchange API: ERN messages in (import) and out (export of a release)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import organization_of
from common.errors import PayloadTooLarge, ValidationError
from registry.provenance import Actor

from .. import selectors, services, xmlsafe


def _too_large(size: int) -> PayloadTooLarge:
    limit = services.max_message_bytes()
    return PayloadTooLarge(
        f"the message is over the {limit}-byte limit",
        code=xmlsafe.MESSAGE_TOO_LARGE,
        detail={"size_bytes": size, "max_bytes": limit},
    )


class XmlBodyParser(BaseParser):
    """The raw XML body, unparsed (the service parses it safely), read up to the size limit."""

    media_type = "application/xml"

    def parse(  # type: ignore[override]
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> bytes:
        limit = services.max_message_bytes()
        request = (parser_context or {}).get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if declared > limit:
            raise _too_large(declared)
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise _too_large(len(data))
        return bytes(data)


class TextXmlBodyParser(XmlBodyParser):
    media_type = "text/xml"


def _message_part(request: Request) -> bytes:
    part = request.FILES.get("message")
    if part is not None:
        if part.size is not None and part.size > services.max_message_bytes():
            raise _too_large(part.size)
        return bytes(part.read())
    text = request.data.get("message") if isinstance(request.data, dict) else None
    if isinstance(text, str) and text:
        return text.encode()
    raise ValidationError(
        "send the ERN in a multipart part named message",
        code="MESSAGE_MISSING",
        detail={"field": "message"},
    )


class ErnImportView(APIView):
    """Import a NewReleaseMessage (ERN 4.3, 4.3.1, 4.3.2): the XML body, or multipart with audio."""

    parser_classes = [XmlBodyParser, TextXmlBodyParser, MultiPartParser]

    @extend_schema(
        request={
            "application/xml": OpenApiTypes.STR,
            "text/xml": OpenApiTypes.STR,
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "message": {"type": "string", "format": "binary"},
                },
                "additionalProperties": {"type": "string", "format": "binary"},
                "required": ["message"],
            },
        },
        responses={
            201: OpenApiResponse(description="a new release was registered"),
            200: OpenApiResponse(description="updated, unchanged (same message), or test"),
            400: OpenApiResponse(description="ERN_INVALID with every problem, XML_FORBIDDEN..."),
            409: OpenApiResponse(description="MESSAGE_STALE, MESSAGE_ID_REUSED"),
            413: OpenApiResponse(description="MESSAGE_TOO_LARGE, AUDIO_TOO_LARGE"),
        },
    )
    def post(self, request: Request) -> Response:
        actor = Actor.for_user(request.user)  # type: ignore[arg-type]
        if request.content_type.startswith("multipart/"):
            data = _message_part(request)
            audio = {name: f for name, f in request.FILES.items() if name != "message"}
        else:
            data = bytes(request.data)  # type: ignore[arg-type]
            audio = {}
        outcome = services.ern_import(actor=actor, data=data, audio=services.uploaded_audio(audio))
        code = status.HTTP_201_CREATED if outcome.status == "created" else status.HTTP_200_OK
        return Response(outcome.as_dict(), status=code)


class ReleaseErnView(APIView):
    """A release as an ERN 4.3.1 NewReleaseMessage (404 for releases that are not yours)."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The answer is XML whatever the Accept header says; errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={
            (200, "application/xml"): OpenApiResponse(
                response=OpenApiTypes.STR, description="the NewReleaseMessage"
            ),
            404: OpenApiResponse(description="RELEASE_NOT_FOUND"),
        }
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        org = organization_of(request)
        body = selectors.release_ern(org, pk)
        response = HttpResponse(body, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="release-{pk}-ern.xml"'
        return response
