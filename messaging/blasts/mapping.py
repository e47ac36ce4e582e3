"""A blast's mapping: where each of a template's variables takes its value, checked and resolved.

Each `{{n}}` (and the header's and URL button's `{{1}}`) is mapped to a fixed
text or a contact field (name, phone, an attribute). `blast_plan_check` checks a
blast's content against its template before anything is sent;
`blast_value_resolve` gives a mapping's value for one contact.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.files import File
from django.utils.translation import gettext as _

from messaging.models import Blast, Contact, ContactGroup
from projects.models import Project
from templates_app.media import media_check, media_head
from templates_app.models import TemplateLanguage
from templates_app.selectors import template_language_resolve, template_send_params_check
from wappin_portal.errors import ApplicationError, ValidationFailed

ValueSource = Blast.ValueSource


def _slot_label(slot: str) -> str:
    """'1' -> '{{1}}', 'header_param' -> 'the header {{1}}', 'button_url' -> 'the URL button {{1}}'."""
    if slot == "header_param":
        return _("the header {{1}}")
    if slot == "button_url":
        return _("the URL button {{1}}")
    return f"{{{{{slot}}}}}"


def _mapping_clean(mapping, *, slot: str, errors: dict[str, list[str]]) -> dict:
    """A mapping {"source", "value"} as stored, or an error on the slot's form field."""
    field = f"param_{slot}" if slot.isdigit() else slot
    if not isinstance(mapping, dict) or mapping.get("source") not in ValueSource.values:
        errors.setdefault(field, []).append(
            _("Choose where %(slot)s comes from.") % {"slot": _slot_label(slot)}
        )
        return {}
    source = mapping["source"]
    value = str(mapping.get("value") or "").strip()
    if source == ValueSource.FIXED and not value:
        errors.setdefault(field, []).append(
            _("Type the text for %(slot)s.") % {"slot": _slot_label(slot)}
        )
    elif source == ValueSource.ATTRIBUTE and not value:
        errors.setdefault(field, []).append(
            _("Type the name of the contact attribute for %(slot)s (e.g. city).")
            % {"slot": _slot_label(slot)}
        )
    if source in (ValueSource.NAME, ValueSource.PHONE):
        value = ""
    return {"source": source, "value": value}


def _sample(mapping: dict) -> str:
    """A stand-in value to check the mapping's shape against the template (a field's value varies per contact)."""
    return (
        mapping["value"]
        if mapping.get("source") == ValueSource.FIXED
        else f"[{mapping.get('source')}]"
    )


def blast_value_missing_reason(*, mapping: dict, slot: str) -> str:
    """What a refused contact is told when a mapping gives it no value."""
    if mapping.get("source") == ValueSource.NAME:
        return _("The contact has no name, needed for %(slot)s.") % {"slot": _slot_label(slot)}
    return _("The contact has no '%(attribute)s' attribute, needed for %(slot)s.") % {
        "attribute": mapping.get("value", ""),
        "slot": _slot_label(slot),
    }


def blast_value_resolve(*, mapping: dict, contact: Contact, slot: str) -> str:
    """The value a mapping gives for one contact; a contact that lacks it is refused with the reason."""
    source = mapping.get("source")
    key = mapping.get("value", "")
    if source == ValueSource.FIXED:
        return key
    if source == ValueSource.PHONE:
        return contact.phone_number
    if source == ValueSource.NAME:
        value = contact.name
    else:
        raw = (contact.attributes or {}).get(key) if isinstance(contact.attributes, dict) else None
        value = "" if raw is None else str(raw)
    if not str(value).strip():
        raise ValidationFailed(
            blast_value_missing_reason(mapping=mapping, slot=slot),
            field=f"param_{slot}" if slot.isdigit() else slot,
            code="contact_value_missing",
        )
    return str(value).strip()


@dataclass(frozen=True)
class BlastPlan:
    """A blast's checked content: the template language and the cleaned mappings."""

    language: TemplateLanguage
    params: dict
    header_param: dict
    button_url: dict


def blast_plan_check(
    *,
    project: Project,
    template_name: str,
    language_code: str = "",
    params: dict | None,
    header_param: dict | None = None,
    button_url: dict | None = None,
    media: File | None = None,
    group: ContactGroup | None = None,
) -> BlastPlan:
    """Check a blast's content against its template before anything is sent.

    Field errors are keyed by the blast form's fields: `template`, `param_<n>`,
    `header_param`, `button_url`, `media`, `group`. The template checks are the
    templates app's own (`template_language_resolve`, `template_send_params_check`),
    run with a stand-in value for each contact field.
    """
    try:
        language = template_language_resolve(
            project=project, template_name=template_name, language_code=language_code
        )
    except ApplicationError as error:
        raise ValidationFailed(error.message, field="template", code=error.code) from error
    if group is not None and group.project_id != project.pk:
        raise ValidationFailed(
            _("Choose one of this project's groups."), field="group", code="group_not_found"
        )
    errors: dict[str, list[str]] = {}
    params = params or {}
    cleaned_params = {
        str(number): _mapping_clean(params.get(str(number)), slot=str(number), errors=errors)
        for number in range(1, language.body_param_count + 1)
    }
    cleaned_header = (
        _mapping_clean(header_param, slot="header_param", errors=errors)
        if language.header_has_param
        else {}
    )
    cleaned_button = (
        _mapping_clean(button_url, slot="button_url", errors=errors)
        if language.url_button_has_param
        else {}
    )
    if not errors:
        try:
            template_send_params_check(
                language=language,
                params={number: _sample(mapping) for number, mapping in cleaned_params.items()},
                header_param=_sample(cleaned_header) if cleaned_header else None,
                button_url=_sample(cleaned_button) if cleaned_button else None,
                reply_payloads=None,
                has_media=bool(media),
            )
        except ValidationFailed as error:
            for field, messages in (error.fields or {"": [error.message]}).items():
                errors.setdefault("param_1" if field == "params" else field, []).extend(messages)
    if media and language.header_is_media and "media" not in errors:
        try:
            media_check(
                media_type=language.header_type,
                filename=(media.name or "").rsplit("/", 1)[-1],
                size=media.size,
                content_type=getattr(media, "content_type", None),
                head=media_head(media),
            )
        except ValidationFailed as error:
            errors.setdefault("media", []).append(error.message)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, fields=errors, code="blast_invalid")
    return BlastPlan(
        language=language,
        params=cleaned_params,
        header_param=cleaned_header,
        button_url=cleaned_button,
    )


# --- the REST API's shape of a mapping -----------------------------------------------------
# {"text": "INV-1"} is a fixed text; {"contact_field": "name" | "phone_number" | "<attribute>"}
# a field of each contact ("attributes.city" and "city" both read the attribute `city`).

_API_FIELDS = {
    "name": ValueSource.NAME,
    "phone_number": ValueSource.PHONE,
    "phone": ValueSource.PHONE,
}


def blast_mapping_from_api(value: object) -> object:
    """The stored mapping of an API value; anything else is passed on for `blast_plan_check` to refuse."""
    if not isinstance(value, dict):
        return value
    if "text" in value:
        return {
            "source": ValueSource.FIXED,
            "value": "" if value["text"] is None else str(value["text"]),
        }
    field = str(value.get("contact_field") or "").strip()
    if not field:
        return {}
    if field in _API_FIELDS:
        return {"source": _API_FIELDS[field]}
    return {"source": ValueSource.ATTRIBUTE, "value": field.removeprefix("attributes.")}


def blast_mapping_to_api(mapping: dict) -> dict | None:
    if not mapping:
        return None
    source = mapping.get("source")
    if source == ValueSource.FIXED:
        return {"text": mapping.get("value", "")}
    if source == ValueSource.NAME:
        return {"contact_field": "name"}
    if source == ValueSource.PHONE:
        return {"contact_field": "phone_number"}
    return {"contact_field": mapping.get("value", "")}
