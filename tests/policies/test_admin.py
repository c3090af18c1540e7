"""Policies in the admin: publish through an action, simulate, compare; decisions read-only."""

from __future__ import annotations

import pytest

from policies import services
from policies.facts import Facts
from policies.models import PolicyVersion
from registry.models import ProvenanceEvent
from registry.provenance import Actor

from .builders import facts_json, match, rule, share

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/policies/policyversion/"


@pytest.fixture
def staff(client, operator):
    operator.user.is_staff = operator.user.is_superuser = True
    operator.user.save()
    client.force_login(operator.user)
    return client


@pytest.fixture
def draft(operator, default_policy):
    stricter = [rule("reuse-blocked", "block", match_owner={"eq": "other"})]
    return services.version_create(
        actor=Actor.for_user(operator.user), policy=default_policy, rules=stricter
    )


@pytest.fixture
def decision(default_policy, make_org, label):
    distributor = make_org("distributor")
    owner = label.organization.pk
    facts = facts_json(
        submitter={"organization_id": distributor.organization.pk, "kind": "distributor"},
        matches=[match(owner_id=owner, rights=[share(owner_id=owner)])],
    )
    return services.decide(
        facts=Facts.from_json(facts),
        subject_type="check",
        subject_id="9",
        actor=Actor.system("checks"),
    )


def test_the_publish_action_publishes_a_draft_and_logs_who(staff, operator, draft, default_policy):
    response = staff.post(CHANGELIST, {"action": "publish", "_selected_action": [draft.pk]})

    assert response.status_code == 302, response.content[:300]
    assert [(v.number, v.status) for v in default_policy.versions.order_by("number")] == [
        (1, "retired"),
        (2, "published"),
    ]
    event = ProvenanceEvent.objects.get(action="policy_version.publish", object_id=str(draft.pk))
    assert (event.actor_user, event.after["replaces"]) == (operator.user.username, 1)


def test_publishing_a_published_version_in_the_admin_reports_the_error(staff, default_policy):
    version = default_policy.versions.get()

    response = staff.post(
        CHANGELIST, {"action": "publish", "_selected_action": [version.pk]}, follow=True
    )

    assert "only a draft can be published" in response.content.decode()
    assert PolicyVersion.objects.get(pk=version.pk).status == "published"


def test_the_simulate_action_shows_what_would_change(staff, draft, decision):
    response = staff.post(CHANGELIST, {"action": "simulate", "_selected_action": [draft.pk]})
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}{draft.pk}/simulate/"

    page = staff.get(response["Location"]).content.decode()

    assert "1 past decision evaluated again with this version;\n     1 would change." in page
    assert f'<a href="/admin/policies/decision/{decision.pk}/change/">{decision.pk}</a>' in page
    assert "<td>require_licence</td>\n        <td>block</td>" in page
    assert "WORLD: require_licence &rarr; block" in page


def test_the_compare_view_shows_the_rule_diff(staff, draft, default_policy):
    v1 = default_policy.versions.get(number=1)
    response = staff.post(CHANGELIST, {"action": "compare", "_selected_action": [draft.pk, v1.pk]})
    assert response["Location"] == f"{CHANGELIST}compare/?old={v1.pk}&new={draft.pk}"

    page = staff.get(response["Location"]).content.decode()

    assert "<h2>Added</h2>" in page and "reuse-blocked" in page
    assert "<h2>Removed</h2>" in page and "nothing-found" in page
    assert "Stemma default: v1 (published) &rarr; Stemma default v2 (draft)" in page


def test_compare_needs_two_versions_of_one_policy(staff, draft):
    response = staff.post(
        CHANGELIST, {"action": "compare", "_selected_action": [draft.pk]}, follow=True
    )

    assert "Select two versions of the same policy to compare" in response.content.decode()


def test_versions_and_decisions_are_read_only_in_the_admin(staff, draft, decision):
    assert staff.get(f"{CHANGELIST}{draft.pk}/change/").status_code == 200
    assert staff.post(f"{CHANGELIST}{draft.pk}/change/", {"note": "x"}).status_code == 403
    page = staff.get(f"/admin/policies/decision/{decision.pk}/change/")
    assert page.status_code == 200
    assert "reuse-needs-licence" in page.content.decode()
    assert (
        staff.post(f"/admin/policies/decision/{decision.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert staff.get("/admin/policies/policy/add/").status_code == 403
    assert staff.get("/admin/policies/policy/").status_code == 200


def test_a_policy_page_lists_its_versions(staff, draft, default_policy):
    page = staff.get(f"/admin/policies/policy/{default_policy.pk}/change/").content.decode()

    v1 = default_policy.versions.get(number=1)
    assert f'<a href="/admin/policies/policyversion/{v1.pk}/change/">v1</a>' in page
    assert f'<a href="/admin/policies/policyversion/{draft.pk}/change/">v2</a>' in page
    assert v1.rules_sha256 in page
