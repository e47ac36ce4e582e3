"""Reads on templates and chatbot keywords: what sending and the chatbot ask of this app."""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from projects.models import Project
from templates_app.models import (
    PLACEHOLDER_RE,
    ChatbotKeyword,
    Template,
    TemplateLanguage,
    TemplateStatusChange,
)
from wappin_portal.errors import Conflict, NotFound, ValidationFailed


def template_list(*, project: Project, status: str = "", name: str = "") -> QuerySet[Template]:
    """A project's templates with their languages, by name; `status` exact, `name` a part of it."""
    templates = (
        Template.objects.filter(project=project)
        .prefetch_related("languages")
        .order_by("name", "id")
    )
    if status:
        templates = templates.filter(status=status)
    if name:
        templates = templates.filter(name__icontains=name)
    return templates


def template_get(*, project: Project, template_id: int) -> Template:
    """One template of the project with its languages; another project's id is simply not found."""
    template = template_list(project=project).filter(pk=_pk(template_id)).first()
    if template is None:
        raise NotFound(
            _("No template %(id)s in this project.") % {"id": template_id},
            code="template_not_found",
        )
    template.project = project  # the caller's instance: no second read
    return template


def template_status_get(*, project: Project, template_id: int) -> Template:
    """Only what the template page's live status shows (a cheap read, polled): status and reason."""
    template = (
        Template.objects.filter(project=project, pk=_pk(template_id))
        .only("pk", "name", "status", "rejection_reason")
        .first()
    )
    if template is None:
        raise NotFound(
            _("No template %(id)s in this project.") % {"id": template_id},
            code="template_not_found",
        )
    return template


def template_status_history(*, template: Template) -> QuerySet[TemplateStatusChange]:
    """Who moved the template between statuses, oldest first."""
    return template.status_changes.select_related("actor")


def _pk(value) -> int | None:
    """An id from a URL or a form; anything that is not a number matches no row."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def template_language_resolve(
    *, project: Project, template_name: str, language_code: str = "", require_approved: bool = True
) -> TemplateLanguage:
    """The content a send uses: the template's language `language_code`, or its first one.

    Wappin's rule ("language code, if it's empty use the first key of the
    template") lives here and nowhere else. A template must be approved to be
    sent; Wappin answers 404 "not found or inactive" otherwise, we say why.
    `require_approved=False` is for previews, which any draft may have.
    """
    name = (template_name or "").strip()
    template = Template.objects.filter(project=project, name=name).first()
    if template is None:
        raise NotFound(
            _("%(project)s has no template named '%(name)s'.")
            % {"project": project.name, "name": name},
            code="template_not_found",
            field="type",
        )
    languages = template.languages.all()  # ordered by position: the first is the default
    code = (language_code or "").strip()
    language = languages.filter(language_code=code).first() if code else languages.first()
    if language is None:
        available = ", ".join(languages.values_list("language_code", flat=True)) or _("none")
        raise NotFound(
            _("Template '%(name)s' has no language '%(code)s' (it has: %(available)s).")
            % {"name": name, "code": code, "available": available}
            if code
            else _("Template '%(name)s' has no content in any language yet.") % {"name": name},
            code="template_not_found",
            field="type",
        )
    if require_approved and template.status != Template.Status.APPROVED:
        raise Conflict(
            _("Template '%(name)s' is %(status)s, not approved: it cannot be sent yet.")
            % {"name": name, "status": template.get_status_display().lower()},
            code="template_not_approved",
            field="type",
        )
    return language


def _numbered_keys(count: int) -> list[str]:
    return [str(number) for number in range(1, count + 1)]


def template_send_params_check(
    *,
    language: TemplateLanguage,
    params: dict,
    header_param: str | None,
    button_url: str | None,
    reply_payloads: dict | None,
    has_media: bool,
) -> None:
    """Refuse, before any call to Wappin, a send whose parts do not fit the template.

    Checks, each reported on its own field: `params` carries exactly the keys
    "1".."n" of the body's `{{n}}`, none empty (Wappin: "Message param count do
    not match"); `header_param` is given where, and only where, the header text
    has `{{1}}`; `media` is given where, and only where, the header is an image
    or a document (its file type and size are `templates_app.media.media_check`'s
    job); `button_url` where the URL button ends in a variable, and nowhere
    else; `reply_payloads` keyed "1".."k" for no more than the template's k
    quick-reply buttons.
    """
    problems = [
        problem
        for problem in (
            _body_params_problem(language, params),
            _header_param_problem(language, header_param),
            _header_media_problem(language, has_media),
            _button_url_problem(language, button_url),
            _reply_payloads_problem(language, reply_payloads),
        )
        if problem is not None
    ]
    if problems:
        # One code for this cause whatever else failed; `fields` says which part is wrong.
        raise ValidationFailed(
            problems[0].message,
            fields={problem.field: [problem.message] for problem in problems},
            code="template_params_invalid",
        )


class _Problem(NamedTuple):
    """What is wrong with one part of a send: its field and a message for people.

    The error's code is one for every part (`template_params_invalid`); the field says which.
    """

    field: str
    message: str


def _given(value) -> bool:
    return value is not None and str(value).strip() != ""


def _body_params_problem(language: TemplateLanguage, params) -> _Problem | None:
    """`params` carries exactly the keys "1".."n" of the body's `{{n}}`, none empty."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return _Problem("params", _('Params must be an object such as {"1": "Budi"}.'))
    expected = language.body_param_count
    given = {str(key).strip(): value for key, value in params.items()}
    wanted = _numbered_keys(expected)
    if sorted(given, key=lambda k: (len(k), k)) != wanted:
        shown = ", ".join(f'"{key}"' for key in wanted) or _("none")
        values = {
            "name": language.template.name,
            "language": language.language_code,
            "count": expected,
            "shown": shown,
            "given": len(given),
            "keys": ", ".join(repr(k) for k in given),
        }
        return _Problem(
            "params",
            (
                ngettext(
                    "Template '%(name)s' [%(language)s] takes %(count)s param (%(shown)s); "
                    "%(given)s given (%(keys)s).",
                    "Template '%(name)s' [%(language)s] takes %(count)s params (%(shown)s); "
                    "%(given)s given (%(keys)s).",
                    expected,
                )
                if given
                else ngettext(
                    "Template '%(name)s' [%(language)s] takes %(count)s param (%(shown)s); "
                    "%(given)s given.",
                    "Template '%(name)s' [%(language)s] takes %(count)s params (%(shown)s); "
                    "%(given)s given.",
                    expected,
                )
            )
            % values,
        )
    empty = [key for key in wanted if not _given(given[key])]
    if empty:
        return _Problem(
            "params",
            _("Param %(keys)s is empty: give every param a value.") % {"keys": ", ".join(empty)},
        )
    return None


def _header_param_problem(language: TemplateLanguage, header_param) -> _Problem | None:
    if language.header_has_param and not _given(header_param):
        return _Problem(
            "header_param",
            _("This template's header has a variable {{1}}: give its value."),
        )
    if _given(header_param) and not language.header_has_param:
        return _Problem(
            "header_param",
            _("This template's header has no variable: leave the header param out."),
        )
    return None


def _header_media_problem(language: TemplateLanguage, has_media: bool) -> _Problem | None:
    if language.header_is_media and not has_media:
        return _Problem(
            "media",
            _("This template's header is %(type)s: attach the file.")
            % {"type": language.get_header_type_display().lower()},
        )
    if has_media and not language.header_is_media:
        return _Problem(
            "media",
            _("This template's header is not media: send it without a file."),
        )
    return None


def _button_url_problem(language: TemplateLanguage, button_url) -> _Problem | None:
    if language.url_button_has_param and not _given(button_url):
        return _Problem(
            "button_url",
            _("This template's URL button ends in a variable: give its value."),
        )
    if _given(button_url) and not language.url_button_has_param:
        return _Problem(
            "button_url",
            _("This template has no URL button with a variable: leave the button URL out."),
        )
    return None


def _reply_payloads_problem(language: TemplateLanguage, reply_payloads) -> _Problem | None:
    """`reply_payloads` keyed "1".."k" for no more than the template's k quick-reply buttons."""
    if not reply_payloads:
        return None
    limit = language.quick_reply_count
    if not isinstance(reply_payloads, dict):
        return _Problem(
            "reply_payloads", _('Reply payloads must be an object such as {"1": "yes"}.')
        )
    if len(reply_payloads) > limit:
        return _Problem(
            "reply_payloads",
            ngettext(
                "This template has %(count)s quick-reply button; %(given)s payloads given.",
                "This template has %(count)s quick-reply buttons; %(given)s payloads given.",
                limit,
            )
            % {"count": limit, "given": len(reply_payloads)},
        )
    allowed = set(_numbered_keys(limit))
    wrong = [str(key) for key in reply_payloads if str(key).strip() not in allowed]
    if wrong:
        return _Problem(
            "reply_payloads",
            _(
                "Reply payload keys are the quick-reply buttons' numbers (1..%(limit)s); "
                "%(keys)s is not one."
            )
            % {"limit": limit, "keys": ", ".join(wrong)},
        )
    empty = [str(key) for key, value in reply_payloads.items() if not _given(value)]
    if empty:
        return _Problem(
            "reply_payloads",
            _("Reply payload %(keys)s is empty.") % {"keys": ", ".join(empty)},
        )
    return None


# --- Chatbot keywords ------------------------------------------------------------

# Characters a customer puts around a word without meaning anything by them:
# sentence punctuation, quotes and WhatsApp's own formatting marks (*bold*, _italic_, ~strike~).
KEYWORD_TRIM = " \t\r\n.,!?;:'\"*_~()[]"


def keyword_normalize(text: str) -> str:
    """The form in which keywords are stored and messages compared: the one place it is made.

    Case-insensitive (casefold), spaces folded to one and trimmed, and the
    punctuation or formatting a customer types around a word dropped
    ("Promo!", "*PROMO*" and "  promo " are all "promo").
    """
    words = [word.strip(KEYWORD_TRIM) for word in (text or "").casefold().split()]
    return " ".join(word for word in words if word)


def keyword_list(*, project: Project) -> QuerySet[ChatbotKeyword]:
    return ChatbotKeyword.objects.filter(project=project).order_by("normalized_keyword", "id")


def keyword_get(*, project: Project, keyword_id: int) -> ChatbotKeyword:
    keyword = keyword_list(project=project).filter(pk=_pk(keyword_id)).first()
    if keyword is None:
        raise NotFound(
            _("No chatbot keyword %(id)s in this project.") % {"id": keyword_id},
            code="keyword_not_found",
        )
    keyword.project = project  # the caller's instance: no second read
    return keyword


def keyword_match(*, project: Project, text: str) -> ChatbotKeyword | None:
    """The active keyword a customer's message triggers, or None (the default message then).

    The rule, chosen for people typing on a phone: the message matches a
    keyword when, normalised (`keyword_normalize`), the whole message is the
    keyword ("halo wappin") or its first word is ("promo please" -> "promo").
    The whole-message match wins. Keyword creation keeps two keywords of a
    project from ever matching the same text, so at most one answers.
    """
    normalized = keyword_normalize(text)
    if not normalized:
        return None
    first_word = normalized.split(" ", 1)[0]
    candidates = {
        keyword.normalized_keyword: keyword
        for keyword in ChatbotKeyword.objects.filter(
            project=project, is_active=True, normalized_keyword__in={normalized, first_word}
        )
    }
    return candidates.get(normalized) or candidates.get(first_word)


# --- Preview ----------------------------------------------------------------------


def _sample(number: int) -> str:
    """A param with no value yet; the template editor's script writes the same ("sample" label)."""
    return _("[sample %(number)s]") % {"number": number}


def _fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER_RE.sub(
        lambda match: values.get(match.group(1)) or _sample(int(match.group(1))), text or ""
    )


def template_preview(
    *,
    language: TemplateLanguage,
    params: dict | None = None,
    header_param: str | None = None,
    button_url: str | None = None,
) -> dict:
    """The message as a customer would see it: header, body, footer and buttons.

    Given params fill their `{{n}}`; a missing one shows as "[sample n]", so a
    template can be previewed before anyone has values for it.
    """
    values = {
        str(key).strip(): str(value)
        for key, value in (params or {}).items()
        if value not in (None, "")
    }
    header: dict | None = None
    if language.header_type == TemplateLanguage.HeaderType.TEXT:
        header = {
            "type": "text",
            "text": _fill(language.header_text, {"1": header_param} if header_param else {}),
        }
    elif language.header_is_media:
        header = {"type": language.header_type, "text": ""}
    buttons = []
    for button in language.buttons:
        shown = {"type": button.get("type"), "text": button.get("text", "")}
        if button.get("type") == "url":
            shown["url"] = _fill(button.get("url", ""), {"1": button_url} if button_url else {})
        else:
            shown["payload"] = button.get("payload", "")
        buttons.append(shown)
    return {
        "template": language.template.name,
        "language_code": language.language_code,
        "header": header,
        "body": _fill(language.body, values),
        "footer": language.footer,
        "buttons": buttons,
        "param_count": language.body_param_count,
        "header_has_param": language.header_has_param,
    }
