import pytest

from wappin_portal.errors import ValidationFailed
from wappin_portal.phone import phone_normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0812-3456-7890", "6281234567890"),
        ("+62 812-3456-7890", "6281234567890"),
        ("6281234567890", "6281234567890"),
        ("082315658823", "6282315658823"),
        ("0062 812 3456 7890", "6281234567890"),
        ("+1 650 253 0000", "16502530000"),
    ],
)
def test_numbers_are_normalised_to_wappin_form(raw, expected):
    assert phone_normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "required"),
        ("0812abc", "contains letters"),
        ("0812", "too short"),
        ("08123456789012345678", "too long"),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(raw, reason):
    with pytest.raises(ValidationFailed) as caught:
        phone_normalize(raw)
    assert reason in caught.value.message
    assert caught.value.field == "recipient_number"


def test_a_huge_input_is_quoted_back_shortened():
    # A 100 KB cell of an import or API field was echoed whole into the error message.
    with pytest.raises(ValidationFailed) as error:
        phone_normalize("9" * 100_000)
    assert error.value.message == f"'{'9' * 40}…' is not a phone number: it is too long."
