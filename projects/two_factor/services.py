"""Writes on two-factor log-in: set up an authenticator, check a code, backup codes, turn it off.

An authenticator app (TOTP, `AuthenticatorDevice`, its secret encrypted) and a few
single-use backup codes (`BackupCodeDevice`: only their digests are stored, a used
code is deleted); both are django-otp devices. The log-in view asks a
code after the password of a user who has a confirmed authenticator.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import django_otp
from django_otp.models import Device

from projects.models import AuthenticatorDevice, BackupCode, BackupCodeDevice, backup_code_digest
from projects.services import audit_record
from projects.two_factor.selectors import two_factor_is_enrolled, two_factor_pending_device
from wappin_portal.errors import Conflict, ValidationFailed

BACKUP_CODE_COUNT = 10
# Ten characters without look-alikes (no 0/o, 1/l/i): about 50 bits each.
BACKUP_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
BACKUP_CODE_LENGTH = 10
CODE_INVALID = gettext_lazy("That code is not right (or was used already): try the current one.")


def two_factor_setup_start(*, user: AbstractBaseUser) -> AuthenticatorDevice:
    """The authenticator to scan: the one being set up, or a new one with a fresh secret."""
    if two_factor_is_enrolled(user=user):
        raise Conflict(_("Two-factor log-in is on already."), code="two_factor_enabled")
    device = two_factor_pending_device(user=user)
    if device is None:
        device = AuthenticatorDevice.objects.create(
            user=user, name="Authenticator app", confirmed=False
        )
    return device


def _token_clean(token: str) -> str:
    return "".join((token or "").split())


def two_factor_setup_confirm(
    *, user: AbstractBaseUser, token: str
) -> tuple[AuthenticatorDevice, list[str]]:
    """Switch two-factor on once the app shows a right code; returns the new backup codes.

    The backup codes are shown once: only django-otp's table keeps them.
    """
    device = two_factor_pending_device(user=user)
    if device is None:
        raise Conflict(_("Start the set-up again: scan a new code."), code="two_factor_no_setup")
    codes: list[str] = []
    with transaction.atomic():
        device = AuthenticatorDevice.objects.select_for_update().get(pk=device.pk)
        accepted = device.verify_token(_token_clean(token))
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = two_factor_backup_codes_replace(user=user)
            audit_record(action="two_factor.enable", actor=user, target=user.get_username())
    # Raised outside the transaction: a wrong code's throttling is kept.
    if not accepted:
        raise ValidationFailed(str(CODE_INVALID), field="token", code="two_factor_code_invalid")
    return device, codes


def two_factor_backup_codes_replace(*, user: AbstractBaseUser) -> list[str]:
    """A fresh set of single-use backup codes; the old ones stop working."""
    BackupCodeDevice.objects.filter(user=user).delete()
    device = BackupCodeDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [
        "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
        for _ in range(BACKUP_CODE_COUNT)
    ]
    BackupCode.objects.bulk_create(
        BackupCode(device=device, digest=backup_code_digest(code)) for code in codes
    )
    return codes


def two_factor_verify(*, user: AbstractBaseUser, token: str) -> Device | None:
    """The user's device that accepts this code (the app's, or a backup code, then used up)."""
    token = _token_clean(token)
    if not token:
        return None
    for device in django_otp.devices_for_user(user, confirmed=True):
        # django-otp's own check: in a transaction, the device locked, throttled after failures.
        verified = django_otp.verify_token(user, device.persistent_id, token)
        if verified is not None:
            return verified
    return None


def two_factor_disable(*, user: AbstractBaseUser, password: str, token: str) -> None:
    """Switch two-factor off: the password and a current code (or a backup code) both needed."""
    if not user.check_password(password or ""):
        raise ValidationFailed(
            _("Your password is not right."), field="password", code="password_invalid"
        )
    # Not in one transaction with the check: a wrong code's throttling must be kept.
    if two_factor_verify(user=user, token=token) is None:
        raise ValidationFailed(str(CODE_INVALID), field="token", code="two_factor_code_invalid")
    with transaction.atomic():
        AuthenticatorDevice.objects.filter(user=user).delete()
        BackupCodeDevice.objects.filter(user=user).delete()
        audit_record(action="two_factor.disable", actor=user, target=user.get_username())
