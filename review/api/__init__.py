"""The review API (v1): disputes and review outcomes."""
