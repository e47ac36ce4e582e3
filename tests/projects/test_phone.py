from django.core.exceptions import ValidationError
from django.utils import translation

import pytest

from tests import factories
from wappin_portal.errors import ValidationFailed
from wappin_portal.phone import phone_normalize, phone_region_choices


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0812-3456-7890", "6281234567890"),
        ("0812-3456-7001", "6281234567001"),
        ("+62 812-3456-7890", "6281234567890"),
        ("6281234567890", "6281234567890"),
        ("082315658823", "6282315658823"),
        ("0062 812 3456 7890", "6281234567890"),
        ("+1 650 253 0000", "16502530000"),
        # any country's number written with + or 00 is that country's (issue 14)
        ("+44 7400 123456", "447400123456"),
        ("0044 7400 123456", "447400123456"),
        ("+60 12-345 6789", "60123456789"),
        ("+65 9123 4567", "6591234567"),
        ("+1 415 555 2671", "14155552671"),
        ("+91 98765 43210", "919876543210"),
    ],
)
def test_numbers_are_normalised_to_wappin_form(raw, expected):
    assert phone_normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # without a country code: the project's country
        ("9123 4567", "SG", "6591234567"),
        ("012-345 6789", "MY", "60123456789"),
        ("07400 123456", "GB", "447400123456"),
        ("(415) 555-2671", "US", "14155552671"),
        # digits that start with that country's code are already international
        ("6591234567", "SG", "6591234567"),
        ("447400123456", "GB", "447400123456"),
        # with + or 00, the project's country does not matter
        ("+62 812-3456-7001", "SG", "6281234567001"),
        ("0062 812 3456 7001", "GB", "6281234567001"),
        ("+65 9123 4567", "ID", "6591234567"),
    ],
)
def test_numbers_without_a_country_code_are_read_in_the_callers_region(raw, region, expected):
    assert phone_normalize(raw, region=region) == expected


def test_a_foreign_number_without_plus_is_read_in_the_project_region():
    # The documented rule, and why a `+` matters: 6591234567 typed in an Indonesian project is
    # the Indonesian line +62 659 1234567, not Singapore's.
    assert phone_normalize("6591234567") == "626591234567"
    assert phone_normalize("6591234567", region="ID") == "626591234567"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6591234567", "6591234567"),
        ("6281234567001", "6281234567001"),
        ("+447400123456", "447400123456"),
    ],
)
def test_without_a_region_digits_carry_their_country_code(raw, expected):
    # What WhatsApp ids (Wappin's sender_number) are: international digits without '+'.
    assert phone_normalize(raw, region=None) == expected


@pytest.mark.parametrize(
    "raw",
    ["+44 7400 123456", "+60 12-345 6789", "+65 9123 4567", "+1 415 555 2671", "0812-3456-7001"],
)
def test_a_stored_number_read_again_without_a_region_is_unchanged(raw):
    stored = phone_normalize(raw)
    assert phone_normalize(stored, region=None) == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "required"),
        ("   ", "required"),
        ("0812abc", "contains letters"),
        ("+65 CALL-NOW", "contains letters"),
        ("0812", "too short"),
        ("+44 74", "too short"),
        ("08123456789012345678", "too long"),
        ("+999 1234 5678", "country code is unknown"),
        ("+65 1234 5678", "not a valid phone number for its country"),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(raw, reason):
    with pytest.raises(ValidationFailed) as caught:
        phone_normalize(raw)
    assert reason in caught.value.message
    assert caught.value.field == "recipient_number"
    assert caught.value.code == ("phone_required" if not raw.strip() else "phone_invalid")


def test_the_refusal_names_the_callers_field():
    with pytest.raises(ValidationFailed) as caught:
        phone_normalize("+999 1234 5678", field="phone", region="SG")
    assert caught.value.field == "phone"
    assert (
        caught.value.message
        == "'+999 1234 5678' is not a phone number: its country code is unknown."
    )


def test_a_huge_input_is_quoted_back_shortened():
    # A 100 KB cell of an import or API field was echoed whole into the error message.
    with pytest.raises(ValidationFailed) as error:
        phone_normalize("9" * 100_000)
    assert error.value.message == f"'{'9' * 40}…' is not a phone number: it is too long."


def test_the_region_choices_are_phonenumbers_regions():
    choices = dict(phone_region_choices())
    assert choices["ID"] == "ID (+62)"
    assert choices["GB"] == "GB (+44)"
    assert "001" not in choices  # non-geographic entities are not a country to read numbers in


@pytest.mark.django_db
def test_a_project_reads_numbers_in_indonesia_unless_told_otherwise():
    project = factories.ProjectFactory()
    assert project.default_region == "ID"
    project.default_region = "XX"
    with pytest.raises(ValidationError) as caught:
        project.full_clean()
    assert "default_region" in caught.value.message_dict


@pytest.mark.parametrize(
    "raw, indonesian",
    [
        ("", "Nomor telepon wajib diisi."),
        ("0812 abc", "'0812 abc' bukan nomor telepon: berisi huruf."),
        ("0812", "'0812' bukan nomor telepon yang valid: terlalu pendek."),
    ],
)
def test_a_refusal_is_in_the_persons_language_with_the_same_code(raw, indonesian):
    with translation.override("id"), pytest.raises(ValidationFailed) as caught:
        phone_normalize(raw)
    assert caught.value.message == indonesian
    assert caught.value.code in ("phone_required", "phone_invalid")
