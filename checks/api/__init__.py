"""The distributor-facing checks API (v1)."""
