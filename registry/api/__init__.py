"""The label-facing REST API (v1): thin views and serializers over registry services."""
