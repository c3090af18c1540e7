"""App config of the shared pieces."""

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
