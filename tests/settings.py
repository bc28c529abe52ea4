"""Test settings: the app's one settings.py, with test defaults for the environment.

The suite runs against the local PostgreSQL and Redis (pytest-django creates and drops its own
``test_genomeweb`` database); override with DATABASE_URL / CELERY_BROKER_URL.
"""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/genomeweb")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("GW_VAR_DIR", tempfile.mkdtemp(prefix="gw-test-"))
os.environ.setdefault("GW_SECRET_KEY", "test-only-secret-key")

from genomeweb.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
