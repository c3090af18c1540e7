"""Test settings: the real local PostgreSQL and Redis unless the environment says otherwise."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from .settings import *  # noqa: F403
from .settings import BASE_DIR

STEMMA_WEBHOOK_ALLOW_PRIVATE = True  # the tests' receivers listen on 127.0.0.1
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "test-media"))
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")

# Separate test databases let two checkouts run their suites side by side.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_stemma")}  # noqa: F405
# No collectstatic in tests: serve the admin's files by name.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
