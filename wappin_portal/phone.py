"""Phone numbers as Wappin wants them: digits only, country code first, no plus.

One normaliser for every way a number comes in (API, forms, imports, blasts, callbacks):

- written with `+` or `00`, a number is read as its own country's, whatever the project's
  region: `+44 7400 123456` and `0044 7400 123456` become `447400123456`;
- written without a country code, it is read in the caller's region (the project's
  `default_region`, Indonesia by default): `0812-3456-789` becomes `628123456789`;
- digits that already start with that region's country code are international
  (`62812...` stays `62812...`, as people in Indonesia write it);
- `region=None` reads every number as international: WhatsApp ids such as Wappin's
  `sender_number` (`6591234567`) always carry their country code, never a `+`.

The stored form is such an id too: a number already normalised must be re-read with
`region=None`, never in a region (`447400123456` read as Indonesian is refused, and
`6591234567` becomes the Indonesian `626591234567`: issue 14's duplicate contacts).
"""

from __future__ import annotations

from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

import phonenumbers

from wappin_portal.errors import ValidationFailed

DEFAULT_REGION = "ID"
PHONE_SHOWN_MAX = 40


def _international(text: str, digits: str, region: str | None) -> bool:
    if text.startswith("+") or text.startswith("00") or region is None:
        return True
    country_code = phonenumbers.country_code_for_region(region)
    return bool(country_code) and digits.startswith(str(country_code))


# The refusals, marked for the catalogue here and translated when raised.
_NOT_A_NUMBER = gettext_noop("'%(number)s' is not a phone number.")
_NOT_A_NUMBER_TOO_LONG = gettext_noop("'%(number)s' is not a phone number: it is too long.")
_NOT_A_NUMBER_TOO_SHORT = gettext_noop("'%(number)s' is not a phone number: it is too short.")
_NOT_A_NUMBER_COUNTRY = gettext_noop(
    "'%(number)s' is not a phone number: its country code is unknown."
)
_NOT_VALID_TOO_SHORT = gettext_noop("'%(number)s' is not a valid phone number: it is too short.")
_NOT_VALID_TOO_LONG = gettext_noop("'%(number)s' is not a valid phone number: it is too long.")
_NOT_VALID_COUNTRY = gettext_noop(
    "'%(number)s' is not a valid phone number: its country code is unknown."
)
_NOT_VALID_LENGTH = gettext_noop(
    "'%(number)s' is not a valid phone number: it has the wrong length."
)


def phone_normalize(
    raw: str, *, field: str = "recipient_number", region: str | None = DEFAULT_REGION
) -> str:
    """Return the E.164 digits of `raw` without '+', or raise ValidationFailed with the reason."""
    text = (raw or "").strip()
    # How the number is quoted back: a pasted paragraph is not echoed whole into the message.
    shown = text if len(text) <= PHONE_SHOWN_MAX else text[:PHONE_SHOWN_MAX] + "…"
    if not text:
        raise ValidationFailed(
            gettext("A phone number is required."), field=field, code="phone_required"
        )
    if any(ch.isalpha() for ch in text):
        raise ValidationFailed(
            gettext("'%(number)s' is not a phone number: it contains letters.") % {"number": shown},
            field=field,
            code="phone_invalid",
        )
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("00"):
        digits = digits[2:]
    candidate = "+" + digits if _international(text, digits, region) else digits
    # Whole sentences, not glued fragments: a translation may order the words differently.
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException as exc:
        message = {
            phonenumbers.NumberParseException.TOO_LONG: _NOT_A_NUMBER_TOO_LONG,
            phonenumbers.NumberParseException.TOO_SHORT_NSN: _NOT_A_NUMBER_TOO_SHORT,
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: _NOT_A_NUMBER_TOO_SHORT,
            phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: _NOT_A_NUMBER_COUNTRY,
        }.get(exc.error_type, _NOT_A_NUMBER)
        raise ValidationFailed(
            gettext(message) % {"number": shown}, field=field, code="phone_invalid"
        ) from exc
    if not phonenumbers.is_possible_number(number):
        message = {
            phonenumbers.ValidationResult.TOO_SHORT: _NOT_VALID_TOO_SHORT,
            phonenumbers.ValidationResult.TOO_LONG: _NOT_VALID_TOO_LONG,
            phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: _NOT_VALID_COUNTRY,
        }.get(phonenumbers.is_possible_number_with_reason(number), _NOT_VALID_LENGTH)
        raise ValidationFailed(
            gettext(message) % {"number": shown}, field=field, code="phone_invalid"
        )
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(
            gettext("'%(number)s' is not a valid phone number for its country.")
            % {"number": shown},
            field=field,
            code="phone_invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+")


# --- a project's region -----------------------------------------------------------------


@cache
def phone_region_choices() -> list[tuple[str, str]]:
    """Every region phonenumbers knows, as (ISO 3166 alpha-2, "ID (+62)"), in code order."""
    return [
        (region, f"{region} (+{phonenumbers.country_code_for_region(region)})")
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    ]


def phone_region_validate(value: str) -> None:
    """A model/form validator: the region must be one phonenumbers can read numbers in."""
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            _("'%(value)s' is not a country code phone numbers can be read in (e.g. ID, MY, SG)."),
            code="phone_region",
            params={"value": value},
        )
