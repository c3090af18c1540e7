"""App config of the fingerprinting app."""

from django.apps import AppConfig


class FingerprintingConfig(AppConfig):
    name = "fingerprinting"
    default_auto_field = "django.db.models.BigAutoField"
