import pytest
from django.core.exceptions import ImproperlyConfigured

from genomeweb.env import envbool, envint, envsecret


def test_envbool_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("GW_X", "maybe")
    with pytest.raises(ImproperlyConfigured, match="GW_X must be a boolean"):
        envbool("GW_X", False)


def test_envint_enforces_a_minimum(monkeypatch):
    monkeypatch.setenv("GW_X", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        envint("GW_X", 5, minimum=1)
    monkeypatch.setenv("GW_X", "12")
    assert envint("GW_X", 5, minimum=1) == 12


def test_a_missing_secret_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("GW_S", raising=False)
    first = envsecret("GW_S", fallback_file=tmp_path / "secret")
    assert len(first) > 40 and envsecret("GW_S", fallback_file=tmp_path / "secret") == first
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0  # private to its owner


def test_the_suite_runs_on_postgresql():
    from django.conf import settings

    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    import os
    import secrets
    import subprocess
    import sys

    env = os.environ | {
        "GW_SECURE": "1",
        "GW_SECRET_KEY": secrets.token_urlsafe(60),
        "GW_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "genomeweb.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
