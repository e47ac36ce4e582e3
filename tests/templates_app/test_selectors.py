import pytest

from templates_app.models import Template, TemplateLanguage
from templates_app.selectors import (
    keyword_match,
    keyword_normalize,
    template_language_resolve,
    template_send_params_check,
)
from tests import factories
from wappin_portal.errors import Conflict, NotFound, ValidationFailed

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_template(project):
    template = factories.TemplateFactory(project=project, name="order_shipped")
    factories.TemplateLanguageFactory(
        template=template, language_code="id", position=0, body="Halo {{1}}, pesanan {{2}}."
    )
    factories.TemplateLanguageFactory(
        template=template, language_code="en", position=1, body="Hello {{1}}, order {{2}}."
    )
    return template


# --- template_language_resolve -------------------------------------------------


def test_empty_language_code_resolves_to_the_templates_first_language(project, order_template):
    language = template_language_resolve(
        project=project, template_name="order_shipped", language_code=""
    )
    assert language.language_code == "id"


def test_first_language_is_by_position_not_by_creation(project):
    template = factories.TemplateFactory(project=project, name="late_default")
    factories.TemplateLanguageFactory(template=template, language_code="en", position=5)
    factories.TemplateLanguageFactory(template=template, language_code="id", position=0)
    assert (
        template_language_resolve(project=project, template_name="late_default").language_code
        == "id"
    )


def test_a_named_language_resolves_to_that_language(project, order_template):
    language = template_language_resolve(
        project=project, template_name="order_shipped", language_code="en"
    )
    assert language.body.startswith("Hello")


def test_unknown_template_is_not_found_on_the_type_field(project):
    with pytest.raises(NotFound) as caught:
        template_language_resolve(project=project, template_name="nope")
    assert (caught.value.code, caught.value.field) == ("template_not_found", "type")


def test_template_of_another_project_is_not_found(project, order_template):
    other = factories.ProjectFactory()
    with pytest.raises(NotFound):
        template_language_resolve(project=other, template_name="order_shipped")


def test_unknown_language_is_not_found_and_lists_the_available_ones(project, order_template):
    with pytest.raises(NotFound) as caught:
        template_language_resolve(
            project=project, template_name="order_shipped", language_code="fr"
        )
    assert caught.value.code == "template_not_found"
    assert "id, en" in caught.value.message


@pytest.mark.parametrize("status", ["draft", "on_process", "rejected", "inactive"])
def test_a_template_that_is_not_approved_cannot_be_resolved_for_sending(
    project, order_template, status
):
    Template.objects.filter(pk=order_template.pk).update(status=status)
    with pytest.raises(Conflict) as caught:
        template_language_resolve(project=project, template_name="order_shipped")
    assert caught.value.code == "template_not_approved"


# --- template_send_params_check ---------------------------------------------------


def _language(**overrides):
    fields = {"language_code": "id", "body": "Halo {{1}}, pesanan {{2}}."}
    fields.update(overrides)
    return factories.TemplateLanguageFactory(**fields)


def _check(language, **kwargs):
    arguments = {
        "params": {},
        "header_param": None,
        "button_url": None,
        "reply_payloads": None,
        "has_media": False,
    }
    arguments.update(kwargs)
    template_send_params_check(language=language, **arguments)


def _fields(language, **kwargs) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        _check(language, **kwargs)
    return caught.value.fields


def test_params_matching_the_body_placeholders_pass():
    _check(_language(), params={"1": "Budi", "2": "INV-1"})


def test_integer_param_keys_are_accepted_like_strings():
    _check(_language(), params={1: "Budi", 2: "INV-1"})


@pytest.mark.parametrize(
    "params",
    [
        {"1": "Budi"},
        {"1": "Budi", "2": "x", "3": "y"},
        {"1": "Budi", "3": "x"},
        {},
        {"a": "1", "b": "2"},
    ],
)
def test_wrong_param_count_or_keys_are_refused_on_params(params):
    fields = _fields(_language(), params=params)
    assert list(fields) == ["params"]
    assert "takes 2 params" in fields["params"][0]


def test_an_empty_param_is_refused():
    fields = _fields(_language(), params={"1": "Budi", "2": "  "})
    assert "2 is empty" in fields["params"][0]


def test_a_body_without_placeholders_takes_no_params():
    language = _language(body="Terima kasih.")
    _check(language, params={})
    _check(language, params=None)
    assert "params" in _fields(language, params={"1": "x"})


def test_header_param_is_required_where_the_header_has_a_variable():
    language = _language(header_type=TemplateLanguage.HeaderType.TEXT, header_text="Pesanan {{1}}")
    assert "header_param" in _fields(language, params={"1": "a", "2": "b"})
    _check(language, params={"1": "a", "2": "b"}, header_param="INV-1")


def test_header_param_is_refused_where_the_header_has_no_variable():
    language = _language(header_type=TemplateLanguage.HeaderType.TEXT, header_text="Pesanan Anda")
    assert "header_param" in _fields(language, params={"1": "a", "2": "b"}, header_param="INV-1")


@pytest.mark.parametrize("header_type", ["image", "document"])
def test_media_is_required_where_the_header_is_media(header_type):
    language = _language(header_type=header_type)
    assert "media" in _fields(language, params={"1": "a", "2": "b"})
    _check(language, params={"1": "a", "2": "b"}, has_media=True)


def test_media_is_refused_where_the_header_is_not_media():
    assert "media" in _fields(_language(), params={"1": "a", "2": "b"}, has_media=True)


def test_button_url_is_required_only_where_the_url_button_has_a_variable():
    with_variable = _language(
        buttons=[{"type": "url", "text": "Track", "url": "https://shop.example/t/{{1}}"}]
    )
    assert "button_url" in _fields(with_variable, params={"1": "a", "2": "b"})
    _check(with_variable, params={"1": "a", "2": "b"}, button_url="INV-1")

    fixed = _language(buttons=[{"type": "url", "text": "Shop", "url": "https://shop.example/"}])
    assert "button_url" in _fields(fixed, params={"1": "a", "2": "b"}, button_url="INV-1")


def test_reply_payloads_may_not_outnumber_the_quick_reply_buttons():
    language = _language(
        buttons=[
            {"type": "quick_reply", "text": "Yes", "payload": "yes"},
            {"type": "quick_reply", "text": "No", "payload": "no"},
        ]
    )
    _check(language, params={"1": "a", "2": "b"}, reply_payloads={"1": "p-yes", "2": "p-no"})
    _check(language, params={"1": "a", "2": "b"}, reply_payloads={"2": "p-no"})
    fields = _fields(
        language, params={"1": "a", "2": "b"}, reply_payloads={"1": "a", "2": "b", "3": "c"}
    )
    assert "2 quick-reply buttons" in fields["reply_payloads"][0]
    assert "reply_payloads" in _fields(
        language, params={"1": "a", "2": "b"}, reply_payloads={"5": "x"}
    )


def test_every_broken_part_is_reported_on_its_own_field_at_once():
    language = _language(header_type=TemplateLanguage.HeaderType.TEXT, header_text="Pesanan {{1}}")
    fields = _fields(language, params={"1": "a"}, button_url="x", has_media=True)
    assert set(fields) == {"params", "header_param", "button_url", "media"}


def test_a_send_that_does_not_fit_has_one_code_whatever_else_failed():
    # Issue 11, defect 5: the code was `param_count_mismatch` alone, `template_params_invalid`
    # when another part failed too; one cause, one code, and `fields` says which part.
    with pytest.raises(ValidationFailed) as alone:
        _check(_language(), params={"1": "a"})
    language = _language(header_type=TemplateLanguage.HeaderType.TEXT, header_text="Pesanan {{1}}")
    with pytest.raises(ValidationFailed) as with_others:
        _check(language, params={"1": "a"})
    assert alone.value.code == with_others.value.code == "template_params_invalid"
    assert alone.value.as_dict()["fields"]["params"]
    assert set(with_others.value.as_dict()["fields"]) == {"params", "header_param"}


# --- keywords --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("PROMO", "promo"),
        ("  Halo   Wappin ", "halo wappin"),
        ("*Promo*!", "promo"),
        ("promo?", "promo"),
        ("", ""),
    ],
)
def test_keyword_normalize_folds_case_spaces_and_surrounding_punctuation(raw, normalized):
    assert keyword_normalize(raw) == normalized


def test_keyword_match_is_case_and_space_insensitive(project):
    keyword = factories.ChatbotKeywordFactory(
        project=project, keyword="PROMO", normalized_keyword="promo"
    )
    assert keyword_match(project=project, text="promo") == keyword
    assert keyword_match(project=project, text="  PrOmO  ") == keyword


def test_keyword_match_on_the_first_word(project):
    keyword = factories.ChatbotKeywordFactory(
        project=project, keyword="promo", normalized_keyword="promo"
    )
    assert keyword_match(project=project, text="Promo hari ini apa?") == keyword
    assert keyword_match(project=project, text="ada promo?") is None


def test_a_multi_word_keyword_matches_the_whole_message(project):
    keyword = factories.ChatbotKeywordFactory(
        project=project, keyword="Halo Wappin", normalized_keyword="halo wappin"
    )
    assert keyword_match(project=project, text="halo   WAPPIN") == keyword
    assert keyword_match(project=project, text="halo") is None


def test_inactive_keywords_and_other_projects_keywords_do_not_match(project):
    factories.ChatbotKeywordFactory(
        project=project, keyword="promo", normalized_keyword="promo", is_active=False
    )
    factories.ChatbotKeywordFactory(keyword="agent", normalized_keyword="agent")
    assert keyword_match(project=project, text="promo") is None
    assert keyword_match(project=project, text="agent") is None


def test_an_empty_message_matches_nothing(project):
    assert keyword_match(project=project, text="   ") is None


# --- preview -----------------------------------------------------------------------


def test_preview_fills_given_params_and_shows_samples_for_the_rest():
    from templates_app.selectors import template_preview

    language = _language(
        header_type="text",
        header_text="Pesanan {{1}}",
        footer="Demo Shop",
        buttons=[
            {"type": "url", "text": "Lacak", "url": "https://shop.example/track/{{1}}"},
            {"type": "quick_reply", "text": "Terima kasih", "payload": "thanks"},
        ],
    )
    preview = template_preview(
        language=language, params={"1": "Budi"}, header_param="INV-7", button_url="INV-7"
    )
    assert preview["header"] == {"type": "text", "text": "Pesanan INV-7"}
    assert preview["body"] == "Halo Budi, pesanan [sample 2]."
    assert preview["footer"] == "Demo Shop"
    assert preview["buttons"] == [
        {"type": "url", "text": "Lacak", "url": "https://shop.example/track/INV-7"},
        {"type": "quick_reply", "text": "Terima kasih", "payload": "thanks"},
    ]


def test_preview_without_params_uses_samples_everywhere():
    from templates_app.selectors import template_preview

    language = _language(header_type="text", header_text="Pesanan {{1}}")
    preview = template_preview(language=language)
    assert preview["header"]["text"] == "Pesanan [sample 1]"
    assert preview["body"] == "Halo [sample 1], pesanan [sample 2]."


def test_preview_of_a_media_header_names_the_media():
    from templates_app.selectors import template_preview

    assert template_preview(language=_language(header_type="document"))["header"] == {
        "type": "document",
        "text": "",
    }
    assert template_preview(language=_language())["header"] is None
