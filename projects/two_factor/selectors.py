"""Reads on two-factor log-in: is a user enrolled, must they be, their QR code."""

from __future__ import annotations

import base64
import io

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache

import qrcode
import qrcode.image.svg

from projects.models import AuthenticatorDevice, BackupCodeDevice, Membership

ENROLLED_CACHE_SECONDS = 300


def two_factor_enrolled_cache_key(user_id: int) -> str:
    return f"two-factor:enrolled:{user_id}"


def two_factor_is_enrolled(*, user: AbstractBaseUser) -> bool:
    """Has the user a confirmed authenticator (then the log-in asks a code after the password).

    Asked on every request of a session that gave no code (TwoFactorMiddleware): kept in the
    shared cache, dropped whenever one of the user's devices is saved or deleted
    (projects.receivers)."""
    key = two_factor_enrolled_cache_key(user.pk)
    enrolled = cache.get(key)
    if enrolled is None:
        enrolled = AuthenticatorDevice.objects.devices_for_user(user, confirmed=True).exists()
        cache.set(key, enrolled, ENROLLED_CACHE_SECONDS)
    return enrolled


def two_factor_is_required(*, user: AbstractBaseUser) -> bool:
    """With REQUIRE_2FA_FOR_ADMINS: superusers and the admins of any project must use a code."""
    if not settings.REQUIRE_2FA_FOR_ADMINS or not user.is_authenticated:
        return False
    return (
        user.is_superuser
        or Membership.objects.filter(user=user, role=Membership.Role.ADMIN).exists()
    )


def two_factor_pending_device(*, user: AbstractBaseUser) -> AuthenticatorDevice | None:
    """The authenticator being set up (scanned, not yet confirmed with a code), if any."""
    return AuthenticatorDevice.objects.devices_for_user(user, confirmed=False).first()


def two_factor_backup_codes_left(*, user: AbstractBaseUser) -> int:
    device = BackupCodeDevice.objects.devices_for_user(user, confirmed=True).first()
    return device.codes.count() if device is not None else 0


def two_factor_qr_data_uri(*, device: AuthenticatorDevice) -> str:
    """The device's otpauth:// address as an SVG QR code in a data: URI.

    Drawn here, never by an outside service (the address holds the secret); the
    Content-Security-Policy lets `data:` images in.
    """
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    out = io.BytesIO()
    image.save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def two_factor_key_text(*, device: AuthenticatorDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app that cannot scan."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
