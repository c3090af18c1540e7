"""Typed domain errors with stable, machine-readable codes (no Django imports)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected failure the caller can act on.

    ``code`` is stable and machine-readable (``ISRC_INVALID``); ``message`` is for
    people; ``detail`` carries structured context (the field, the bad value...).
    ``status`` is the HTTP status the API answers with.
    """

    code: str = "INVALID"
    status: int = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        detail: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.detail: dict[str, Any] = dict(detail or {})

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class ValidationError(DomainError):
    code = "INVALID"
    status = 400


class NotFound(DomainError):
    code = "NOT_FOUND"
    status = 404


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
    status = 403


class Conflict(DomainError):
    code = "CONFLICT"
    status = 409


class PayloadTooLarge(DomainError):
    code = "TOO_LARGE"
    status = 413


class UnsupportedMedia(DomainError):
    code = "UNSUPPORTED_MEDIA"
    status = 415
