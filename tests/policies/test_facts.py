"""The facts contract: its JSON form is canonical, round-trips, and malformed facts name the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from policies import facts as contract
from policies.facts import FACTS_FORMAT, Facts, FactsInvalid
from registry.models import Contribution, Organization, Recording

from .builders import OWNER, SUBMITTER, facts, facts_json, match, share


def test_the_json_form_round_trips():
    raw = facts_json(
        territories=["fr", "de"],
        usage_types=["Stream", "download"],
        declared_ai={"disclosure": "partly", "elements": ["vocals", "lyrics"]},
        detected_ai={
            "assessment": "detected_ai",
            "confidence": 0.8,
            "evidence": [{"source": "spectral", "score": 0.9, "detail": "peaks at 11 kHz"}],
        },
        matches=[match(rights=[share(start="2026-01-01", share_pct=50)])],
        conflicts=[{"recording_id": 101, "territories": ["FR"]}],
    )
    raw["usage_types"] = ["stream", "download"]

    parsed = Facts.from_json(raw)

    assert parsed.territories == ("DE", "FR")
    assert parsed.usage_types == ("download", "stream")
    assert parsed.declared_ai == contract.DeclaredAI("partly", ("lyrics", "vocals"))
    assert parsed.matches[0].rights[0].share_pct == Decimal("50.000")
    assert parsed.matches[0].rights[0].start == dt.date(2026, 1, 1)
    assert parsed.matches[0].owner_is_submitter is False
    assert Facts.from_json(parsed.to_json()) == parsed
    assert parsed.to_json()["format"] == FACTS_FORMAT
    assert parsed.to_json()["matches"][0]["rights"][0]["share_pct"] == "50.000"


def test_equal_facts_have_equal_hashes_and_any_change_shows():
    a = facts(territories=["FR", "DE"], matches=[match(duration_s=42)])
    b = facts(territories=["DE", "fr"], matches=[match(duration_s=42.0)])
    c = facts(territories=["DE", "FR"], matches=[match(duration_s=42.5)])

    assert a.canonical() == b.canonical()
    assert a.sha256() == b.sha256() != c.sha256()


def test_owner_is_submitter_is_derived_and_checked():
    own = facts(matches=[match(owner_id=SUBMITTER)])
    assert own.matches[0].owner_is_submitter is True

    with pytest.raises(FactsInvalid) as caught:
        facts(matches=[match(owner_id=OWNER, owner_is_submitter=True)])
    assert caught.value.detail["field"] == "matches[0].owner_is_submitter"


def test_not_gathered_and_nothing_found_are_different_facts():
    not_run = facts(detected_ai=None)
    nothing = facts()

    assert not_run.detected_ai is None
    assert nothing.detected_ai == contract.DetectedAI("no_evidence", 0.0, ())
    assert not_run.sha256() != nothing.sha256()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"territories": []}, "territories"),
        ({"territories": ["XX"]}, "territories"),
        ({"territories": ["WORLD", "FR"]}, "territories"),
        ({"evaluation_date": "01/03/2026"}, "evaluation_date"),
        ({"submitter": {"organization_id": 0, "kind": "label"}}, "submitter.organization_id"),
        ({"submitter": {"organization_id": 1, "kind": "band"}}, "submitter.kind"),
        ({"usage_types": ["Stream"]}, "usage_types[0]"),
        ({"declared_ai": {"disclosure": "maybe"}}, "declared_ai.disclosure"),
        (
            {"declared_ai": {"disclosure": "partly", "elements": ["drums"]}},
            "declared_ai.elements[0]",
        ),
        ({"detected_ai": {"assessment": "x"}}, "detected_ai.confidence"),
        (
            {
                "detected_ai": {
                    "assessment": "x",
                    "confidence": 1,
                    "evidence": [{"source": "radio", "score": 1}],
                }
            },
            "detected_ai.evidence[0].source",
        ),
        ({"matches": [match(score=1.2)]}, "matches[0].score"),
        ({"matches": [match(query_coverage_pct=-1)]}, "matches[0].query_coverage_pct"),
        ({"matches": [match(isrc="GB-AAA-26-30001")]}, "matches[0].isrc"),
        ({"matches": [match(ai_disclosure="some")]}, "matches[0].ai_disclosure"),
        ({"matches": [match(rights=[share(share_pct="120")])]}, "matches[0].rights[0].share_pct"),
        ({"matches": [match(rights=[share(kind="loan")])]}, "matches[0].rights[0].kind"),
        ({"matches": [match(rights=[share(territories=[])])]}, "matches[0].rights[0].territories"),
        ({"matches": [{"recording_id": 1}]}, "matches[0].owner_id"),
        ({"matches": [match(colour="red")]}, "matches[0].colour"),
        ({"conflicts": [{"recording_id": "x"}]}, "conflicts[0].recording_id"),
        ({"format": "stemma.facts/0"}, "format"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_malformed_facts_are_refused_naming_the_field(change, field):
    with pytest.raises(FactsInvalid) as caught:
        Facts.from_json(facts_json(**change))

    assert caught.value.code == "FACTS_INVALID"
    assert caught.value.detail["field"] == field
    assert caught.value.message.startswith(f"{field}: ")


def test_facts_must_be_an_object_with_the_required_parts():
    with pytest.raises(FactsInvalid) as caught:
        Facts.from_json({})

    assert [e["field"] for e in caught.value.detail["errors"]] == [
        "submitter",
        "territories",
        "evaluation_date",
    ]


def test_the_contracts_vocabularies_are_the_registrys():
    assert tuple(Contribution.Element.values) == contract.AI_ELEMENTS
    assert tuple(Recording.AiDisclosure.values) == contract.AI_DISCLOSURES
    assert tuple(Organization.Kind.values) == contract.ORGANIZATION_KINDS
