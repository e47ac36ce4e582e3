"""Phone numbers as Wappin wants them: digits only, country code first, no plus.

`0812-3456-789`, `+62 812 3456 789` and `62812...` all become `628123456789`.
Numbers default to Indonesia (Wappin's home) when they carry no country code.
"""

from __future__ import annotations

import phonenumbers

from wappin_portal.errors import ValidationFailed

DEFAULT_REGION = "ID"
PHONE_SHOWN_MAX = 40


def phone_normalize(raw: str, *, field: str = "recipient_number", region: str = DEFAULT_REGION) -> str:
    """Return the E.164 digits of `raw` without '+', or raise ValidationFailed with the reason."""
    text = (raw or "").strip()
    # How the number is quoted back: a pasted paragraph is not echoed whole into the message.
    shown = text if len(text) <= PHONE_SHOWN_MAX else text[:PHONE_SHOWN_MAX] + "…"
    if not text:
        raise ValidationFailed("A phone number is required.", field=field, code="phone_required")
    if any(ch.isalpha() for ch in text):
        raise ValidationFailed(
            f"'{shown}' is not a phone number: it contains letters.", field=field, code="phone_invalid"
        )
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+"):
        candidate = "+" + digits
    elif text.startswith("00"):
        candidate = "+" + digits[2:]
    elif digits.startswith("62"):
        # "62812..." typed without '+' is already international.
        candidate = "+" + digits
    else:
        candidate = digits
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        reason = {
            phonenumbers.NumberParseException.TOO_LONG: ": it is too long",
            phonenumbers.NumberParseException.TOO_SHORT_NSN: ": it is too short",
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: ": it is too short",
            phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: ": its country code is unknown",
        }.get(exc.error_type, "")
        raise ValidationFailed(
            f"'{shown}' is not a phone number{reason}.", field=field, code="phone_invalid"
        ) from exc
    if not phonenumbers.is_possible_number(number):
        reason = {
            phonenumbers.ValidationResult.TOO_SHORT: "it is too short",
            phonenumbers.ValidationResult.TOO_LONG: "it is too long",
            phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "its country code is unknown",
        }.get(phonenumbers.is_possible_number_with_reason(number), "it has the wrong length")
        raise ValidationFailed(
            f"'{shown}' is not a valid phone number: {reason}.", field=field, code="phone_invalid"
        )
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(
            f"'{shown}' is not a valid phone number for its country.", field=field, code="phone_invalid"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")
