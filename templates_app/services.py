"""Writes on templates, chatbot keywords and the project's chatbot settings.

The web UI, the REST API and the Django admin all call these functions: one
path for each action, with the same checks and the same audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from projects.models import ApiKey, Project
from projects.roles import capability_require
from projects.services import audit_record
from projects.webhooks.models import WebhookEventType
from projects.webhooks.services import webhook_event_emit
from templates_app.media import media_check, media_head
from templates_app.models import (
    BODY_MAX_LENGTH,
    PLACEHOLDER_RE,
    ChatbotKeyword,
    Template,
    TemplateLanguage,
    TemplateStatusChange,
    placeholder_numbers,
)
from templates_app.selectors import keyword_normalize
from templates_app.signals import template_approval_requested, template_status_changed
from wappin_portal.errors import Conflict, ValidationFailed

# --- WhatsApp's limits on a template ---------------------------------------------
#
# Wappin's document only says "lowercase, number and underscore" for the name
# and shows a 1024-character counter under the content. The rest are WhatsApp's
# own rules for message templates, which Wappin forwards to WhatsApp's review;
# a template that breaks them is rejected days later, so we refuse it now:
#   - header: none, text (at most 60 characters, at most one variable, and it
#     must be {{1}}), or media (image or document; the file comes with each send);
#   - body: required, at most 1024 characters, variables {{1}}..{{n}} numbered
#     from 1 without gaps (a variable may appear more than once);
#   - footer: at most 60 characters, no variables;
#   - buttons: at most one URL button (an http(s) URL, which may end in one
#     variable {{1}} filled at send time), at most 3 quick-reply buttons (each
#     with a payload that comes back when the customer taps it), at most 3
#     buttons in all; a button's text at most 25 characters.
NAME_RE = re.compile(r"^[a-z0-9_]+$")
NAME_MAX_LENGTH = 512
LANGUAGE_CODE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,4})?$")
HEADER_TEXT_MAX_LENGTH = 60
FOOTER_MAX_LENGTH = 60
BUTTON_TEXT_MAX_LENGTH = 25
BUTTON_URL_MAX_LENGTH = 2000
QUICK_REPLY_PAYLOAD_MAX_LENGTH = 256
MAX_URL_BUTTONS = 1
MAX_QUICK_REPLIES = 3
MAX_BUTTONS = 3

LANGUAGE_FIELDS = ("language_code", "header_type", "header_text", "body", "footer", "buttons")


class _Errors:
    """Collects field-level errors so that a form shows every problem at once."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self.duplicate_code: str | None = None

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def add_duplicate(self, field: str, message: str, *, code: str) -> None:
        """A value another row of the project already has: a 409 when nothing else is wrong."""
        self.add(field, message)
        self.duplicate_code = code

    def raise_if_any(self, *, code: str = "invalid") -> None:
        if not self.fields:
            return
        first = next(iter(self.fields.values()))[0]
        if self.duplicate_code and len(self.fields) == 1:
            # As for contacts: the input is fine, but it clashes with what exists (409).
            raise ValidationFailed(
                first, fields=self.fields, code=self.duplicate_code, status_code=409
            )
        raise ValidationFailed(first, fields=self.fields, code=code)


def _placeholder_problem(text: str) -> str | None:
    """A `{{...}}` that is not a numbered variable, e.g. `{{name}}` or `{{ }}`."""
    if text.count("{{") != len(PLACEHOLDER_RE.findall(text)) or text.count("}}") != text.count(
        "{{"
    ):
        return _("Write variables as {{1}}, {{2}}, … (numbers in double braces).")
    return None


def _check_header(errors: _Errors, prefix: str, header_type: str, header_text: str) -> None:
    if header_type not in TemplateLanguage.HeaderType.values:
        errors.add(
            f"{prefix}header_type",
            _("Header type '%(type)s' is not one of none, text, image, document.")
            % {"type": header_type},
        )
        return
    if header_type != TemplateLanguage.HeaderType.TEXT:
        return
    field = f"{prefix}header_text"
    if not header_text:
        errors.add(field, _("A text header needs its text (or choose no header)."))
        return
    if len(header_text) > HEADER_TEXT_MAX_LENGTH:
        errors.add(
            field,
            _("The header is %(length)s characters; WhatsApp allows %(limit)s.")
            % {"length": len(header_text), "limit": HEADER_TEXT_MAX_LENGTH},
        )
    problem = _placeholder_problem(header_text)
    numbers = placeholder_numbers(header_text)
    if problem:
        errors.add(field, problem)
    elif len(numbers) > 1:
        errors.add(field, _("The header may have only one variable, {{1}}."))
    elif numbers and numbers != [1]:
        errors.add(field, _("The header's variable must be {{1}}."))


def _check_body(errors: _Errors, prefix: str, body: str) -> None:
    field = f"{prefix}body"
    if not body:
        errors.add(field, _("The body is required."))
        return
    if len(body) > BODY_MAX_LENGTH:
        errors.add(
            field,
            _("The body is %(length)s characters; WhatsApp allows %(limit)s.")
            % {"length": len(body), "limit": BODY_MAX_LENGTH},
        )
    problem = _placeholder_problem(body)
    if problem:
        errors.add(field, problem)
        return
    numbers = set(placeholder_numbers(body))
    if numbers:
        expected = set(range(1, max(numbers) + 1))
        if numbers != expected:
            missing = ", ".join(f"{{{{{n}}}}}" for n in sorted(expected - numbers)) or "{{1}}"
            if 0 in numbers:
                errors.add(field, _("Variables are numbered from {{1}}; {{0}} is not allowed."))
            else:
                errors.add(
                    field,
                    _("Variables must be numbered from {{1}} without gaps: %(missing)s is missing.")
                    % {"missing": missing},
                )


def _check_footer(errors: _Errors, prefix: str, footer: str) -> None:
    field = f"{prefix}footer"
    if len(footer) > FOOTER_MAX_LENGTH:
        errors.add(
            field,
            _("The footer is %(length)s characters; WhatsApp allows %(limit)s.")
            % {"length": len(footer), "limit": FOOTER_MAX_LENGTH},
        )
    if "{{" in footer:
        errors.add(field, _("The footer cannot have variables."))


def _clean_buttons(errors: _Errors, prefix: str, buttons: Any) -> list[dict]:
    field = f"{prefix}buttons"
    if buttons in (None, ""):
        return []
    if not isinstance(buttons, list) or not all(isinstance(b, dict) for b in buttons):
        errors.add(
            field,
            _(
                'Buttons are a list such as [{"type": "quick_reply", "text": "Yes", "payload": "yes"}].'
            ),
        )
        return []
    cleaned: list[dict] = []
    for number, button in enumerate(buttons, start=1):
        kind = str(button.get("type") or "").strip()
        text = str(button.get("text") or "").strip()
        label = _("Button %(number)s") % {"number": number}
        if kind not in ("url", "quick_reply"):
            errors.add(
                field,
                _("%(label)s: the type is 'url' or 'quick_reply', not '%(type)s'.")
                % {"label": label, "type": kind},
            )
            continue
        if not text:
            errors.add(field, _("%(label)s: the text is required.") % {"label": label})
        elif len(text) > BUTTON_TEXT_MAX_LENGTH:
            errors.add(
                field,
                _("%(label)s: the text is %(length)s characters; WhatsApp allows %(limit)s.")
                % {"label": label, "length": len(text), "limit": BUTTON_TEXT_MAX_LENGTH},
            )
        if kind == "url":
            url = str(button.get("url") or "").strip()
            parsed = urlparse(url.replace("{{1}}", "x"))
            if not url:
                errors.add(field, _("%(label)s: the URL is required.") % {"label": label})
            elif parsed.scheme not in ("http", "https") or not parsed.netloc or " " in url:
                errors.add(
                    field,
                    _("%(label)s: '%(url)s' is not an http(s) URL.") % {"label": label, "url": url},
                )
            elif len(url) > BUTTON_URL_MAX_LENGTH:
                errors.add(
                    field,
                    _("%(label)s: the URL is longer than %(limit)s characters.")
                    % {"label": label, "limit": BUTTON_URL_MAX_LENGTH},
                )
            elif "{{" in url and not (url.endswith("{{1}}") and url.count("{{") == 1):
                errors.add(
                    field,
                    _("%(label)s: a URL may only end in one variable, {{1}}.") % {"label": label},
                )
            cleaned.append({"type": "url", "text": text, "url": url})
        else:
            # The payload comes back in the callback when the customer taps the button;
            # the button's text is a fair default.
            payload = str(button.get("payload") or "").strip() or text
            if len(payload) > QUICK_REPLY_PAYLOAD_MAX_LENGTH:
                errors.add(
                    field,
                    _("%(label)s: the payload is longer than %(limit)s characters.")
                    % {"label": label, "limit": QUICK_REPLY_PAYLOAD_MAX_LENGTH},
                )
            cleaned.append({"type": "quick_reply", "text": text, "payload": payload})
    url_count = sum(1 for b in cleaned if b["type"] == "url")
    reply_count = len(cleaned) - url_count
    if url_count > MAX_URL_BUTTONS:
        errors.add(field, _("WhatsApp allows one URL button per template."))
    if reply_count > MAX_QUICK_REPLIES:
        errors.add(
            field,
            _("WhatsApp allows at most %(limit)s quick-reply buttons.")
            % {"limit": MAX_QUICK_REPLIES},
        )
    if len(cleaned) > MAX_BUTTONS:
        errors.add(
            field,
            _("WhatsApp allows at most %(limit)s buttons in all; this has %(count)s.")
            % {"limit": MAX_BUTTONS, "count": len(cleaned)},
        )
    texts = [b["text"].casefold() for b in cleaned if b["text"]]
    if len(texts) != len(set(texts)):
        errors.add(field, _("Two buttons have the same text."))
    return cleaned


def _clean_languages(errors: _Errors, languages: Any) -> list[dict]:
    """Check every language's content; return it cleaned, in order (the first is the default)."""
    if not isinstance(languages, list | tuple) or not languages:
        errors.add("languages", _("Add at least one language with its content."))
        return []
    cleaned: list[dict] = []
    seen: set[str] = set()
    for index, raw in enumerate(languages):
        prefix = f"languages.{index}."
        if not isinstance(raw, dict):
            errors.add(
                "languages", _("Language %(number)s is not an object.") % {"number": index + 1}
            )
            continue
        unknown = set(raw) - set(LANGUAGE_FIELDS) - {"id", "position"}
        if unknown:
            errors.add(
                "languages",
                _("Unknown field(s) %(fields)s in language %(number)s.")
                % {"fields": ", ".join(sorted(unknown)), "number": index + 1},
            )
        code = str(raw.get("language_code") or "").strip()
        header_type = str(raw.get("header_type") or TemplateLanguage.HeaderType.NONE).strip()
        header_text = str(raw.get("header_text") or "").strip() if header_type == "text" else ""
        body = str(raw.get("body") or "").strip()
        footer = str(raw.get("footer") or "").strip()
        if not code:
            errors.add(
                f"{prefix}language_code", _("The language code is required, e.g. id or en_US.")
            )
        elif not LANGUAGE_CODE_RE.match(code):
            errors.add(
                f"{prefix}language_code",
                _("'%(code)s' is not a WhatsApp language code such as id, en or en_US.")
                % {"code": code},
            )
        elif code.lower() in seen:
            errors.add(
                f"{prefix}language_code", _("Language '%(code)s' is there twice.") % {"code": code}
            )
        seen.add(code.lower())
        _check_header(errors, prefix, header_type, header_text)
        _check_body(errors, prefix, body)
        _check_footer(errors, prefix, footer)
        buttons = _clean_buttons(errors, prefix, raw.get("buttons"))
        cleaned.append(
            {
                "language_code": code,
                "header_type": header_type,
                "header_text": header_text,
                "body": body,
                "footer": footer,
                "buttons": buttons,
            }
        )
    return cleaned


def _check_name(
    errors: _Errors, *, project: Project, name: str, template: Template | None = None
) -> None:
    if not name:
        errors.add("name", _("The template name is required."))
    elif len(name) > NAME_MAX_LENGTH:
        errors.add(
            "name",
            _("The name is longer than %(limit)s characters.") % {"limit": NAME_MAX_LENGTH},
        )
    elif not NAME_RE.match(name):
        errors.add("name", _("Use lowercase letters, digits and '_' only, e.g. opening_message1."))
    else:
        others = Template.objects.filter(project=project, name=name)
        if template is not None:
            others = others.exclude(pk=template.pk)
        if others.exists():
            errors.add_duplicate(
                "name",
                _("%(project)s already has a template named '%(name)s'.")
                % {"project": project.name, "name": name},
                code="template_exists",
            )


def _check_message_type(errors: _Errors, message_type: str) -> None:
    if message_type not in Template.MessageType.values:
        allowed = ", ".join(Template.MessageType.values)
        errors.add(
            "message_type", _("The message type is one of %(allowed)s.") % {"allowed": allowed}
        )


def _languages_write(*, template: Template, languages: Iterable[dict]) -> None:
    template.languages.all().delete()
    TemplateLanguage.objects.bulk_create(
        TemplateLanguage(template=template, position=position, **content)
        for position, content in enumerate(languages)
    )


def _status_move(
    *,
    template: Template,
    to_status: str,
    actor: AbstractBaseUser | None,
    api_key: ApiKey | None = None,
    reason: str = "",
    action: str,
) -> Template:
    from_status = template.status
    template.status = to_status
    update_fields = ["status", "updated_at"]
    if to_status == Template.Status.REJECTED:
        template.rejection_reason = reason
        update_fields.append("rejection_reason")
    elif to_status == Template.Status.ON_PROCESS and template.rejection_reason:
        template.rejection_reason = ""
        update_fields.append("rejection_reason")
    template.save(update_fields=update_fields)
    TemplateStatusChange.objects.create(
        template=template,
        from_status=from_status,
        to_status=to_status,
        actor=actor if actor is not None and actor.is_authenticated else None,
        reason=reason,
    )
    audit_record(
        action=action,
        project=template.project,
        actor=actor,
        api_key=api_key,
        target=template.name,
        data={"from": from_status, "to": to_status, **({"reason": reason} if reason else {})},
    )
    webhook_event_emit(
        project_id=template.project_id,
        event_type=WebhookEventType.TEMPLATE_STATUS_CHANGED,
        data={
            "template": {"id": template.pk, "name": template.name},
            "from_status": from_status,
            "to_status": to_status,
            "reason": reason,
        },
    )
    template_status_changed.send(
        sender=Template, template=template, from_status=from_status, to_status=to_status
    )
    return template


def _locked_for_update(template: Template) -> Template:
    """The template's row, re-read and locked, so two requests cannot move it at once."""
    return (
        Template.objects.select_for_update(of=("self",))
        .select_related("project")
        .get(pk=template.pk)
    )


def _require(
    capability: str,
    project: Project,
    actor: AbstractBaseUser | None,
    api_key: ApiKey | None = None,
) -> None:
    """The caller's role must hold `capability` (projects.roles); no actor is the portal itself."""
    capability_require(project=project, capability=capability, actor=actor, api_key=api_key)


# --- Templates ---------------------------------------------------------------------


def template_validate(
    *,
    project: Project,
    name: str | None,
    message_type: str | None,
    languages: list[dict] | None,
    template: Template | None = None,
) -> list[dict] | None:
    """Check a template's parts (None: not given, kept); return its languages cleaned.

    Raises ValidationFailed with every problem, keyed by field
    (`name`, `message_type`, `languages`, `languages.<i>.<field>`).
    """
    errors = _Errors()
    if name is not None:
        _check_name(errors, project=project, name=name.strip(), template=template)
    if message_type is not None:
        _check_message_type(errors, message_type)
    cleaned = _clean_languages(errors, languages) if languages is not None else None
    errors.raise_if_any(code="template_invalid")
    return cleaned


@transaction.atomic
def template_create(
    *,
    project: Project,
    name: str,
    message_type: str = Template.MessageType.UTILITY,
    languages: list[dict],
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> Template:
    """A new draft template with its languages (the first one is the default)."""
    _require("template.manage", project, actor, api_key)
    name = (name or "").strip()
    cleaned = template_validate(
        project=project, name=name, message_type=message_type, languages=languages or []
    )
    template = Template.objects.create(
        project=project,
        name=name,
        message_type=message_type,
        status=Template.Status.DRAFT,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    _languages_write(template=template, languages=cleaned)
    TemplateStatusChange.objects.create(
        template=template,
        from_status="",
        to_status=Template.Status.DRAFT,
        actor=template.created_by,
    )
    audit_record(
        action="template.create", project=project, actor=actor, api_key=api_key, target=name
    )
    return template


def _refuse_if_locked(template: Template) -> None:
    if template.is_locked:
        raise Conflict(
            _(
                "Template '%(name)s' is %(status)s: you cannot edit a message template once its "
                "submission is 'On Process'. Create a new template instead."
            )
            % {"name": template.name, "status": template.get_status_display().lower()},
            code="template_locked",
        )


@transaction.atomic
def template_update(
    *,
    template: Template,
    name: str | None = None,
    message_type: str | None = None,
    languages: list[dict] | None = None,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> Template:
    """Change a draft or rejected template. `None` keeps a part; `languages` replaces them all.

    Refused once the template is on process, approved or inactive: Wappin says
    "You cannot edit message template once its submission is 'On Process'".
    """
    _require("template.manage", template.project, actor, api_key)
    template = _locked_for_update(template)
    _refuse_if_locked(template)
    name = name.strip() if name is not None else None
    cleaned = template_validate(
        project=template.project,
        name=name,
        message_type=message_type,
        languages=languages,
        template=template,
    )
    changed = []
    if name is not None and name != template.name:
        template.name = name
        changed.append("name")
    if message_type is not None and message_type != template.message_type:
        template.message_type = message_type
        changed.append("message_type")
    template.save(update_fields=[*changed, "updated_at"])
    if cleaned is not None:
        _languages_write(template=template, languages=cleaned)
        changed.append("languages")
    audit_record(
        action="template.update",
        project=template.project,
        actor=actor,
        api_key=api_key,
        target=template.name,
        data={"changed": changed},
    )
    return template


@transaction.atomic
def template_delete(
    *, template: Template, actor: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> None:
    """Delete a draft. A template that was ever requested is kept (deactivate it instead)."""
    _require("template.manage", template.project, actor, api_key)
    template = _locked_for_update(template)
    if template.status != Template.Status.DRAFT:
        raise Conflict(
            (
                _("Only a draft can be deleted; '%(name)s' is %(status)s. Deactivate it instead.")
                if template.status == Template.Status.APPROVED
                else _("Only a draft can be deleted; '%(name)s' is %(status)s.")
            )
            % {"name": template.name, "status": template.get_status_display().lower()},
            code="template_not_draft",
        )
    project, name = template.project, template.name
    template.delete()
    audit_record(
        action="template.delete", project=project, actor=actor, api_key=api_key, target=name
    )


@transaction.atomic
def template_request_approval(
    *, template: Template, actor: AbstractBaseUser | None = None, api_key: ApiKey | None = None
) -> Template:
    """Send a draft (or a rejected template, after its fixes) for review: it is locked from now on.

    The review happens outside this portal (Wappin's dashboard, then WhatsApp);
    an admin records its outcome with `template_approve` / `template_reject`.
    """
    _require("template.manage", template.project, actor, api_key)
    template = _locked_for_update(template)
    if template.status not in (Template.Status.DRAFT, Template.Status.REJECTED):
        raise Conflict(
            _(
                "Template '%(name)s' is %(status)s: only a draft or a rejected template can be "
                "requested."
            )
            % {"name": template.name, "status": template.get_status_display().lower()},
            code="template_not_requestable",
        )
    if not template.languages.exists():
        raise ValidationFailed(
            _("Add a language with its content first."), field="languages", code="template_invalid"
        )
    _status_move(
        template=template,
        to_status=Template.Status.ON_PROCESS,
        actor=actor,
        api_key=api_key,
        action="template.request_approval",
    )
    template_approval_requested.send(sender=Template, template=template)
    return template


def _require_status(template: Template, allowed: tuple[str, ...], what: str) -> None:
    if template.status not in allowed:
        raise Conflict(
            _("Template '%(name)s' is %(status)s: %(what)s.")
            % {
                "name": template.name,
                "status": template.get_status_display().lower(),
                "what": what,
            },
            code="template_status_invalid",
        )


@transaction.atomic
def template_approve(
    *, template: Template, actor: AbstractBaseUser | None = None, reason: str = ""
) -> Template:
    """Record WhatsApp's approval (Wappin's review happens outside its API). Admins only."""
    template = _locked_for_update(template)
    _require("template.decide", template.project, actor)
    _require_status(
        template, (Template.Status.ON_PROCESS,), _("only a template on process can be approved")
    )
    return _status_move(
        template=template,
        to_status=Template.Status.APPROVED,
        actor=actor,
        reason=reason,
        action="template.approve",
    )


@transaction.atomic
def template_reject(
    *, template: Template, reason: str, actor: AbstractBaseUser | None = None
) -> Template:
    """Record a rejection and why (shown to the marketer, who may fix and request again). Admins only."""
    template = _locked_for_update(template)
    _require("template.decide", template.project, actor)
    _require_status(
        template, (Template.Status.ON_PROCESS,), _("only a template on process can be rejected")
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why the template was rejected."), field="reason", code="reason_required"
        )
    return _status_move(
        template=template,
        to_status=Template.Status.REJECTED,
        actor=actor,
        reason=reason,
        action="template.reject",
    )


@transaction.atomic
def template_deactivate(
    *,
    template: Template,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
    reason: str = "",
) -> Template:
    """Stop an approved template from being sent (Wappin: "not found or inactive")."""
    _require("template.manage", template.project, actor, api_key)
    template = _locked_for_update(template)
    _require_status(
        template, (Template.Status.APPROVED,), _("only an approved template can be deactivated")
    )
    return _status_move(
        template=template,
        to_status=Template.Status.INACTIVE,
        actor=actor,
        api_key=api_key,
        reason=reason,
        action="template.deactivate",
    )


@transaction.atomic
def template_reactivate(
    *,
    template: Template,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
    reason: str = "",
) -> Template:
    """Bring a deactivated template back: it was approved, and its content has not changed since.

    Admins only: a deactivation is how a project stops a template, and a member must not
    be able to undo it (issue 10, finding 8).
    """
    template = _locked_for_update(template)
    _require("template.decide", template.project, actor, api_key)
    _require_status(
        template, (Template.Status.INACTIVE,), _("only an inactive template can be reactivated")
    )
    return _status_move(
        template=template,
        to_status=Template.Status.APPROVED,
        actor=actor,
        api_key=api_key,
        reason=reason,
        action="template.reactivate",
    )


# --- Chatbot keywords --------------------------------------------------------------

MEDIA_RESPONSE_TYPES = (
    ChatbotKeyword.ResponseType.IMAGE,
    ChatbotKeyword.ResponseType.DOCUMENT,
    ChatbotKeyword.ResponseType.AUDIO,
)
CAPTION_RESPONSE_TYPES = (ChatbotKeyword.ResponseType.IMAGE, ChatbotKeyword.ResponseType.DOCUMENT)


def keyword_overlap(
    *, project: Project, normalized_keyword: str, exclude_id: int | None = None
) -> ChatbotKeyword | None:
    """An existing keyword that would answer some message the new one answers too.

    With the matching rule of `keyword_match` (the whole message, or its first
    word), a one-word keyword "halo" answers every message that starts with
    "halo", so it overlaps the keyword "halo wappin": both would answer "halo
    wappin". Two keywords overlap when they are equal, or when one is a single
    word and it is the first word of the other. Refusing overlaps keeps the
    chatbot's answer to any message obvious: at most one keyword matches it.
    """
    first_word = normalized_keyword.split(" ", 1)[0]
    keywords = ChatbotKeyword.objects.filter(project=project)
    if exclude_id is not None:
        keywords = keywords.exclude(pk=exclude_id)
    if " " in normalized_keyword:
        # A phrase overlaps itself, and the one-word keyword it starts with.
        return keywords.filter(normalized_keyword__in={normalized_keyword, first_word}).first()
    # A word overlaps itself, and every phrase that starts with it.
    return (
        keywords.filter(normalized_keyword=normalized_keyword).first()
        or keywords.filter(normalized_keyword__startswith=f"{normalized_keyword} ").first()
    )


def keyword_validate(
    *,
    keyword: ChatbotKeyword,
    values: dict[str, Any],
    response_media: UploadedFile | None,
) -> None:
    """Check `values` and set them on the (unsaved) row `keyword`; raise every problem at once.

    The admin form calls it on a throw-away copy to show the problems on its fields.
    The checks run in the form's field order: the first problem is the error's message.
    """
    errors = _Errors()
    for field, value in values.items():
        setattr(
            keyword,
            field,
            value.strip() if isinstance(value, str) and field != "response_text" else value,
        )
    keyword.response_text = (keyword.response_text or "").strip()
    keyword.normalized_keyword = keyword_normalize(keyword.keyword)

    _keyword_word_check(keyword, errors)
    if not keyword.template_name:
        errors.add("template_name", _("The template name is required."))
    elif len(keyword.template_name) > 100:
        errors.add("template_name", _("The template name is longer than 100 characters."))
    if keyword.scenario not in ChatbotKeyword.Scenario.values:
        errors.add("scenario", _("The scenario is normal or chat_panel."))
    _keyword_response_check(keyword, response_media, errors)
    if keyword.caption and keyword.response_type not in CAPTION_RESPONSE_TYPES:
        errors.add("caption", _("A caption goes only with an image or a document."))
    elif len(keyword.caption or "") > 1024:
        errors.add("caption", _("The caption is longer than 1024 characters."))
    errors.raise_if_any(code="keyword_invalid")


def _keyword_word_check(keyword: ChatbotKeyword, errors: _Errors) -> None:
    """The word itself: present, not too long (as typed and once normalised), clashing with no other."""
    if not keyword.keyword:
        errors.add("keyword", _("The keyword is required."))
    elif not keyword.normalized_keyword:
        errors.add("keyword", _("The keyword needs at least one letter or digit."))
    elif len(keyword.keyword) > 100:
        errors.add("keyword", _("The keyword is longer than 100 characters."))
    elif (
        len(keyword.normalized_keyword)
        > ChatbotKeyword._meta.get_field("normalized_keyword").max_length
    ):
        # Case folding can lengthen a word ("ß" is "ss", "ﬃ" is "ffi"): the stored form must fit too.
        errors.add(
            "keyword",
            _(
                "The keyword is longer than 100 characters once its case is ignored (ß counts as ss)."
            ),
        )
    else:
        clash = keyword_overlap(
            project=keyword.project,
            normalized_keyword=keyword.normalized_keyword,
            exclude_id=keyword.pk,
        )
        if clash is not None:
            errors.add_duplicate(
                "keyword",
                _(
                    "'%(keyword)s' and the existing keyword '%(existing)s' would answer the same "
                    "message (a keyword matches the whole message or its first word)."
                )
                % {"keyword": keyword.keyword, "existing": clash.keyword},
                code="keyword_exists",
            )


def _keyword_response_check(
    keyword: ChatbotKeyword, response_media: UploadedFile | None, errors: _Errors
) -> None:
    """The answer: a text, or a file (uploaded now or stored before) that suits the response type."""
    response_type = keyword.response_type
    if response_type not in ChatbotKeyword.ResponseType.values:
        errors.add("response_type", _("The response type is text, image, document or audio."))
    elif response_type == ChatbotKeyword.ResponseType.TEXT:
        if not keyword.response_text:
            errors.add("response_text", _("A text response needs its text."))
        elif len(keyword.response_text) > 4096:
            errors.add("response_text", _("WhatsApp allows 4096 characters in a text message."))
        if response_media is not None:
            errors.add(
                "response_media",
                _("A text response has no file: choose image, document or audio."),
            )
    elif response_media is not None:
        _keyword_upload_check(response_type, response_media, errors)
    elif not keyword.response_media:
        needs_file = {
            ChatbotKeyword.ResponseType.IMAGE: _("An image response needs its file."),
            ChatbotKeyword.ResponseType.DOCUMENT: _("A document response needs its file."),
            ChatbotKeyword.ResponseType.AUDIO: _("An audio response needs its file."),
        }
        errors.add("response_media", needs_file[response_type])
    else:
        # The stored file must still suit the (possibly changed) response type.
        try:
            media_check(
                media_type=response_type,
                filename=keyword.response_media.name,
                size=keyword.response_media.size,
                field="response_media",
            )
        except (ValidationFailed, OSError) as exc:
            errors.add(
                "response_media",
                getattr(exc, "message", _("The stored file is missing: upload it again.")),
            )


def _keyword_upload_check(
    response_type: str, response_media: UploadedFile, errors: _Errors
) -> None:
    try:
        media_check(
            media_type=response_type,
            filename=response_media.name,
            size=response_media.size,
            content_type=getattr(response_media, "content_type", None),
            field="response_media",
            head=media_head(response_media),
        )
    except ValidationFailed as exc:
        for field, messages in exc.fields.items():
            for message in messages:
                errors.add(field, message)


def _keyword_store(
    *, keyword: ChatbotKeyword, response_media: UploadedFile | None
) -> ChatbotKeyword:
    old_file = keyword.response_media.name if keyword.pk and keyword.response_media else ""
    storage = keyword.response_media.storage
    if keyword.response_type == ChatbotKeyword.ResponseType.TEXT:
        keyword.response_media = ""
    elif response_media is not None:
        keyword.response_media.save(response_media.name, response_media, save=False)
    keyword.save()
    new_file = keyword.response_media.name if keyword.response_media else ""
    if old_file and old_file != new_file:
        # Only once the row points at the new file for good.
        transaction.on_commit(lambda: storage.delete(old_file))
    return keyword


@transaction.atomic
def keyword_create(
    *,
    project: Project,
    keyword: str,
    template_name: str,
    response_type: str = ChatbotKeyword.ResponseType.TEXT,
    scenario: str = ChatbotKeyword.Scenario.NORMAL,
    response_text: str = "",
    response_media: UploadedFile | None = None,
    caption: str = "",
    is_active: bool = True,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> ChatbotKeyword:
    _require("chatbot.manage", project, actor, api_key)
    row = ChatbotKeyword(project=project)
    keyword_validate(
        keyword=row,
        values={
            "keyword": keyword or "",
            "template_name": template_name or "",
            "response_type": response_type,
            "scenario": scenario,
            "response_text": response_text or "",
            "caption": caption or "",
            "is_active": is_active,
        },
        response_media=response_media,
    )
    _keyword_store(keyword=row, response_media=response_media)
    audit_record(
        action="keyword.create", project=project, actor=actor, api_key=api_key, target=row.keyword
    )
    return row


KEYWORD_EDITABLE = (
    "keyword",
    "template_name",
    "response_type",
    "scenario",
    "response_text",
    "caption",
    "is_active",
)


@transaction.atomic
def keyword_update(
    *,
    chatbot_keyword: ChatbotKeyword,
    response_media: UploadedFile | None = None,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
    **changes: Any,
) -> ChatbotKeyword:
    """Change a keyword's fields (any of KEYWORD_EDITABLE); a new file replaces the stored one."""
    _require("chatbot.manage", chatbot_keyword.project, actor, api_key)
    unknown = set(changes) - set(KEYWORD_EDITABLE)
    if unknown:
        raise TypeError(f"keyword_update() got unknown fields {sorted(unknown)}")
    row = (
        ChatbotKeyword.objects.select_for_update(of=("self",))
        .select_related("project")
        .get(pk=chatbot_keyword.pk)
    )
    keyword_validate(keyword=row, values=changes, response_media=response_media)
    _keyword_store(keyword=row, response_media=response_media)
    audit_record(
        action="keyword.update",
        project=row.project,
        actor=actor,
        api_key=api_key,
        target=row.keyword,
        data={
            "changed": sorted(changes) + (["response_media"] if response_media is not None else [])
        },
    )
    return row


@transaction.atomic
def keyword_delete(
    *,
    chatbot_keyword: ChatbotKeyword,
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> None:
    _require("chatbot.manage", chatbot_keyword.project, actor, api_key)
    project, text = chatbot_keyword.project, chatbot_keyword.keyword
    stored = chatbot_keyword.response_media.name if chatbot_keyword.response_media else ""
    storage = chatbot_keyword.response_media.storage
    chatbot_keyword.delete()
    if stored:
        transaction.on_commit(lambda: storage.delete(stored))
    audit_record(
        action="keyword.delete", project=project, actor=actor, api_key=api_key, target=text
    )


# --- The project's chatbot settings (Wappin: Account -> Official Account Number) ---


@transaction.atomic
def project_chatbot_settings_update(
    *,
    project: Project,
    default_chatbot_message: str,
    actor: AbstractBaseUser | None = None,
) -> Project:
    """The message the chatbot sends when a customer's text matches no keyword."""
    _require("chatbot.manage", project, actor)
    message = (default_chatbot_message or "").strip()
    if len(message) > 4096:
        raise ValidationFailed(
            _("WhatsApp allows 4096 characters in a text message."),
            field="default_chatbot_message",
        )
    before = (
        Project.objects.filter(pk=project.pk)
        .values_list("default_chatbot_message", flat=True)
        .first()
    )
    project.default_chatbot_message = message
    project.save(update_fields=["default_chatbot_message", "updated_at"])
    audit_record(
        action="project.chatbot_settings",
        project=project,
        actor=actor,
        target=project.name,
        data={
            "before": {"default_chatbot_message": before},
            "after": {"default_chatbot_message": message},
        },
    )
    return project
