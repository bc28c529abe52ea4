"""Personal API tokens: a user's key to the JSON API and to result files."""

import hashlib
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX = "gw_"
SECRET_CHARS = 40
# Recording every use would turn each API read into a write; once a minute says enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(secret: str) -> str:
    """Only this is stored: a leaked database does not leak usable tokens."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> str:
    """``gw_`` and 40 URL-safe characters (about 240 bits)."""
    return PREFIX + secrets.token_urlsafe(SECRET_CHARS)[:SECRET_CHARS]


class ApiToken(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="Where it is used, e.g. 'lab laptop'")
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="The secret's first characters")
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        """A new token and its secret, which is shown once and never stored."""
        secret = new_secret()
        token = cls.objects.create(
            user=user, name=name, key_hash=digest(secret), hint=secret[: len(PREFIX) + 6]
        )
        return token, secret

    @classmethod
    def user_for(cls, secret: str):
        """The active user a secret belongs to, or None (unknown, revoked, inactive user)."""
        token = (
            cls.objects.select_related("user")
            .filter(key_hash=digest(secret), revoked_at=None, user__is_active=True)
            .first()
        )
        if token is None:
            return None
        token.record_use()
        return token.user

    def record_use(self) -> None:
        now = timezone.now()
        if self.last_used is None or now - self.last_used > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=self.pk).update(last_used=now)

    def revoke(self) -> None:
        ApiToken.objects.filter(pk=self.pk, revoked_at=None).update(revoked_at=timezone.now())
        self.refresh_from_db(fields=["revoked_at"])
