"""The policies API (v1)."""
