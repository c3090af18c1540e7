"""Serializers of the policies API: input shapes (rules are checked by the services) and outputs."""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from policies.models import Decision, Policy, PolicyVersion
from policies.services import SIMULATION_LIMIT, SIMULATION_MAX

# ---------------------------------------------------------------- input

_RULES_HELP = "the rules: a list of {id, description, conditions, action} (docs/policies.md)"


@extend_schema_field({"type": "array", "items": {"type": "object"}})
class RulesField(serializers.JSONField):
    """Any JSON here; the rule schema is checked by the service, which names the bad field."""


class PolicyIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    rules = RulesField(required=False, help_text=f"optional first draft: {_RULES_HELP}")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class VersionIn(serializers.Serializer):
    rules = RulesField(help_text=_RULES_HELP)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class SimulateIn(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=SIMULATION_MAX, default=SIMULATION_LIMIT
    )


class EvaluateIn(serializers.Serializer):
    facts = serializers.JSONField(help_text="facts in their JSON form (docs/policies.md)")


# ---------------------------------------------------------------- output


@extend_schema_field({"type": "string", "description": "draft, published or retired"})
class VersionStatusField(serializers.CharField):
    """A plain string in the schema: an enum named "status" would collide with the registry's.

    (An ENUM_NAME_OVERRIDES entry in the settings would allow a named enum instead.)
    """


class VersionBrief(serializers.ModelSerializer):
    status = VersionStatusField()

    class Meta:
        model = PolicyVersion
        fields = ["id", "number", "status", "rules_sha256", "created_at", "published_at"]


class PolicyOut(serializers.ModelSerializer):
    organization = serializers.IntegerField(source="organization_id", allow_null=True)
    published_version = serializers.SerializerMethodField()
    versions = VersionBrief(many=True)

    class Meta:
        model = Policy
        fields = [
            "id",
            "name",
            "description",
            "scope",
            "organization",
            "published_version",
            "versions",
            "created_at",
        ]

    def get_published_version(self, policy: Policy) -> int | None:
        return next(
            (v.number for v in policy.versions.all() if v.status == PolicyVersion.Status.PUBLISHED),
            None,
        )


class VersionOut(serializers.ModelSerializer):
    policy = serializers.IntegerField(source="policy_id")
    status = VersionStatusField()
    created_by = serializers.SerializerMethodField()
    published_by = serializers.SerializerMethodField()

    class Meta:
        model = PolicyVersion
        fields = [
            "id",
            "policy",
            "number",
            "status",
            "note",
            "rules",
            "rules_sha256",
            "created_at",
            "created_by",
            "published_at",
            "published_by",
            "retired_at",
        ]

    def get_created_by(self, version: PolicyVersion) -> str | None:
        return version.created_by.get_username() if version.created_by else None

    def get_published_by(self, version: PolicyVersion) -> str | None:
        return version.published_by.get_username() if version.published_by else None


class DecisionOut(serializers.ModelSerializer):
    submitter = serializers.IntegerField(source="submitter_id")
    priority = serializers.SerializerMethodField(help_text="a review's priority; null otherwise")
    policies = serializers.SerializerMethodField()
    rules_fired = serializers.SerializerMethodField()
    won_by = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "subject_type",
            "subject_id",
            "submitter",
            "action",
            "priority",
            "territories",
            "explanation",
            "won_by",
            "rules_fired",
            "policies",
            "facts",
            "facts_sha256",
            "outcome",
            "outcome_sha256",
            "redacted",
            "created_at",
        ]

    redacted = serializers.SerializerMethodField(
        help_text="true when facts and outcome are withheld: they describe other owners' recordings"
    )

    def get_priority(self, decision: Decision) -> str | None:
        return decision.priority or None

    def _full_view(self, decision: Decision) -> bool:
        org = self.context["organization"]
        return bool(org.is_operator or decision.submitter_id == org.pk)

    def get_redacted(self, decision: Decision) -> bool:
        return not self._full_view(decision)

    def to_representation(self, instance: Decision) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        org = self.context["organization"]
        if not self._full_view(instance):
            # An owner whose recording matched sees the verdict, not the facts of the whole
            # check, which include other organisations' recordings and rights.
            data["facts"] = data["outcome"] = None
        elif not org.is_operator and data.get("facts"):
            # The submitter sees its facts, but of others' recordings only the public part:
            # their owners' shares stay private (its own shares and licences remain).
            facts = copy.deepcopy(data["facts"])
            for match in facts.get("matches", []):
                if match.get("owner_id") != org.pk:
                    match["rights"] = [
                        r for r in match.get("rights", []) if r.get("owner_id") == org.pk
                    ]
            data["facts"] = facts
        return data

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_policies(self, decision: Decision) -> list[dict[str, Any]]:
        return list(decision.outcome["policies"])

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_rules_fired(self, decision: Decision) -> list[dict[str, Any]]:
        return list(decision.outcome["rules_fired"])

    @extend_schema_field({"type": "object", "nullable": True})
    def get_won_by(self, decision: Decision) -> dict[str, Any] | None:
        won_by: dict[str, Any] | None = decision.outcome["won_by"]
        return won_by
