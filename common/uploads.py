"""Upload handling: stream to a temporary file and stop as soon as the size limit is passed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from .errors import PayloadTooLarge

# Room for the metadata part and multipart framing beside the audio itself.
_ENVELOPE_BYTES = 1024 * 1024


def _too_large(size: int, limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the upload is over the {limit}-byte limit",
        code="AUDIO_TOO_LARGE",
        detail={"size_bytes": size, "max_bytes": limit},
    )


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Files go to disk chunk by chunk; an upload over STEMMA_MAX_AUDIO_BYTES is refused early.

    A declared Content-Length over the limit is refused before a byte is read; a body that
    lies about its length is cut off at the limit.
    """

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        limit = settings.STEMMA_MAX_AUDIO_BYTES
        if content_length and content_length > limit + _ENVELOPE_BYTES:
            raise _too_large(content_length, limit)
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._received = start + len(raw_data)
        limit = settings.STEMMA_MAX_AUDIO_BYTES
        if self._received > limit:
            raise _too_large(self._received, limit)
        return super().receive_data_chunk(raw_data, start)
