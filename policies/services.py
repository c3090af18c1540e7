"""Every write to policies and decisions, and the evaluations built on them (decide, replay, simulate)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import Conflict, DomainError, PermissionDenied, ValidationError
from registry import provenance
from registry.models import Organization
from registry.provenance import Actor

from . import diff, engine, selectors
from .canonical import canonical_json
from .defaults import DEFAULT_POLICY_DESCRIPTION, DEFAULT_POLICY_NAME, DEFAULT_RULES_V1
from .facts import Facts
from .models import Decision, Policy, PolicyVersion
from .rules import parse_rules

SUBJECT_TYPE = re.compile(r"[a-z][a-z0-9_.]{0,39}")
SIMULATION_LIMIT = 100
SIMULATION_MAX = 1000


# ---------------------------------------------------------------- permissions


def may_manage(actor: Actor, policy: Policy) -> bool:
    """Operators manage global policies, an organisation its own; superusers (admin) all."""
    if actor.user is not None and actor.user.is_superuser:
        return True
    org = actor.organization
    if org is None:
        return actor.user is None  # the system itself (migrations, commands)
    if policy.is_global:
        return org.is_operator
    return policy.organization_id == org.pk


def require_manage(actor: Actor, policy: Policy) -> None:
    if not may_manage(actor, policy):
        raise PermissionDenied(
            f"policy {policy.pk} is not yours to change",
            code="POLICY_READ_ONLY",
            detail={"policy": policy.pk},
        )


def _snapshot(version: PolicyVersion) -> dict[str, Any]:
    return {
        "policy": version.policy_id,
        "number": version.number,
        "status": version.status,
        "rules_sha256": version.rules_sha256,
        "note": version.note,
    }


# ---------------------------------------------------------------- policies and versions


@transaction.atomic
def policy_create(
    *,
    actor: Actor,
    name: str,
    description: str = "",
    rules: Any = None,
    note: str = "",
) -> Policy:
    """A policy of the actor's organisation (global for operators); with ``rules``, a first draft."""
    org = actor.organization
    if org is None:
        raise DomainError("this action needs an organisation", code="NO_ORGANIZATION", status=403)
    name = str(name or "").strip()
    if not name:
        raise ValidationError("a policy needs a name", code="REQUIRED", detail={"field": "name"})
    scope = Policy.Scope.GLOBAL if org.is_operator else Policy.Scope.OWNER
    policy = Policy(name=name, description=description, scope=scope, organization=org)
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise Conflict(
            f"a policy named {name!r} exists", code="POLICY_EXISTS", detail={"field": "name"}
        ) from None
    provenance.record(
        actor=actor,
        action="policy.create",
        obj=policy,
        after={
            "name": name,
            "description": description,
            "scope": scope,
            "organization": org.pk,
        },
    )
    if rules is not None:
        version_create(actor=actor, policy=policy, rules=rules, note=note)
    return policy


@transaction.atomic
def version_create(*, actor: Actor, policy: Policy, rules: Any, note: str = "") -> PolicyVersion:
    """A new draft version, numbered after the policy's last one."""
    require_manage(actor, policy)
    ruleset = parse_rules(rules, owner_scoped=not policy.is_global)
    # Lock the policy row so two drafts created at once get different numbers.
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    last = policy.versions.order_by("-number").values_list("number", flat=True).first()
    version = PolicyVersion.objects.create(
        policy=policy,
        number=(last or 0) + 1,
        rules=ruleset.to_json(),
        rules_sha256=ruleset.sha256(),
        note=note,
        created_by=actor.user,
    )
    provenance.record(
        actor=actor, action="policy_version.create", obj=version, after=_snapshot(version)
    )
    return version


@transaction.atomic
def version_update(
    *, actor: Actor, version: PolicyVersion, rules: Any, note: str | None = None
) -> PolicyVersion:
    """Replace a draft's rules; published and retired versions never change."""
    require_manage(actor, version.policy)
    version = PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)
    if version.status != PolicyVersion.Status.DRAFT:
        raise Conflict(
            f"version {version.number} is {version.status}; only a draft can change",
            code="POLICY_VERSION_NOT_DRAFT",
            detail={"status": version.status},
        )
    ruleset = parse_rules(rules, owner_scoped=not version.policy.is_global)
    before = _snapshot(version)
    version.rules = ruleset.to_json()
    version.rules_sha256 = ruleset.sha256()
    if note is not None:
        version.note = note
    version.save(update_fields=["rules", "rules_sha256", "note"])
    provenance.record(
        actor=actor,
        action="policy_version.update",
        obj=version,
        before=before,
        after=_snapshot(version),
    )
    return version


@transaction.atomic
def version_publish(*, actor: Actor, version: PolicyVersion) -> PolicyVersion:
    """Make a draft the policy's version in force; the one it replaces is retired, unchanged."""
    version = _lock_for_status_change(actor, version)
    if version.status != PolicyVersion.Status.DRAFT:
        raise Conflict(
            f"version {version.number} is {version.status}; only a draft can be published",
            code="POLICY_VERSION_NOT_DRAFT",
            detail={"status": version.status},
        )
    now = timezone.now()
    current = PolicyVersion.objects.filter(
        policy_id=version.policy_id, status=PolicyVersion.Status.PUBLISHED
    ).first()
    if current is not None:
        _retire(actor, current, now)
    before = _snapshot(version)
    version.status = PolicyVersion.Status.PUBLISHED
    version.published_at = now
    version.published_by = actor.user
    version.save(update_fields=["status", "published_at", "published_by"])
    provenance.record(
        actor=actor,
        action="policy_version.publish",
        obj=version,
        before=before,
        after={**_snapshot(version), "replaces": current.number if current else None},
    )
    return version


@transaction.atomic
def version_retire(*, actor: Actor, version: PolicyVersion) -> PolicyVersion:
    """Withdraw the published version without a replacement: the policy stops applying."""
    version = _lock_for_status_change(actor, version)
    if version.status != PolicyVersion.Status.PUBLISHED:
        raise Conflict(
            f"version {version.number} is {version.status}; only the published one can be retired",
            code="POLICY_VERSION_NOT_PUBLISHED",
            detail={"status": version.status},
        )
    _retire(actor, version, timezone.now())
    return version


def _lock_for_status_change(actor: Actor, version: PolicyVersion) -> PolicyVersion:
    """The version, fresh and locked, after its policy (so that two publications of one
    policy queue up); PermissionDenied unless the actor may manage the policy."""
    require_manage(actor, version.policy)
    Policy.objects.select_for_update().get(pk=version.policy_id)
    return PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)


def _retire(actor: Actor, version: PolicyVersion, now: Any) -> None:
    before = _snapshot(version)
    version.status = PolicyVersion.Status.RETIRED
    version.retired_at = now
    version.save(update_fields=["status", "retired_at"])
    provenance.record(
        actor=actor,
        action="policy_version.retire",
        obj=version,
        before=before,
        after=_snapshot(version),
    )


def install_default_policy(*, apps: Apps | None = None) -> bool:
    """Create and publish "Stemma default" v1 unless it exists; True when it was created.

    Runs from the policies data migration (with its historical ``apps``) and from tests
    whose transactional cleanup emptied the tables. The policy belongs to no organisation:
    it is the system's, and operators manage it like any global policy.
    """
    registry = apps or global_apps
    policy_model = registry.get_model("policies", "Policy")
    version_model = registry.get_model("policies", "PolicyVersion")
    if policy_model.objects.filter(
        scope=Policy.Scope.GLOBAL, organization__isnull=True, name=DEFAULT_POLICY_NAME
    ).exists():
        return False
    ruleset = parse_rules(DEFAULT_RULES_V1)
    actor = Actor.system("stemma")
    with transaction.atomic():
        policy = policy_model.objects.create(
            name=DEFAULT_POLICY_NAME, description=DEFAULT_POLICY_DESCRIPTION, scope="global"
        )
        version = version_model.objects.create(
            policy=policy,
            number=1,
            status="published",
            rules=ruleset.to_json(),
            rules_sha256=ruleset.sha256(),
            note="shipped with Stemma",
            published_at=timezone.now(),
        )
        provenance.record(
            actor=actor,
            action="policy.create",
            object_type="policies.policy",
            object_id=policy.pk,
            after={"name": policy.name, "scope": "global", "organization": None},
        )
        provenance.record(
            actor=actor,
            action="policy_version.publish",
            object_type="policies.policyversion",
            object_id=version.pk,
            after={
                "policy": policy.pk,
                "number": 1,
                "status": "published",
                "rules_sha256": version.rules_sha256,
                "note": version.note,
                "replaces": None,
            },
        )
    return True


# ---------------------------------------------------------------- decisions


@transaction.atomic
def decide(*, facts: Facts, subject_type: str, subject_id: str | int, actor: Actor) -> Decision:
    """Evaluate the applicable published policies on the facts, store the decision, log it.

    Applicable: every global policy (the system's default, the operators'), and the
    policies of the organisations whose recordings matched. ``subject_type`` and
    ``subject_id`` say what was decided about (``"check"``, the check's id).
    """
    subject_id = str(subject_id)
    if not SUBJECT_TYPE.fullmatch(subject_type):
        raise ValidationError(
            f"subject_type must match {SUBJECT_TYPE.pattern}",
            code="SUBJECT_INVALID",
            detail={"field": "subject_type"},
        )
    if not 0 < len(subject_id) <= 64:
        raise ValidationError(
            "subject_id is 1 to 64 characters",
            code="SUBJECT_INVALID",
            detail={"field": "subject_id"},
        )
    submitter = Organization.objects.filter(pk=facts.submitter.organization_id).first()
    if submitter is None:
        raise ValidationError(
            f"organisation {facts.submitter.organization_id} does not exist",
            code="FACTS_INVALID",
            detail={"field": "submitter.organization_id"},
        )
    versions = selectors.applicable_versions(facts)
    outcome = engine.evaluate(facts, [selectors.policy_input(v) for v in versions])
    data = outcome.to_json()
    decision = Decision.objects.create(
        subject_type=subject_type,
        subject_id=subject_id,
        submitter=submitter,
        facts=facts.to_json(),
        facts_sha256=outcome.facts_sha256,
        action=outcome.action,
        priority=outcome.priority or "",
        territories=data["territories"],
        explanation=data["explanation"],
        outcome=data,
        outcome_sha256=outcome.sha256(),
    )
    decision.versions.set(versions)
    owners = {m.owner_id for m in facts.matches}
    decision.matched_owners.set(Organization.objects.filter(pk__in=owners))
    provenance.record(
        actor=actor,
        action="decision.create",
        obj=decision,
        after={
            "subject": f"{subject_type}:{subject_id}",
            "action": decision.action,
            "territories": decision.territories,
            "versions": [v.pk for v in versions],
            "facts_sha256": decision.facts_sha256,
            "outcome_sha256": decision.outcome_sha256,
        },
    )
    return decision


@dataclass(frozen=True)
class Replay:
    """A stored decision evaluated again: the new outcome, and whether it is the same bytes."""

    outcome: engine.Outcome
    identical: bool


def _stored_inputs(decision: Decision) -> list[engine.PolicyInput]:
    """The versions a decision used, in the order it applied them."""
    by_id = {v.pk: v for v in decision.versions.select_related("policy")}
    return [selectors.policy_input(by_id[p["version"]]) for p in decision.outcome["policies"]]


def replay(*, decision: Decision) -> Replay:
    """Evaluate the decision's stored facts with the exact versions it used."""
    outcome = engine.evaluate(Facts.from_json(decision.facts), _stored_inputs(decision))
    return Replay(outcome, outcome.canonical() == canonical_json(decision.outcome))


def evaluate_version(*, version: PolicyVersion, facts: Facts) -> engine.Outcome:
    """A dry run: one version (draft or not) on hand-written facts; nothing is stored."""
    return engine.evaluate(facts, [selectors.policy_input(version)])


@dataclass(frozen=True)
class Simulation:
    version: PolicyVersion
    considered: int
    changes: list[dict[str, Any]]  # one per decision whose outcome would change


def simulate(*, actor: Actor, version: PolicyVersion, limit: int = SIMULATION_LIMIT) -> Simulation:
    """What ``version`` would change in the latest decisions it would have applied to.

    Each past decision is evaluated again from its stored facts with the versions it
    used, this policy's replaced by ``version`` (or added, if the policy did not apply
    then), so every difference is due to ``version`` alone. Only those who may change the
    policy may simulate it: the results describe other organisations' checks.
    """
    require_manage(actor, version.policy)
    if not 1 <= limit <= SIMULATION_MAX:
        raise ValidationError(
            f"limit is from 1 to {SIMULATION_MAX}", code="LIMIT_INVALID", detail={"field": "limit"}
        )
    policy = version.policy
    decisions = Decision.objects.prefetch_related("versions__policy").order_by("-id")
    if not policy.is_global:
        decisions = decisions.filter(matched_owners=policy.organization_id)
    candidate = selectors.policy_input(version)
    considered = 0
    changes = []
    for decision in decisions[:limit]:
        considered += 1
        used = {v.pk: v for v in decision.versions.all()}
        ordered = [used[p["version"]] for p in decision.outcome["policies"]]
        inputs = [selectors.policy_input(v) for v in ordered if v.policy_id != policy.pk]
        policies = sorted(
            [
                *((selectors.policy_order(used[i.version_id].policy), i) for i in inputs),
                (selectors.policy_order(policy), candidate),
            ],
            key=lambda pair: pair[0],
        )
        facts = Facts.from_json(decision.facts)
        outcome = engine.evaluate(facts, [p for _, p in policies])
        territories = engine.territory_changes(
            decision.territories, outcome.territories, world=facts.territories == ("WORLD",)
        )
        if territories or outcome.action != decision.action:
            changes.append(
                {
                    "decision": decision.pk,
                    "subject_type": decision.subject_type,
                    "subject_id": decision.subject_id,
                    "decided_at": decision.created_at.isoformat(),
                    "old_action": decision.action,
                    "new_action": outcome.action,
                    "territories": territories,
                    "new_explanation": outcome.explanation,
                }
            )
    return Simulation(version, considered, changes)


def compare(*, old: PolicyVersion, new: PolicyVersion) -> dict[str, Any]:
    """The rule diff between two versions of the same policy."""
    if old.policy_id != new.policy_id:
        raise ValidationError(
            "compare two versions of the same policy", code="POLICY_COMPARE_INVALID"
        )
    return {
        "policy": old.policy_id,
        "old": old.number,
        "new": new.number,
        **diff.compare_rules(old.rules, new.rules),
    }
