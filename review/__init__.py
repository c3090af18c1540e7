"""Review: the operators' queue of flagged checks, ownership conflicts and disputes."""
