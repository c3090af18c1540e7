"""Policies and versions end to end: create, read, isolation, invalid rules, publish, simulate, compare."""

from __future__ import annotations

import pytest

from policies import services
from policies.facts import Facts
from policies.models import Policy, PolicyVersion
from policies.rules import parse_rules
from registry.models import ProvenanceEvent
from registry.provenance import Actor
from tests.registry.factories import assert_error, expect, get, ids, post

from .builders import facts_json, match, rule, share

pytestmark = pytest.mark.django_db

URL = "/api/v1/policies/"
BLOCK_FR = rule("block-in-fr", "block", territories={"in": ["fr"]})


def versions_url(policy_id, number=None, verb=""):
    url = f"{URL}{policy_id}/versions/"
    if number is not None:
        url += f"{number}/"
    return url + (f"{verb}/" if verb else "")


def create_policy(client, name="Northern catalogue", rules=(BLOCK_FR,), **fields):
    data = {"name": name, **fields}
    if rules is not None:
        data["rules"] = list(rules)
    return post(client, URL, data)


def without(body, *keys):
    return {k: v for k, v in body.items() if k not in keys}


# ---------------------------------------------------------------- policies


def test_a_label_creates_a_policy_with_a_first_draft(label):
    body = create_policy(label, description="our catalogue", note="first try")

    assert without(body, "id", "created_at", "versions") == {
        "name": "Northern catalogue",
        "description": "our catalogue",
        "scope": "owner",
        "organization": label.organization.pk,
        "published_version": None,
    }
    (version,) = body["versions"]
    assert without(version, "id", "created_at") == {
        "number": 1,
        "status": "draft",
        "rules_sha256": parse_rules([BLOCK_FR]).sha256(),
        "published_at": None,
    }
    assert expect(label.get(f"{URL}{body['id']}/"), 200) == body
    assert list(
        ProvenanceEvent.objects.filter(actor_organization="Northern Lights Records")
        .filter(object_type__startswith="policies.")
        .values_list("action", flat=True)
    ) == ["policy.create", "policy_version.create"]


def test_an_operators_policy_is_global(operator):
    body = create_policy(operator, name="Stricter AI rules", rules=None)

    assert (body["scope"], body["organization"], body["versions"]) == (
        "global",
        operator.organization.pk,
        [],
    )


def test_each_organisation_sees_its_own_and_the_global_policies(
    label, other_label, operator, default_policy
):
    ours = create_policy(label)["id"]
    theirs = create_policy(other_label)["id"]
    global_ = create_policy(operator, name="Global extra", rules=None)["id"]

    assert ids(get(label, URL)) == [default_policy.pk, ours, global_]
    assert ids(get(other_label, URL)) == [default_policy.pk, theirs, global_]
    assert ids(get(operator, URL)) == [default_policy.pk, ours, theirs, global_]
    assert ids(get(operator, URL, scope="owner")) == [ours, theirs]


def test_the_default_policy_is_readable_by_everyone(label, default_policy):
    body = get(label, f"{URL}{default_policy.pk}/")

    assert (body["name"], body["scope"], body["organization"], body["published_version"]) == (
        "Stemma default",
        "global",
        None,
        1,
    )
    version = get(label, versions_url(default_policy.pk, 1))
    assert [r["id"] for r in version["rules"]] == [
        "reuse-needs-licence",
        "ai-generation-as-human",
        "undisclosed-ai",
        "nothing-found",
    ]


def test_another_labels_policy_does_not_exist_for_you(label, other_label):
    policy = create_policy(label)["id"]

    for response in (
        other_label.get(f"{URL}{policy}/"),
        other_label.get(versions_url(policy)),
        other_label.get(versions_url(policy, 1)),
        other_label.post(versions_url(policy), {"rules": []}, format="json"),
        other_label.post(versions_url(policy, 1, "publish")),
        other_label.post(versions_url(policy, 1, "simulate"), {}, format="json"),
        other_label.get(f"{URL}{policy}/compare/", {"old": 1, "new": 1}),
    ):
        assert_error(response, 404, "POLICY_NOT_FOUND")
    assert PolicyVersion.objects.filter(policy_id=policy).count() == 1


def test_invalid_rules_are_refused_with_the_field_path(label):
    policy = create_policy(label)["id"]
    rules = [rule("a"), rule("b"), rule("c", match_duration_s={"gte": "ten"})]

    body = assert_error(
        label.post(versions_url(policy), {"rules": rules}, format="json"),
        400,
        "POLICY_VALUE_INVALID",
        field="rules[2].conditions.match_duration_s.gte",
    )

    assert (
        body["message"]
        == "rules[2].conditions.match_duration_s.gte: must be a number, not a string"
    )
    assert body["detail"]["errors"] == [
        {
            "field": "rules[2].conditions.match_duration_s.gte",
            "code": "POLICY_VALUE_INVALID",
            "message": "must be a number, not a string",
        }
    ]
    assert PolicyVersion.objects.filter(policy_id=policy).count() == 1


def test_a_policy_with_invalid_rules_is_not_created_at_all(label):
    assert_error(
        label.post(URL, {"name": "Broken", "rules": [rule(action="erase")]}, format="json"),
        400,
        "POLICY_ACTION_INVALID",
        field="rules[0].action.type",
    )
    assert not Policy.objects.filter(name="Broken").exists()


def test_rules_are_required_for_a_version(label):
    policy = create_policy(label)["id"]

    assert_error(
        label.post(versions_url(policy), {}, format="json"), 400, "VALIDATION_ERROR", field="rules"
    )


def test_a_duplicate_name_is_a_conflict(label):
    create_policy(label)

    assert_error(
        label.post(URL, {"name": "Northern catalogue"}, format="json"),
        409,
        "POLICY_EXISTS",
        field="name",
    )


def test_policies_cannot_be_renamed_or_deleted(label):
    policy = create_policy(label)["id"]

    assert_error(
        label.put(f"{URL}{policy}/", {"name": "x"}, format="json"), 405, "METHOD_NOT_ALLOWED"
    )
    assert_error(label.delete(f"{URL}{policy}/"), 405, "METHOD_NOT_ALLOWED")


def test_policies_need_a_token(anonymous):
    assert_error(anonymous.get(URL), 401, "NOT_AUTHENTICATED")


# ---------------------------------------------------------------- versions


def test_the_life_of_a_version(label):
    policy = create_policy(label)["id"]
    post(label, versions_url(policy, 1, "publish"), {}, status=200)

    draft = post(label, versions_url(policy), {"rules": [rule("track", "track")], "note": "softer"})
    assert without(draft, "id", "created_at") == {
        "policy": policy,
        "number": 2,
        "status": "draft",
        "note": "softer",
        "rules": [
            {
                "id": "track",
                "description": "",
                "conditions": {},
                "action": {"type": "track", "reason": ""},
            }
        ],
        "rules_sha256": parse_rules([rule("track", "track")]).sha256(),
        "created_by": label.user.username,
        "published_at": None,
        "published_by": None,
        "retired_at": None,
    }

    edited = expect(
        label.put(versions_url(policy, 2), {"rules": [rule("monitor", "track")]}, format="json"),
        200,
    )
    assert ([r["id"] for r in edited["rules"]], edited["note"]) == (["monitor"], "softer")

    published = post(label, versions_url(policy, 2, "publish"), {}, status=200)
    assert (published["status"], published["published_by"]) == ("published", label.user.username)
    assert get(label, versions_url(policy, 1))["status"] == "retired"
    assert get(label, f"{URL}{policy}/")["published_version"] == 2
    assert [(v["number"], v["status"]) for v in get(label, versions_url(policy))["results"]] == [
        (1, "retired"),
        (2, "published"),
    ]

    assert_error(
        label.put(versions_url(policy, 2), {"rules": []}, format="json"),
        409,
        "POLICY_VERSION_NOT_DRAFT",
    )
    assert_error(label.post(versions_url(policy, 2, "publish")), 409, "POLICY_VERSION_NOT_DRAFT")
    assert_error(label.post(versions_url(policy, 1, "retire")), 409, "POLICY_VERSION_NOT_PUBLISHED")

    retired = post(label, versions_url(policy, 2, "retire"), {}, status=200)
    assert retired["status"] == "retired" and retired["retired_at"] is not None
    assert get(label, f"{URL}{policy}/")["published_version"] is None


def test_an_unknown_version_is_not_found(label):
    policy = create_policy(label)["id"]

    assert_error(label.get(versions_url(policy, 9)), 404, "POLICY_VERSION_NOT_FOUND")


def test_labels_read_but_do_not_change_global_policies(label, default_policy):
    assert get(label, versions_url(default_policy.pk))["count"] == 1

    assert_error(
        label.post(versions_url(default_policy.pk), {"rules": []}, format="json"),
        403,
        "POLICY_READ_ONLY",
    )
    assert_error(label.post(versions_url(default_policy.pk, 1, "retire")), 403, "POLICY_READ_ONLY")
    assert default_policy.versions.get().status == "published"


def test_operators_manage_global_policies_not_labels_own(label, operator, default_policy):
    policy = create_policy(label)["id"]

    assert_error(operator.post(versions_url(policy, 1, "publish")), 403, "POLICY_READ_ONLY")
    draft = post(operator, versions_url(default_policy.pk), {"rules": [rule()]})
    assert (draft["number"], draft["created_by"]) == (2, operator.user.username)


# ---------------------------------------------------------------- simulate, compare, evaluate


def test_simulating_a_draft_shows_what_would_change(label, make_org, default_policy):
    distributor = make_org("distributor", "Riverside Distribution")
    facts = facts_json(
        submitter={"organization_id": distributor.organization.pk, "kind": "distributor"},
        territories=["FR", "US"],
        matches=[
            match(owner_id=label.organization.pk, rights=[share(owner_id=label.organization.pk)])
        ],
    )
    decision = services.decide(
        facts=Facts.from_json(facts),
        subject_type="check",
        subject_id="c-1",
        actor=Actor.system("checks"),
    )
    policy = create_policy(label)["id"]

    body = post(label, versions_url(policy, 1, "simulate"), {"limit": 10}, status=200)

    assert without(body, "changes") == {
        "policy": policy,
        "version": 1,
        "considered": 1,
        "changed": 1,
    }
    (change,) = body["changes"]
    assert without(change, "decided_at", "new_explanation") == {
        "decision": decision.pk,
        "subject_type": "check",
        "subject_id": "c-1",
        "old_action": "require_licence",
        "new_action": "block",
        "territories": {"FR": {"old": "require_licence", "new": "block"}},
    }
    assert_error(
        label.post(versions_url(policy, 1, "simulate"), {"limit": 0}, format="json"),
        400,
        "VALIDATION_ERROR",
        field="limit",
    )
    assert_error(
        label.post(versions_url(default_policy.pk, 1, "simulate"), {}, format="json"),
        403,
        "POLICY_READ_ONLY",
    )


def test_comparing_two_versions(label):
    policy = create_policy(label)["id"]
    post(
        label,
        versions_url(policy),
        {
            "rules": [
                rule("block-in-fr", "block", territories={"in": ["FR", "BE"]}),
                rule("new", "track"),
            ]
        },
    )

    body = get(label, f"{URL}{policy}/compare/", old=1, new=2)

    assert body == {
        "policy": policy,
        "old": 1,
        "new": 2,
        "added": [
            {
                "id": "new",
                "description": "",
                "conditions": {},
                "action": {"type": "track", "reason": ""},
            }
        ],
        "removed": [],
        "changed": [
            {
                "rule": "block-in-fr",
                "changes": [
                    {"path": "conditions.territories.in", "old": ["FR"], "new": ["BE", "FR"]}
                ],
            }
        ],
        "moved": [],
        "unchanged": [],
        "identical": False,
    }
    assert_error(
        label.get(f"{URL}{policy}/compare/", {"old": 1}), 400, "VALIDATION_ERROR", field="new"
    )
    assert_error(
        label.get(f"{URL}{policy}/compare/", {"old": 1, "new": 5}), 404, "POLICY_VERSION_NOT_FOUND"
    )


def test_a_dry_run_evaluates_a_draft_on_given_facts(label):
    policy = create_policy(label)["id"]
    facts = facts_json(territories=["FR", "DE"], matches=[match(owner_id=label.organization.pk)])

    body = post(label, versions_url(policy, 1, "evaluate"), {"facts": facts}, status=200)

    assert (body["action"], body["territories"]) == ("block", {"DE": "allow", "FR": "block"})
    assert body["won_by"]["rule"] == "block-in-fr"
    assert_error(
        label.post(
            versions_url(policy, 1, "evaluate"),
            {"facts": {**facts, "territories": ["XX"]}},
            format="json",
        ),
        400,
        "FACTS_INVALID",
        field="territories",
    )
