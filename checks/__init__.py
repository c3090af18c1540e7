"""Distributor checks: submitted audio in, a verdict out (matches, AI evidence, policy decision)."""
