"""API plumbing every app shares: the error format, pagination, the base permission."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, pagination, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response

if TYPE_CHECKING:
    from rest_framework.views import APIView

from .errors import DomainError

logger = logging.getLogger("stemma.api")

_DRF_CODES = {
    exceptions.NotAuthenticated: "NOT_AUTHENTICATED",
    exceptions.AuthenticationFailed: "AUTHENTICATION_FAILED",
    exceptions.PermissionDenied: "PERMISSION_DENIED",
    exceptions.NotFound: "NOT_FOUND",
    exceptions.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    exceptions.NotAcceptable: "NOT_ACCEPTABLE",
    exceptions.UnsupportedMediaType: "UNSUPPORTED_MEDIA",
    exceptions.Throttled: "THROTTLED",
    exceptions.ParseError: "MALFORMED_REQUEST",
}


def _flatten(detail: Any, path: str = "") -> list[tuple[str, str, str]]:
    """(field path, code, message) for every leaf of a DRF error tree."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            if isinstance(key, int):  # DRF keys list items' errors by their index
                out.extend(_flatten(value, f"{path}[{key}]"))
                continue
            name = key if key != "non_field_errors" else ""
            sub = f"{path}.{name}" if path and name else (path or name)
            out.extend(_flatten(value, sub))
        return out
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail) for item in detail):
            return [(path, str(item.code), str(item)) for item in detail]
        out = []
        for index, item in enumerate(detail):
            if item:
                out.extend(_flatten(item, f"{path}[{index}]"))
        return out
    if isinstance(detail, exceptions.ErrorDetail):
        return [(path, str(detail.code), str(detail))]
    return [(path, "invalid", str(detail))]


def error_body(code: str, message: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "detail": detail or {}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map every error to ``{"code", "message", "detail"}`` with the right status."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("TOO_LARGE", "the request body is over the size limit"),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        leaves = _flatten(exc.detail)
        fields: dict[str, list[dict[str, str]]] = {}
        for field, code, message in leaves:
            fields.setdefault(field, []).append({"code": code, "message": message})
        first_field, first_code, first_message = (
            leaves[0] if leaves else ("", "invalid", "invalid input")
        )
        code = first_code if first_code.isupper() else "VALIDATION_ERROR"
        message = f"{first_field}: {first_message}" if first_field else first_message
        detail: dict[str, Any] = {"fields": fields}
        if first_field:
            detail["field"] = first_field
        return Response(error_body(code, message, detail), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.APIException):
        known = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        code = known or str(getattr(exc, "default_code", "error")).upper()
        headers = {}
        wait = getattr(exc, "wait", None)
        if wait:
            headers["Retry-After"] = str(int(wait))
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Token realm="api"'
        return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)
    logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
    return Response(
        error_body("INTERNAL_ERROR", "something went wrong on our side; it has been logged"),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class IsOrganizationMember(permissions.BasePermission):
    """An authenticated user who belongs to an organisation (superusers use the admin)."""

    message = "this account belongs to no organisation"

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "organization_id", None))


def validated(serializer_class: type, data: Any, *, partial: bool = False) -> dict[str, Any]:
    """The body checked by a (shape-only) serializer; a 400 naming the fields otherwise."""
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def organization_of(request: Request) -> Any:
    """The caller's organisation (IsOrganizationMember guarantees there is one)."""
    org = getattr(request.user, "organization", None)
    assert org is not None
    return org


def json_object(value: str) -> dict[str, Any]:
    """A multipart part holding a JSON object (the ``metadata`` beside an audio file)."""
    try:
        data = json.loads(value)
    except ValueError:
        raise exceptions.ValidationError(
            "metadata is not valid JSON", code="METADATA_INVALID"
        ) from None
    if not isinstance(data, dict):
        raise exceptions.ValidationError("metadata is a JSON object", code="METADATA_INVALID")
    return data
