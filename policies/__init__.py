"""Licensing policies: versioned rules over a check's facts, decisions that explain themselves."""
