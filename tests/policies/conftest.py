"""Fixtures of the policy tests: the shipped default policy, present whatever ran before."""

from __future__ import annotations

from typing import Any

import pytest

from policies import services
from policies.defaults import DEFAULT_POLICY_NAME
from policies.models import Policy


@pytest.fixture
def default_policy(db: Any) -> Policy:
    # The data migration installs it; a transactional test elsewhere may have flushed it.
    services.install_default_policy()
    return Policy.objects.get(name=DEFAULT_POLICY_NAME, organization__isnull=True)
