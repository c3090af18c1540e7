"""The default policy Stemma ships: its rules, frozen per version (pure data).

Never edit a ``DEFAULT_RULES_Vn`` once a migration has published it: databases that
already hold that version would disagree with new ones. Add ``DEFAULT_RULES_Vn+1`` and
a migration that creates and publishes it as the next version instead.
"""

from __future__ import annotations

from typing import Any

DEFAULT_POLICY_NAME = "Stemma default"
DEFAULT_POLICY_DESCRIPTION = (
    "The operator's baseline, applied to every check: reuse needs a licence, "
    "AI involvement must be disclosed, clean audio passes."
)

DEFAULT_RULES_V1: list[dict[str, Any]] = [
    {
        "id": "reuse-needs-licence",
        "description": "another organisation's registered recording, reused without a share or licence",
        "conditions": {
            "match_owner": {"eq": "other"},
            "submitter_holds_rights": {"eq": False},
        },
        "action": {"type": "require_licence", "reason": "reuse of another owner's recording"},
    },
    {
        "id": "ai-generation-as-human",
        "description": "a registered AI generation submitted as human work",
        "conditions": {
            "declared_ai": {"disclosure": {"eq": "none"}},
            "ai_generation": {"eq": True},
        },
        "action": {
            "type": "review",
            "priority": "high",
            "reason": "a registered AI generation submitted as human work",
        },
    },
    {
        "id": "undisclosed-ai",
        "description": "the registry or detection shows more AI than was declared",
        "conditions": {"undisclosed_ai": {"eq": True, "min_score": 0.5}},
        "action": {"type": "review", "priority": "normal", "reason": "undisclosed AI involvement"},
    },
    {
        "id": "nothing-found",
        "description": "nothing matched and no AI evidence",
        "conditions": {
            "match_count": {"eq": 0},
            "detected_ai": {"evidence": False, "min_score": 0.5},
        },
        "action": {"type": "allow", "reason": "nothing matched and no AI evidence"},
    },
]
