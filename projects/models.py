from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
import time
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from wappin_portal.fields import EncryptedTextField
from wappin_portal.phone import DEFAULT_REGION, phone_region_choices, phone_region_validate

wappin_id_validator = RegexValidator(
    r"^[0-9A-Za-z_-]{1,32}$", _("Use the id Wappin gave you: letters, digits, '-' or '_'.")
)


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# What a customer is answered after STOP/BERHENTI (opt-out) or START/MULAI (back in), in the
# language of the word they sent; `{business}` becomes the project's business name.
BUSINESS_PLACEHOLDER = "{business}"
OPT_OUT_CONFIRMATION_EN = (
    "You will no longer receive promotional messages from {business}. "
    "Reply START to subscribe again."
)
OPT_OUT_CONFIRMATION_ID = (
    "Anda tidak akan menerima pesan promosi lagi dari {business}. "
    "Balas MULAI untuk berlangganan kembali."
)
OPT_IN_CONFIRMATION_EN = (
    "Welcome back! You will receive messages from {business} again. Reply STOP to unsubscribe."
)
OPT_IN_CONFIRMATION_ID = (
    "Selamat datang kembali! Anda akan menerima pesan dari {business} lagi. "
    "Balas BERHENTI untuk berhenti."
)
OPT_OUT_TEXT_HELP = _("Sent as it is; {business} is replaced by the business name.")


class Project(TimeStampedModel):
    """A Wappin project: one WhatsApp business number of one Wappin client."""

    name = models.CharField(max_length=120)
    client_id = models.CharField(
        _("Wappin client ID"),
        max_length=32,
        validators=[wappin_id_validator],
        help_text=_("The client ID Wappin gave you, e.g. 0070."),
    )
    wappin_project_id = models.CharField(
        _("Wappin project ID"),
        max_length=32,
        validators=[wappin_id_validator],
        help_text=_("The project ID shown in Wappin's dashboard, e.g. 476."),
    )
    business_number = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("The WhatsApp business number, e.g. 628111234567."),
    )
    business_name = models.CharField(max_length=120, blank=True)
    # Pass it as `phone_normalize(..., region=project.default_region)` wherever a person types a number.
    default_region = models.CharField(
        _("default country for phone numbers"),
        max_length=2,
        default=DEFAULT_REGION,
        choices=phone_region_choices,
        validators=[phone_region_validate],
        help_text=_(
            "Numbers written without a country code (0812 3456 7890) are read as this country's; "
            "numbers written with + or 00 (+65 9123 4567) always as their own country's."
        ),
    )
    website_url = models.URLField(blank=True)
    default_chatbot_message = models.TextField(
        blank=True,
        max_length=4096,
        help_text=_("Sent when a customer writes something that matches no keyword."),
    )
    opt_out_confirmation_en = models.TextField(
        _("STOP confirmation (English)"),
        max_length=1024,
        default=OPT_OUT_CONFIRMATION_EN,
        help_text=OPT_OUT_TEXT_HELP,
    )
    opt_out_confirmation_id = models.TextField(
        _("BERHENTI confirmation (Indonesian)"),
        max_length=1024,
        default=OPT_OUT_CONFIRMATION_ID,
        help_text=OPT_OUT_TEXT_HELP,
    )
    opt_in_confirmation_en = models.TextField(
        _("START confirmation (English)"),
        max_length=1024,
        default=OPT_IN_CONFIRMATION_EN,
        help_text=OPT_OUT_TEXT_HELP,
    )
    opt_in_confirmation_id = models.TextField(
        _("MULAI confirmation (Indonesian)"),
        max_length=1024,
        default=OPT_IN_CONFIRMATION_ID,
        help_text=OPT_OUT_TEXT_HELP,
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="projects"
    )

    # The editable confirmation texts, for the settings page and its audit row.
    OPT_OUT_TEXT_FIELDS = (
        "opt_out_confirmation_en",
        "opt_out_confirmation_id",
        "opt_in_confirmation_en",
        "opt_in_confirmation_id",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["client_id", "wappin_project_id"], name="project_unique_wappin_ids"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def opt_out_confirmation(self, *, opting_out: bool, language: str) -> str:
        """The answer to STOP/BERHENTI (`opting_out`) or START/MULAI, in `language` (en, id).

        `{business}` is replaced as plain text (never `str.format`: the text is typed
        by a person, and format fields could reach into Python objects).
        """
        kind = "opt_out" if opting_out else "opt_in"
        text = getattr(self, f"{kind}_confirmation_{language}")
        return text.replace(BUSINESS_PLACEHOLDER, self.business_name or self.name)

    def clean(self) -> None:
        from wappin_portal.errors import ValidationFailed
        from wappin_portal.phone import phone_normalize

        if self.business_number and self.default_region in dict(phone_region_choices()):
            try:
                self.business_number = phone_normalize(
                    self.business_number, field="business_number", region=self.default_region
                )
            except ValidationFailed as exc:
                raise ValidationError({"business_number": exc.message}) from exc


def _callback_key() -> str:
    return secrets.token_urlsafe(32)


def validate_ip_list(value) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("Give a list of IP addresses or networks."))
    for entry in value:
        try:
            ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError as exc:
            raise ValidationError(
                _("'%(entry)s' is not an IP address or a network such as 10.0.0.0/24.")
                % {"entry": entry}
            ) from exc


def validate_callback_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValidationError(
            _("The callback URL must start with https:// (or http:// for a local test).")
        )
    if not parts.hostname:
        raise ValidationError(_("The callback URL needs a host name."))
    if (
        parts.scheme == "http"
        and not settings.DEBUG
        and parts.hostname not in ("127.0.0.1", "localhost")
    ):
        raise ValidationError(_("Wappin sends tokens to the callback URL: use https://."))


def token_digest(token: str) -> str:
    """What is stored to recognise a Wappin token without keeping it readable: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest() if token else ""


def secret_key_digest(secret_key: str) -> str:
    """What recognises a secret key without keeping it readable: an HMAC keyed by SECRET_KEY
    (a secret key may be short, so a bare hash could be guessed). A new SECRET_KEY only means
    the next save points the integrations at a new `WappinCredential`, which fetches a token."""
    return salted_hmac(
        "projects.WappinCredential.secret_key", secret_key, algorithm="sha256"
    ).hexdigest()


class WappinCredential(TimeStampedModel):
    """One Wappin client (client id + secret key) in one environment, and its access token.

    Wappin issues one token per client: every integration of the client (notification,
    chatbot, of any project) uses this row's token, refreshes it under this row's lock,
    and accepts callbacks signed with its current or previous token.
    """

    environment = models.CharField(max_length=20, editable=False)
    client_id = models.CharField(max_length=32, editable=False)
    secret_key_digest = models.CharField(max_length=64, editable=False)
    access_token = EncryptedTextField(blank=True, editable=False)
    previous_access_token = EncryptedTextField(blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # SHA-256 of the two tokens, kept by `save()`: a callback's bearer token is checked
    # against these, so receiving a callback decrypts nothing.
    access_token_digest = models.CharField(max_length=64, blank=True, editable=False)
    previous_access_token_digest = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "client_id", "secret_key_digest"],
                name="wappin_credential_unique_client",
            )
        ]

    def __str__(self) -> str:
        return f"Wappin client {self.client_id} ({self.environment})"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        deferred = self.get_deferred_fields()
        for token_field in ("access_token", "previous_access_token"):
            if token_field in deferred:
                continue  # not loaded, so not changed here
            if update_fields is None or token_field in update_fields:
                setattr(self, f"{token_field}_digest", token_digest(getattr(self, token_field)))
                if update_fields is not None:
                    kwargs["update_fields"] = update_fields = [
                        *update_fields,
                        f"{token_field}_digest",
                    ]
        super().save(*args, **kwargs)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.environment, self.client_id, self.secret_key_digest)

    def token_is_fresh(self, *, now=None) -> bool:
        now = now or timezone.now()
        margin = timezone.timedelta(seconds=settings.WAPPIN_TOKEN_REFRESH_MARGIN_SECONDS)
        return bool(
            self.access_token and self.token_expires_at and self.token_expires_at - margin > now
        )


class Integration(TimeStampedModel):
    """The credentials and callback set-up of one Wappin integration of a project."""

    class Kind(models.TextChoices):
        NOTIFICATION = "notification", _("Notification (HSM)")
        CHATBOT = "chatbot", _("Chatbot")

    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production")
        UAT = "uat", _("UAT")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="integrations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    environment = models.CharField(
        max_length=20,
        choices=Environment.choices,
        default=Environment.PRODUCTION,
    )
    is_active = models.BooleanField(default=True)
    callback_url = models.CharField(
        _("callback URL"),
        max_length=500,
        blank=True,
        validators=[validate_callback_url],
        help_text=_(
            "The URL to paste into Wappin's dashboard. Filled in from PORTAL_BASE_URL when left "
            "empty."
        ),
    )
    ip_whitelist = models.JSONField(
        _("IP whitelist"),
        default=list,
        blank=True,
        validators=[validate_ip_list],
        help_text=_(
            "Wappin's side: the addresses of this portal's servers allowed to call Wappin."
        ),
    )
    callback_ip_allowlist = models.JSONField(
        _("callback IP allow-list"),
        default=list,
        blank=True,
        validators=[validate_ip_list],
        help_text=_(
            "Our side: the addresses Wappin's callbacks may come from. Empty: any address."
        ),
    )
    client_key = EncryptedTextField(blank=True)
    secret_key = EncryptedTextField(blank=True)
    # The Wappin client (client id + secret key) whose token this integration uses; kept by
    # `save()` (`credential_sync`). None until both the client id and the secret key are set.
    credential = models.ForeignKey(
        WappinCredential,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="integrations",
        editable=False,
    )
    callback_key = models.CharField(
        max_length=64, unique=True, default=_callback_key, editable=False
    )
    max_messages_per_second = models.PositiveSmallIntegerField(
        _("max messages per second"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_(
            "The most messages the portal sends through this integration in any second "
            "(WhatsApp's tier for the number: 80 by default, up to 1,000)."
        ),
    )

    class Meta:
        ordering = ["project__name", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "environment"],
                name="integration_unique_kind_per_project",
            )
        ]

    def __str__(self) -> str:
        return f"{self.project} · {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self.callback_url:
            self.callback_url = self.default_callback_url
        update_fields = kwargs.get("update_fields")
        credential_inputs = {"secret_key", "environment", "project", "credential"}
        syncs = "secret_key" not in self.get_deferred_fields() and (
            update_fields is None or credential_inputs & set(update_fields)
        )
        if syncs and self.credential_sync() and update_fields is not None:
            kwargs["update_fields"] = list({*update_fields, "credential"})
        super().save(*args, **kwargs)

    def credential_sync(self) -> bool:
        """Point at the Wappin client of this integration's client id and secret key (created
        on first use); True when that changed. Every integration of one client shares it."""
        client_id = self.project.client_id if self.project_id else ""
        if not (client_id and self.secret_key):
            credential = None
        else:
            digest = secret_key_digest(self.secret_key)
            current = self.credential if self.credential_id else None
            if current is not None and current.key == (self.environment, client_id, digest):
                return False
            credential, _ = WappinCredential.objects.get_or_create(
                environment=self.environment, client_id=client_id, secret_key_digest=digest
            )
        if (credential.pk if credential else None) == self.credential_id:
            return False
        self.credential = credential
        return True

    @property
    def callback_path(self) -> str:
        return reverse("callbacks:wappin", kwargs={"key": self.callback_key})

    @property
    def default_callback_url(self) -> str:
        return settings.PORTAL_BASE_URL + self.callback_path

    @property
    def has_credentials(self) -> bool:
        return bool(self.project.client_id and self.secret_key)


class Membership(TimeStampedModel):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MARKETING = "marketing", _("Marketing")
        DEVELOPER = "developer", _("Developer")
        VIEWER = "viewer", _("Viewer")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MARKETING)

    class Meta:
        ordering = ["project__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"], name="membership_unique_user_per_project"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.get_role_display()})"


API_KEY_PREFIX_LENGTH = 8


def api_key_hash(raw_key: str) -> str:
    # The key is 256 random bits, so a fast hash is safe (as with GitHub tokens);
    # a slow password hash would cost every API call.
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(TimeStampedModel):
    """A developer's key for the REST API of one project; only its hash is stored."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=API_KEY_PREFIX_LENGTH, editable=False, db_index=True)
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    role = models.CharField(
        max_length=20,
        choices=Membership.Role.choices,
        default=Membership.Role.DEVELOPER,
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(models.Model):
    """Who did what, when: admin changes, approvals, key creation and revocation."""

    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=80, db_index=True)
    target = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target}"


# --- Two-factor log-in (django-otp devices of our own: their secrets never in clear) -------


def _authenticator_key() -> str:
    return secrets.token_hex(20)


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238: 6 digits every 30 s) of one user.

    django-otp's own `TOTPDevice` keeps the secret in clear; this one keeps it
    encrypted like every other stored secret (and `rotate_field_key` re-encrypts it).
    The rest follows `TOTPDevice`: a code is accepted once (`last_t`), one step of
    clock drift either way, and a wait after each wrong code (ThrottlingMixin).
    """

    STEP_SECONDS = 30
    DIGITS = 6
    TOLERANCE_STEPS = 1
    t0 = 0  # counting steps from the Unix epoch, as every app does

    key = EncryptedTextField(default=_authenticator_key, editable=False)
    drift = models.SmallIntegerField(default=0, editable=False)
    last_t = models.BigIntegerField(default=-1, editable=False)

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")

    @property
    def step(self) -> int:
        return self.STEP_SECONDS

    @property
    def digits(self) -> int:
        return self.DIGITS

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(self.key)

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            number = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(number, self.TOLERANCE_STEPS, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    @property
    def config_url(self) -> str:
        """The otpauth:// address an app scans (the secret is in it: never log or store it)."""
        issuer = str(settings.OTP_TOTP_ISSUER).replace(":", "")
        label = f"{issuer}:{self.user.get_username()}"
        params = urlencode(
            {
                "secret": base64.b32encode(self.bin_key).decode().rstrip("="),
                "algorithm": "SHA1",
                "digits": self.digits,
                "period": self.step,
            }
        )
        return f"otpauth://totp/{quote(label)}?{params}&issuer={quote(issuer)}"


def backup_code_digest(code: str) -> str:
    """What is stored of a backup code: its SHA-256 (the code is shown once, never kept)."""
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()


class BackupCodeDevice(ThrottlingMixin, Device):
    """A user's single-use backup codes, for a lost phone; a used code is deleted."""

    class Meta(Device.Meta):
        verbose_name = _("backup codes")

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        used, _rows = self.codes.filter(digest=backup_code_digest(str(token))).delete()
        if used:
            self.throttle_reset(commit=True)
        else:
            self.throttle_increment(commit=True)
        return bool(used)


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"backup code {self.pk} of {self.device}"


# The webhooks package's models belong to this app (migrations, admin, the app registry).
from projects.webhooks.models import (  # noqa: E402, F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)


class ApiThrottleWindow(models.Model):
    """The API throttle's counter of one key (an API key, a user) in its current window.

    Used when the cache is not Redis (the embedded default): one atomic upsert per request
    (`projects.throttle`), where the database cache's add-then-incr was a read and a write
    that let 76 of 200 concurrent requests through a 50/min limit.
    """

    key = models.CharField(max_length=200, unique=True)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "projects_api_throttle_window"  # named in projects.throttle's upsert

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start}: {self.count}"
