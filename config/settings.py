"""Django settings, read from the environment (defaults give the embedded demo: SQLite, inline tasks)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in the environment (or DEBUG=1 locally)."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "common",
    "registry",
    "fingerprinting",
    "policies",
    "interchange",
    "checks",
    "review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL (PostgreSQL in production); SQLite file for the embedded demo.
VAR_DIR = Path(os.environ.get("STEMMA_VAR_DIR", BASE_DIR / "var"))
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'stemma.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "registry.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Audio storage: the local file system by default; any S3-compatible store by setting
# STORAGE_BACKEND=s3 and the AWS_* variables django-storages reads (needs boto3 installed).
STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")
STORAGES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if STORAGE_BACKEND == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ.get("AWS_STORAGE_BUCKET_NAME", ""),
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "default_acl": None,
            "file_overwrite": False,
        },
    }

# Uploads: anything over 1 MiB streams to a temporary file, never held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_HANDLERS = ["common.uploads.LimitedTemporaryFileUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
FILE_UPLOAD_PERMISSIONS = 0o640

# Audio limits (bytes, seconds).
STEMMA_MAX_AUDIO_BYTES = env_int("STEMMA_MAX_AUDIO_BYTES", 300 * 1024 * 1024)
STEMMA_MAX_AUDIO_DURATION_S = env_int("STEMMA_MAX_AUDIO_DURATION_S", 2 * 3600)

# DDEX ERN messages: the largest accepted, and the DPID we send as (empty: the label's own).
STEMMA_ERN_MAX_BYTES = env_int("STEMMA_ERN_MAX_BYTES", 10 * 1024 * 1024)
STEMMA_DDEX_PARTY_ID = os.environ.get("STEMMA_DDEX_PARTY_ID", "")

# Checks: a check neither finished nor locked by a worker after this long is queued again.
STEMMA_CHECK_STALE_AFTER_S = env_int("STEMMA_CHECK_STALE_AFTER_S", 600)
STEMMA_WEBHOOK_MAX_RETRIES = env_int("STEMMA_WEBHOOK_MAX_RETRIES", 8)
# Webhooks to loopback/private addresses are refused (SSRF) unless this is set (development).
STEMMA_WEBHOOK_ALLOW_PRIVATE = env_bool("STEMMA_WEBHOOK_ALLOW_PRIVATE", DEBUG)
# Review items nobody decided within this many days are resolved as the policy says.
STEMMA_REVIEW_DEADLINE_DAYS = env_int("STEMMA_REVIEW_DEADLINE_DAYS", 30)

# C2PA: PEM files. Reading trusts only these anchors; signing needs the certificate chain and key.
STEMMA_C2PA_TRUST_ANCHORS = os.environ.get("STEMMA_C2PA_TRUST_ANCHORS", "")
STEMMA_C2PA_SIGNER_CERT = os.environ.get("STEMMA_C2PA_SIGNER_CERT", "")
STEMMA_C2PA_SIGNER_KEY = os.environ.get("STEMMA_C2PA_SIGNER_KEY", "")
# The registry's public address: signed manifests link back to the recording's entry there.
STEMMA_PUBLIC_URL = os.environ.get("STEMMA_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# The spectral AI detector (upsampling artifacts; a method under patent application by its
# authors, Afchar et al.): switch it off here. The model is the one installed by
# `manage.py train_ai_detector --install` at that path, else the shipped default.
STEMMA_AI_DETECTOR_ENABLED = env_bool("STEMMA_AI_DETECTOR_ENABLED", True)
STEMMA_AI_DETECTOR_MODEL = os.environ.get(
    "STEMMA_AI_DETECTOR_MODEL", str(VAR_DIR / "ai-detector" / "model.json")
)

# Celery: without a broker, tasks run inline (the embedded demo); with one, on workers.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"  # nothing is sent: tasks run inline
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacknowledged task after this long: keep it above any task's time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int(
        "CELERY_VISIBILITY_TIMEOUT", max(3600, CELERY_TASK_TIME_LIMIT * 4)
    )
}
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-checks": {"task": "checks.sweep", "schedule": 60.0},
    "resolve-overdue-reviews": {"task": "review.resolve_overdue", "schedule": 3600.0},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# A shared cache (Redis) makes rate limits hold across web processes; local memory otherwise.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["common.api.IsOrganizationMember"],
    "DEFAULT_PAGINATION_CLASS": "common.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": os.environ.get("AUTH_THROTTLE_RATE", "30/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Stemma API",
    "DESCRIPTION": "Rights and provenance registry for music made by people and machines.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files are served from here, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "WriterRoleEnum": "registry.models.WorkWriter.Role",
        "ContributionRoleEnum": "registry.models.Contribution.Role",
        "PartyKindEnum": "registry.models.Party.Kind",
        "OrganizationKindEnum": "registry.models.Organization.Kind",
        "PolicyVersionStatusEnum": "policies.models.PolicyVersion.Status",
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # With tasks inline (no broker) kombu warns about the in-memory transport's host.
        "kombu.connection": {"level": "ERROR"},
    },
}
