import pytest

from projects.models import AuditEvent
from templates_app.models import ChatbotKeyword, Template, TemplateStatusChange
from templates_app.services import (
    keyword_create,
    keyword_delete,
    keyword_update,
    project_chatbot_settings_update,
    template_approve,
    template_create,
    template_deactivate,
    template_delete,
    template_reactivate,
    template_reject,
    template_request_approval,
    template_update,
)
from tests import factories
from wappin_portal.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def _content(**overrides) -> dict:
    content = {
        "language_code": "id",
        "header_type": "text",
        "header_text": "Pesanan {{1}}",
        "body": "Halo {{1}}, pesanan {{2}} sudah dikirim.",
        "footer": "Demo Shop",
        "buttons": [
            {"type": "url", "text": "Lacak", "url": "https://shop.example/track/{{1}}"},
            {"type": "quick_reply", "text": "Terima kasih", "payload": "thanks"},
        ],
    }
    content.update(overrides)
    return content


def _create(project, actor=None, **overrides) -> Template:
    arguments = {"name": "order_shipped", "message_type": "utility", "languages": [_content()]}
    arguments.update(overrides)
    return template_create(project=project, actor=actor, **arguments)


def _errors(project, **overrides) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        _create(project, **overrides)
    return caught.value.fields


# --- creating ---------------------------------------------------------------------


def test_create_makes_a_draft_with_its_languages_in_order(project, marketer):
    template = _create(
        project,
        actor=marketer,
        languages=[_content(), _content(language_code="en", body="Hello {{1}}, order {{2}}.")],
    )
    assert template.status == Template.Status.DRAFT
    assert template.created_by == marketer
    assert [(lang.language_code, lang.position) for lang in template.languages.all()] == [
        ("id", 0),
        ("en", 1),
    ]
    first = template.languages.first()
    assert (first.body_param_count, first.header_has_param, first.url_button_has_param) == (
        2,
        True,
        True,
    )
    assert template.status_changes.get().to_status == "draft"
    assert AuditEvent.objects.filter(action="template.create", target="order_shipped").exists()


@pytest.mark.parametrize("name", ["Order", "order-shipped", "order shipped", "pesanan_ü", ""])
def test_a_name_other_than_lowercase_digits_and_underscore_is_refused(project, name):
    assert "name" in _errors(project, name=name)


def test_a_name_is_unique_per_project_only(project):
    _create(project)
    assert "already has a template" in _errors(project)["name"][0]
    _create(factories.ProjectFactory())  # another project may use the name


def test_an_unknown_message_type_is_refused(project):
    assert "message_type" in _errors(project, message_type="promo")


def test_at_least_one_language_is_required(project):
    assert "languages" in _errors(project, languages=[])


def test_language_codes_are_unique_and_well_formed(project):
    fields = _errors(
        project,
        languages=[_content(), _content(language_code="id"), _content(language_code="english")],
    )
    assert "twice" in fields["languages.1.language_code"][0]
    assert "languages.2.language_code" in fields


def test_an_over_long_body_is_refused(project):
    fields = _errors(project, languages=[_content(body="x" * 1025)])
    assert "1025 characters" in fields["languages.0.body"][0]
    _create(project, languages=[_content(body="Halo {{1}} {{2}}" + "x" * (1024 - 16))])


def test_a_gap_in_body_placeholders_is_refused(project):
    fields = _errors(project, languages=[_content(body="Halo {{1}}, pesanan {{3}}.")])
    assert "{{2}} is missing" in fields["languages.0.body"][0]


def test_body_placeholders_start_at_one(project):
    assert "languages.0.body" in _errors(project, languages=[_content(body="Halo {{2}}.")])
    assert "languages.0.body" in _errors(project, languages=[_content(body="Halo {{0}} {{1}}.")])


def test_a_named_placeholder_is_refused(project):
    fields = _errors(project, languages=[_content(body="Halo {{name}}.")])
    assert "{{1}}, {{2}}" in fields["languages.0.body"][0]


@pytest.mark.parametrize(
    "body",
    [
        "Halo {{\uff11}}.",
        "Halo {{\u0663}}.",
        "Halo {{99999999999999999999}}.",
        "Halo {{" + "9" * 900 + "}}.",
    ],
)
def test_a_placeholder_of_non_ascii_or_huge_digits_is_refused_with_the_rule(project, body):
    # {{１}} (fullwidth) and {{٣}} (Arabic-Indic) are not variables to WhatsApp; a huge number
    # used to build a range of its size (out of memory) or fail int() (a 500)
    fields = _errors(project, languages=[_content(body=body)])
    assert fields["languages.0.body"] == [
        "Write variables as {{1}}, {{2}}, … (numbers in double braces)."
    ]


def test_a_placeholder_may_repeat(project):
    _create(project, languages=[_content(body="{{1}}, {{1}}! Pesanan {{2}}.")])


def test_the_body_is_required(project):
    assert "languages.0.body" in _errors(project, languages=[_content(body="   ")])


def test_a_header_with_two_variables_is_refused(project):
    fields = _errors(project, languages=[_content(header_text="{{1}} dan {{1}}")])
    assert "only one variable" in fields["languages.0.header_text"][0]


def test_a_header_variable_other_than_one_is_refused(project):
    assert "languages.0.header_text" in _errors(
        project, languages=[_content(header_text="Pesanan {{2}}")]
    )


def test_a_header_over_60_characters_is_refused(project):
    assert "languages.0.header_text" in _errors(project, languages=[_content(header_text="x" * 61)])


def test_a_text_header_needs_text_and_a_media_header_drops_it(project):
    assert "languages.0.header_text" in _errors(project, languages=[_content(header_text="")])
    template = _create(project, languages=[_content(header_type="image", header_text="ignored")])
    language = template.languages.get()
    assert (language.header_type, language.header_text, language.header_is_media) == (
        "image",
        "",
        True,
    )


def test_an_unknown_header_type_is_refused(project):
    assert "languages.0.header_type" in _errors(project, languages=[_content(header_type="video")])


def test_footer_is_at_most_60_characters_without_variables(project):
    assert "languages.0.footer" in _errors(project, languages=[_content(footer="x" * 61)])
    assert "languages.0.footer" in _errors(project, languages=[_content(footer="Toko {{1}}")])


def _buttons_error(project, buttons) -> str:
    return " ".join(_errors(project, languages=[_content(buttons=buttons)])["languages.0.buttons"])


def test_at_most_one_url_button(project):
    url = {"type": "url", "text": "A", "url": "https://a.example/"}
    assert "one URL button" in _buttons_error(project, [url, {**url, "text": "B"}])


def test_at_most_three_quick_replies_and_three_buttons(project):
    replies = [{"type": "quick_reply", "text": f"R{n}", "payload": f"r{n}"} for n in range(4)]
    message = _buttons_error(project, replies)
    assert "3 quick-reply" in message
    assert "3 buttons in all" in message
    url = {"type": "url", "text": "Go", "url": "https://a.example/"}
    assert "3 buttons in all" in _buttons_error(project, [url, *replies[:3]])


def test_a_url_button_needs_an_http_url_that_may_only_end_in_a_variable(project):
    assert "not an http(s) URL" in _buttons_error(
        project, [{"type": "url", "text": "Go", "url": "ftp://a.example/"}]
    )
    assert "not an http(s) URL" in _buttons_error(
        project, [{"type": "url", "text": "Go", "url": "bell.com"}]
    )
    assert "end in one variable" in _buttons_error(
        project, [{"type": "url", "text": "Go", "url": "https://a.example/{{1}}/x"}]
    )


def test_button_text_is_required_and_short(project):
    assert "text is required" in _buttons_error(project, [{"type": "quick_reply", "text": ""}])
    assert "25" in _buttons_error(project, [{"type": "quick_reply", "text": "x" * 26}])


def test_an_unknown_button_type_is_refused(project):
    assert "'url' or 'quick_reply'" in _buttons_error(project, [{"type": "call", "text": "Call"}])


def test_a_quick_reply_payload_defaults_to_its_text(project):
    template = _create(
        project, languages=[_content(buttons=[{"type": "quick_reply", "text": "Yes"}])]
    )
    assert template.languages.get().buttons == [
        {"type": "quick_reply", "text": "Yes", "payload": "Yes"}
    ]


def test_every_problem_is_reported_at_once(project):
    fields = _errors(project, name="Bad Name", languages=[_content(body="{{2}}", footer="x" * 61)])
    assert {"name", "languages.0.body", "languages.0.footer"} <= set(fields)


# --- the lifecycle and its lock ------------------------------------------------------------


def test_the_lifecycle_draft_on_process_approved_inactive_and_back(project, marketer, admin_user):
    template = _create(project, actor=marketer)
    template_request_approval(template=template, actor=marketer)
    template_approve(template=template, actor=admin_user)
    template_deactivate(template=template, actor=marketer)
    template_reactivate(template=template, actor=admin_user)
    template.refresh_from_db()
    assert template.status == "approved"
    steps = list(
        TemplateStatusChange.objects.filter(template=template).values_list(
            "from_status", "to_status", "actor"
        )
    )
    assert steps == [
        ("", "draft", marketer.pk),
        ("draft", "on_process", marketer.pk),
        ("on_process", "approved", admin_user.pk),
        ("approved", "inactive", marketer.pk),
        ("inactive", "approved", admin_user.pk),
    ]
    actions = set(AuditEvent.objects.filter(project=project).values_list("action", flat=True))
    assert {
        "template.request_approval",
        "template.approve",
        "template.deactivate",
        "template.reactivate",
    } <= actions


def test_a_member_cannot_undo_an_admins_deactivation(project, marketer, admin_user, client):
    # Issue 10, finding 8: any member could reactivate what an admin deactivated
    template = _create(project, actor=marketer)
    template_request_approval(template=template, actor=marketer)
    template_approve(template=template, actor=admin_user)
    template_deactivate(template=template, actor=admin_user)

    # In the service
    with pytest.raises(PermissionDenied):
        template_reactivate(template=template, actor=marketer)
    # ... and through the page, which does not offer it either
    client.force_login(marketer)
    page = client.get(f"/templates/{template.pk}/").content.decode()
    assert "a project admin can reactivate it" in page
    assert f"/templates/{template.pk}/reactivate/" not in page
    client.post(f"/templates/{template.pk}/reactivate/")
    template.refresh_from_db()
    assert template.status == "inactive"


def test_a_rejection_records_its_reason_and_the_template_can_be_fixed_and_requested_again(
    project, marketer, admin_user
):
    # Given a template on process
    template = _create(project, actor=marketer)
    template_request_approval(template=template, actor=marketer)
    # When an admin rejects it
    template_reject(
        template=template, actor=admin_user, reason="Promotional content in a utility template"
    )
    template.refresh_from_db()
    # Then the marketer sees why, may edit it and request it again
    assert (template.status, template.rejection_reason) == (
        "rejected",
        "Promotional content in a utility template",
    )
    assert template.status_changes.last().reason == "Promotional content in a utility template"
    template_update(template=template, message_type="marketing", actor=marketer)
    template_request_approval(template=template, actor=marketer)
    template.refresh_from_db()
    assert (template.status, template.rejection_reason, template.message_type) == (
        "on_process",
        "",
        "marketing",
    )


def test_a_rejection_needs_a_reason(project, admin_user):
    template = _create(project)
    template_request_approval(template=template)
    with pytest.raises(ValidationFailed) as caught:
        template_reject(template=template, actor=admin_user, reason=" ")
    assert caught.value.field == "reason"


@pytest.mark.parametrize("status", ["on_process", "approved", "inactive"])
def test_a_template_on_process_or_decided_cannot_be_edited(project, status):
    template = _create(project)
    Template.objects.filter(pk=template.pk).update(status=status)
    with pytest.raises(Conflict) as caught:
        template_update(template=template, languages=[_content(body="Changed {{1}} {{2}}")])
    assert caught.value.code == "template_locked"
    assert "once its submission is 'On Process'" in caught.value.message
    assert template.languages.get().body.startswith("Halo")


def test_an_update_replaces_the_languages_and_checks_them(project):
    template = _create(project)
    template_update(
        template=template,
        languages=[_content(language_code="en", body="Hi {{1}}", header_type="none")],
    )
    assert [lang.language_code for lang in template.languages.all()] == ["en"]
    with pytest.raises(ValidationFailed):
        template_update(template=template, languages=[_content(body="x" * 2000)])
    with pytest.raises(ValidationFailed):
        template_update(template=template, name="Bad")


def test_an_update_may_keep_the_name(project):
    template = _create(project)
    template_update(template=template, name="order_shipped", message_type="marketing")
    template.refresh_from_db()
    assert template.message_type == "marketing"


def test_only_a_draft_or_rejected_template_can_be_requested(project, admin_user):
    template = _create(project)
    template_request_approval(template=template)
    with pytest.raises(Conflict):
        template_request_approval(template=template)


def test_only_a_template_on_process_can_be_approved_or_rejected(project, admin_user):
    template = _create(project)
    with pytest.raises(Conflict):
        template_approve(template=template, actor=admin_user)
    with pytest.raises(Conflict):
        template_reject(template=template, actor=admin_user, reason="x")


def test_only_an_admin_approves_or_rejects(project, marketer):
    template = _create(project)
    template_request_approval(template=template, actor=marketer)
    with pytest.raises(PermissionDenied):
        template_approve(template=template, actor=marketer)
    with pytest.raises(PermissionDenied):
        template_reject(template=template, actor=marketer, reason="no")
    outsider = factories.UserFactory()
    with pytest.raises(NotFound):
        template_approve(template=template, actor=outsider)


def test_only_an_approved_template_can_be_deactivated(project):
    template = _create(project)
    with pytest.raises(Conflict):
        template_deactivate(template=template)
    with pytest.raises(Conflict):
        template_reactivate(template=template)


def test_only_a_draft_can_be_deleted(project):
    template = _create(project)
    template_request_approval(template=template)
    with pytest.raises(Conflict):
        template_delete(template=template)
    draft = _create(project, name="draft_one")
    template_delete(template=draft)
    assert not Template.objects.filter(name="draft_one").exists()


# --- chatbot keywords -----------------------------------------------------------------


def _keyword(project, **overrides) -> ChatbotKeyword:
    arguments = {"keyword": "PROMO", "template_name": "promo_reply", "response_text": "Diskon 20%!"}
    arguments.update(overrides)
    return keyword_create(project=project, **arguments)


def _keyword_errors(project, **overrides) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        _keyword(project, **overrides)
    return caught.value.fields


def _upload(name="promo.png", content=b"\x89PNG fake image", content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def test_a_keyword_is_stored_normalized(project):
    keyword = _keyword(project, keyword="  Halo   WAPPIN ")
    assert (keyword.keyword, keyword.normalized_keyword) == ("Halo   WAPPIN", "halo wappin")
    assert AuditEvent.objects.filter(action="keyword.create").exists()


def test_two_keywords_that_normalize_alike_are_refused(project):
    _keyword(project, keyword="promo")
    assert (
        "would answer the same message"
        in _keyword_errors(project, keyword="  PROMO!")["keyword"][0]
    )


def test_a_phrase_starting_with_an_existing_word_keyword_is_refused_and_the_other_way(project):
    _keyword(project, keyword="halo")
    assert "keyword" in _keyword_errors(project, keyword="halo wappin")
    other = factories.ProjectFactory()
    _keyword(other, keyword="halo wappin")
    assert "keyword" in _keyword_errors(other, keyword="HALO")


def test_phrases_sharing_a_first_word_may_both_exist(project):
    _keyword(project, keyword="halo wappin")
    _keyword(project, keyword="halo admin")


def test_a_keyword_without_letters_or_digits_is_refused(project):
    assert "keyword" in _keyword_errors(project, keyword="?!")


def test_a_text_response_needs_its_text(project):
    assert "response_text" in _keyword_errors(project, response_text="")


@pytest.mark.parametrize("response_type", ["image", "document", "audio"])
def test_a_media_response_needs_its_file(project, response_type):
    assert "response_media" in _keyword_errors(
        project, response_type=response_type, response_text=""
    )


def test_a_media_response_file_is_checked_against_whatsapps_types(project):
    fields = _keyword_errors(
        project,
        response_type="image",
        response_media=_upload("promo.gif", content_type="image/gif"),
    )
    assert "JPG, JPEG, PNG" in fields["response_media"][0]


def test_an_image_response_is_stored_with_its_caption(project):
    keyword = _keyword(
        project, response_type="image", response_text="", response_media=_upload(), caption="Promo!"
    )
    assert keyword.response_media.name.endswith(".png")
    assert keyword.caption == "Promo!"


@pytest.mark.parametrize("response_type", ["text", "audio"])
def test_a_caption_goes_only_with_an_image_or_document(project, response_type):
    media = _upload("voice.ogg", b"OggS", "audio/ogg") if response_type == "audio" else None
    assert "caption" in _keyword_errors(
        project, response_type=response_type, response_media=media, caption="Hi"
    )


def test_keyword_update_keeps_the_stored_file_unless_a_new_one_comes(project):
    keyword = _keyword(project, response_type="image", response_text="", response_media=_upload())
    stored = keyword.response_media.name
    keyword_update(chatbot_keyword=keyword, caption="New caption")
    keyword.refresh_from_db()
    assert (keyword.response_media.name, keyword.caption) == (stored, "New caption")


def test_keyword_update_checks_the_stored_file_against_a_new_type(project):
    keyword = _keyword(project, response_type="image", response_text="", response_media=_upload())
    with pytest.raises(ValidationFailed) as caught:
        keyword_update(chatbot_keyword=keyword, response_type="audio")
    assert "response_media" in caught.value.fields


def test_keyword_update_to_text_drops_the_file(project):
    keyword = _keyword(project, response_type="image", response_text="", response_media=_upload())
    keyword_update(chatbot_keyword=keyword, response_type="text", response_text="Now text")
    keyword.refresh_from_db()
    assert not keyword.response_media


def test_keyword_update_may_keep_its_own_keyword(project):
    keyword = _keyword(project, keyword="promo")
    keyword_update(chatbot_keyword=keyword, keyword="PROMO", is_active=False)
    keyword.refresh_from_db()
    assert (keyword.keyword, keyword.is_active) == ("PROMO", False)


def test_keyword_delete(project):
    keyword = _keyword(project)
    keyword_delete(chatbot_keyword=keyword)
    assert not ChatbotKeyword.objects.exists()
    assert AuditEvent.objects.filter(action="keyword.delete").exists()


# --- the project's default chatbot message ---------------------------------------------


def test_the_default_chatbot_message_is_updated(project, marketer):
    project_chatbot_settings_update(
        project=project, default_chatbot_message="  Halo! Ketik PROMO. ", actor=marketer
    )
    project.refresh_from_db()
    assert project.default_chatbot_message == "Halo! Ketik PROMO."


def test_the_default_chatbot_message_is_at_most_4096_characters(project):
    with pytest.raises(ValidationFailed):
        project_chatbot_settings_update(project=project, default_chatbot_message="x" * 4097)
