"""Safe XML parsing for untrusted messages: no DTDs, no entities, no network, bounded size."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml import ExternalReferenceForbidden as _ExternalForbidden
from defusedxml.ElementTree import DefusedXMLParser

from common.errors import DomainError, PayloadTooLarge

XML_FORBIDDEN = "XML_FORBIDDEN"
XML_MALFORMED = "XML_MALFORMED"
MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"

# An ERN of a 100-track box set with full credits stays far below these.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_DEPTH = 48
DEFAULT_MAX_ELEMENTS = 500_000


class _Limit(Exception):
    def __init__(self, reason: str, limit: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


class _BoundedTreeBuilder(TreeBuilder):
    """Builds the tree and stops as soon as it gets too deep or too large."""

    def __init__(self, max_depth: int, max_elements: int) -> None:
        super().__init__()
        self._max_depth = max_depth
        self._max_elements = max_elements
        self._depth = 0
        self._count = 0

    def start(self, tag: Any, attrs: Any) -> Element:
        self._depth += 1
        self._count += 1
        if self._depth > self._max_depth:
            raise _Limit("depth", self._max_depth)
        if self._count > self._max_elements:
            raise _Limit("elements", self._max_elements)
        return super().start(tag, attrs)

    def end(self, tag: Any) -> Element:
        self._depth -= 1
        return super().end(tag)


def forbidden(reason: str, message: str, **extra: Any) -> DomainError:
    return DomainError(message, code=XML_FORBIDDEN, status=400, detail={"reason": reason, **extra})


def parse(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_elements: int = DEFAULT_MAX_ELEMENTS,
) -> Element:
    """The root element of ``data``, or a DomainError; nothing outside ``data`` is ever read.

    Any document type declaration is refused (no DTD is needed to read an ERN, and every
    entity-expansion or external-entity attack needs one), so are entities and external
    references should a parser ever get past that, and documents over the size, depth or
    element-count limits.
    """
    if not isinstance(data, bytes | bytearray):
        raise TypeError("parse() takes the raw bytes of the document")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"the message is {len(data)} bytes; the limit is {max_bytes}",
            code=MESSAGE_TOO_LARGE,
            detail={"size_bytes": len(data), "max_bytes": max_bytes},
        )
    if not data.strip():
        raise DomainError("the message is empty", code=XML_MALFORMED, detail={"reason": "empty"})
    builder = _BoundedTreeBuilder(max_depth, max_elements)
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(bytes(data))
        root = parser.close()
    except DTDForbidden:
        raise forbidden(
            "dtd", "document type declarations (DTDs) are not accepted in a message"
        ) from None
    except EntitiesForbidden:
        raise forbidden("entity", "entity declarations are not accepted in a message") from None
    except _ExternalForbidden:
        raise forbidden(
            "external_reference", "references to external resources are not accepted"
        ) from None
    except DefusedXmlException:
        raise forbidden("unsafe", "the document uses an XML feature that is not accepted") from None
    except _Limit as limit:
        raise forbidden(
            limit.reason,
            f"the document is over the {limit.reason} limit ({limit.limit})",
            limit=limit.limit,
        ) from None
    except ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        raise DomainError(
            f"the message is not well-formed XML: {error}",
            code=XML_MALFORMED,
            detail={"reason": "syntax", "line": line, "column": column},
        ) from None
    return root
