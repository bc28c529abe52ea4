"""Django settings, read from environment variables only (every one is listed in .env.example).

With no DATABASE_URL and no CELERY_BROKER_URL the app runs on the embedded default: a SQLite
file and Celery's filesystem transport under GW_VAR_DIR, so one command starts a working demo.
Production, docker-compose and the tests use PostgreSQL and Redis.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from genomeweb.env import envbool, envint, envlist, envsecret

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("GW_VAR_DIR", BASE_DIR / "var")).resolve()

DEBUG = envbool("GW_DEBUG", False)
SECRET_KEY = envsecret("GW_SECRET_KEY", fallback_file=VAR_DIR / "secret_key")
ALLOWED_HOSTS = envlist("GW_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("GW_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",  # only for its vendored Swagger UI files (the API docs load nothing from a CDN)
    "genomeweb.workspaces",
    "genomeweb.catalog",
    "genomeweb.jobs",
    "genomeweb.variants",
    "genomeweb.designs",
    "genomeweb.results",
    "genomeweb.api",
    "worker",  # management commands only; its AppConfig imports nothing heavy
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "genomeweb.lib.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "genomeweb.api.auth.FileTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "genomeweb.urls"
WSGI_APPLICATION = "genomeweb.wsgi.application"

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


def _database() -> dict:
    url = os.getenv("DATABASE_URL", "")
    if url:
        return dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    # WAL and IMMEDIATE transactions let the web process and the worker share one SQLite file
    # without "database is locked" errors on concurrent writes.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "genomeweb.sqlite3",
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "gw-home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.getenv("GW_STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Without a collected STATIC_ROOT (the demo, the tests) WhiteNoise serves from the finders.
WHITENOISE_USE_FINDERS = True

# Files users send and files jobs write. Both live outside any web root; downloads go through an
# access-checked view (and, behind nginx, X-Accel-Redirect to GW_X_ACCEL_PREFIX).
RESULTS_DIR = Path(os.getenv("GW_RESULTS_DIR", VAR_DIR / "results")).resolve()
UPLOAD_DIR = Path(os.getenv("GW_UPLOAD_DIR", VAR_DIR / "uploads")).resolve()
X_ACCEL_PREFIX = os.getenv("GW_X_ACCEL_PREFIX", "")

# Where uploads and results are kept for good (genomeweb/results/storage.py). "filesystem", the
# default: RESULTS_DIR and UPLOAD_DIR themselves, nothing else to set. "s3": a bucket of an
# S3-compatible store (MinIO, AWS S3; keys "results/<job code>/<file>" and "uploads/..."), so
# workers on other hosts need no shared disk; RESULTS_DIR and UPLOAD_DIR are then each host's
# scratch and cache. Credentials left empty fall back to boto3's own chain (AWS_* variables,
# instance roles).
STORAGE = os.getenv("GW_STORAGE", "filesystem").strip().lower()
if STORAGE == "s3":
    _S3 = {
        "bucket_name": os.getenv("GW_S3_BUCKET", "genomeweb"),
        "endpoint_url": os.getenv("GW_S3_ENDPOINT_URL") or None,
        "region_name": os.getenv("GW_S3_REGION") or None,
        "access_key": os.getenv("GW_S3_ACCESS_KEY_ID") or None,
        "secret_key": os.getenv("GW_S3_SECRET_ACCESS_KEY") or None,
        "addressing_style": "path",  # MinIO and other self-hosted stores: no bucket DNS names
        "signature_version": "s3v4",
        "file_overwrite": True,  # a retried job replaces its file under the same key
        "default_acl": None,  # the bucket stays private: every read goes through the web
    }
    _S3_BACKEND = "storages.backends.s3.S3Storage"
    _RESULT_FILES = {"BACKEND": _S3_BACKEND, "OPTIONS": _S3 | {"location": "results"}}
    _UPLOAD_FILES = {"BACKEND": _S3_BACKEND, "OPTIONS": _S3 | {"location": "uploads"}}
elif STORAGE == "filesystem":
    _RESULT_FILES = {
        "BACKEND": "genomeweb.results.storage.SettingDirStorage",
        "OPTIONS": {"setting": "RESULTS_DIR"},
    }
    _UPLOAD_FILES = {
        "BACKEND": "genomeweb.results.storage.SettingDirStorage",
        "OPTIONS": {"setting": "UPLOAD_DIR"},
    }
else:
    raise ImproperlyConfigured(f"GW_STORAGE must be filesystem or s3, not {STORAGE!r}")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "results": _RESULT_FILES,
    "uploads": _UPLOAD_FILES,
}

MAX_UPLOAD_BYTES = envint("GW_MAX_UPLOAD_MB", 200, minimum=1) * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "genomeweb.variants.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Uploads stream into temporary files here, not the system's /tmp: a web process killed
# mid-upload leaves its partial file behind, and web start-up and the sweeper delete those once
# untouched for GW_UPLOAD_TEMP_STALE_SECONDS (genomeweb/lib/upload_tmp.py says why that is safe).
FILE_UPLOAD_TEMP_DIR = Path(os.getenv("GW_UPLOAD_TEMP_DIR", VAR_DIR / "upload-tmp")).resolve()
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
UPLOAD_TEMP_STALE_SECONDS = envint("GW_UPLOAD_TEMP_STALE_SECONDS", 3 * 3600, minimum=1)
VCF_MAX_INFLATED_BYTES = envint("GW_VCF_MAX_INFLATED_MB", 4096, minimum=1) * 1024 * 1024
VCF_MAX_RATIO = envint("GW_VCF_MAX_RATIO", 200, minimum=2)
VCF_MAX_LINE_BYTES = envint("GW_VCF_MAX_LINE_KB", 1024, minimum=1) * 1024
VCF_MAX_HEADER_LINES = envint("GW_VCF_MAX_HEADER_LINES", 20_000, minimum=1)
VCF_MAX_RECORDS = envint("GW_VCF_MAX_RECORDS", 2_000_000, minimum=1)

# Jobs: how long a worker may run one, how often it proves it is alive, when the sweeper acts.
JOB_MAX_ATTEMPTS = envint("GW_JOB_MAX_ATTEMPTS", 3, minimum=1)
JOB_SOFT_TIME_LIMIT = envint("GW_JOB_SOFT_TIME_LIMIT", 6 * 3600, minimum=1)
JOB_TIME_LIMIT = envint("GW_JOB_TIME_LIMIT", 6 * 3600 + 300, minimum=2)
JOB_HEARTBEAT_SECONDS = envint("GW_JOB_HEARTBEAT_SECONDS", 10, minimum=1)
JOB_STALE_SECONDS = envint("GW_JOB_STALE_SECONDS", 120, minimum=2)
JOB_QUEUED_STALE_SECONDS = envint("GW_JOB_QUEUED_STALE_SECONDS", 600, minimum=1)
JOB_SWEEP_SECONDS = envint("GW_JOB_SWEEP_SECONDS", 60, minimum=1)
SCORING_PART_ALLELES = envint("GW_SCORING_PART_ALLELES", 20_000, minimum=1)
# A scoring job saves its scores every this many alleles (a checkpoint): a takeover after a
# crash resumes from the last one, so a fault redoes at most this much (2 % of a whole part).
SCORING_CHECKPOINT_ALLELES = envint("GW_SCORING_CHECKPOINT_ALLELES", 400, minimum=1)
# The commit the code was built from, for each job's provenance. A Docker image has no .git, so
# its build sets this; elsewhere it stays empty and the worker asks git once per process.
GIT_COMMIT = os.getenv("GW_GIT_COMMIT", "")


def _broker() -> tuple[str, dict]:
    url = os.getenv("CELERY_BROKER_URL", "")
    if url:
        # A message whose worker died unseen comes back after the visibility timeout: it must
        # exceed the longest job, or a healthy long job would be delivered twice.
        return url, {
            "visibility_timeout": envint("GW_BROKER_VISIBILITY_TIMEOUT", JOB_TIME_LIMIT + 600),
            # How often a worker looks for such expired messages (kombu's default is 100 s).
            "unacked_restore_interval": envint("GW_BROKER_RESTORE_SECONDS", 10, minimum=1),
            "unacked_restore_throttle": 1,
        }
    folder = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }
    return "filesystem://", options


CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = _broker()
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A busy worker takes no message, not even one: after a broker reconnect Celery's prefetch
# window starts afresh while the job still runs, and a second job's message would wait behind it
# instead of going to a free worker. Celery does this for Redis only (and warns elsewhere).
CELERY_WORKER_DISABLE_PREFETCH = CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = JOB_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = JOB_TIME_LIMIT
# A broker blip is not a crash: the running job keeps its attempt. Its message cannot be acked
# on the lost connection, so it may come back (Redis with AOF, after the visibility timeout); the
# Job row turns that copy away (Claim.BUSY while the job runs, Claim.GONE once it has finished).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# On SIGTERM, a running job gets this long before its message goes back to the queue (below the
# 60 s stop grace period in docker-compose.yml), rather than waiting for the visibility timeout.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 50.0
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_BEAT_SCHEDULE = {
    "sweep-jobs": {
        "task": "worker.sweep_jobs",
        "schedule": float(JOB_SWEEP_SECONDS),
        "options": {"queue": "maintenance", "expires": float(JOB_SWEEP_SECONDS)},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Production hardening; `manage.py check --deploy` is clean with GW_SECURE=1.
SECURE = envbool("GW_SECURE", False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31_536_000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.getenv("GW_LOG_LEVEL", "INFO")},
}
