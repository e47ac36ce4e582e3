"""Descriptions for the schema's fields and parameters that have no `help_text` of their own.

A field's `help_text` (on the serializer or the model) wins; this glossary covers the
rest, by component and name, then by name alone where a name means one thing across the
API. `schema_descriptions_fill` (a drf-spectacular post-processing hook) applies it, and
`tests/test_error_catalogue.py` checks that no field or parameter is left undescribed.
"""

from __future__ import annotations

import re

BY_NAME: dict[str, str] = {
    "id": "The object's id (unique in the portal).",
    "created_at": "When it was created (ISO 8601, with the time zone).",
    "updated_at": "When it last changed (ISO 8601).",
    "started_at": "When it started (ISO 8601); null until then.",
    "finished_at": "When it finished (ISO 8601); null until then.",
    "sent_at": "When Wappin accepted it for WhatsApp (ISO 8601); null until then.",
    "delivered_at": "When it reached the customer's phone (ISO 8601); null until then.",
    "read_at": "When the customer read it (ISO 8601); null until then.",
    "failed_at": "When it failed (ISO 8601); null unless it failed.",
    "scheduled_at": "When it is to start (ISO 8601); null: started by hand.",
    "phone_number": "The customer's number, normalised with its country code (62812...).",
    "recipient_number": "The customer's number: 0812..., +62 812... or 62812....",
    "template_name": "The name of a template of the project.",
    "template_id": "The template's id.",
    "language_code": "One of the template's languages (e.g. id, en).",
    "params": 'The body\'s {{n}} values, keyed "1".."n".',
    "header": '`{"param": "..."}` for the header\'s {{1}}.',
    "button": '`{"url": "...", "reply_payload": {"1": "..."}}` for the buttons.',
    "header_param": "The value of the header's {{1}}; empty if none.",
    "button_url": "The value of the URL button's {{1}}; empty if none.",
    "reply_payloads": 'The quick replies\' payloads, keyed "1".."k".',
    "text": "The text of a text message; empty for others.",
    "caption": "The caption under an image or a document; empty if none.",
    "wappin_message_id": "Wappin's id of the message; empty until Wappin accepts it.",
    "message_id": "The message's id in the portal; null if none was made.",
    "failure_code": "Wappin's (or the portal's) code of the failure; empty unless it failed.",
    "failure_reason": "Why it failed, for people; empty unless it failed.",
    "direction": "`out`: sent by the project; `in`: sent by a customer.",
    "kind": "What was sent: a template (`hsm`, `hsm_media`), a `text` or a `media`.",
    "source": "Who sent it: an API key, a user, a blast, the chatbot, or a customer.",
    "send_attempts": "How many times the portal handed it to Wappin.",
    "next": "The next page's URL; null on the last page.",
    "previous": "The previous page's URL; null on the first page.",
    "results": "This page's objects.",
    "contact_id": "The contact's id; null if the contact was deleted.",
    "attributes": "Any extra values of the contact (text keys and values), for blasts' columns.",
    "groups": "The names of the contact's groups.",
    "last_inbound_at": "When the customer last wrote to the project (opens the 24-hour window).",
    "is_opted_out": "Whether the customer sent STOP (no marketing templates then).",
    "opted_out_at": "When the customer sent STOP; null if they did not.",
    "keyword": "What a customer types: the whole message or its first word, any case.",
    "normalized_keyword": "The keyword as matched: lower case, single spaces.",
    "scenario": "`normal`: the chatbot answers; `chat_panel`: a person answers in Wappin's panel.",
    "response_type": "What the chatbot answers with: text, image, document or audio.",
    "response_text": "The answer's text (text answers).",
    "response_media": "The answer's file URL (image, document, audio answers); null for text.",
    "is_active": "Whether the keyword answers now.",
    "message_type": "WhatsApp's category: utility, marketing or authentication.",
    "rejection_reason": "Why WhatsApp rejected it; empty unless rejected.",
    "languages": "Its languages in order; the first is the default.",
    "position": "The language's place: 0 is the default.",
    "header_type": "none, text, image or document.",
    "header_text": "The header's text (text headers); may hold {{1}}.",
    "body": "The message's text, with {{1}}, {{2}}, ... for params.",
    "footer": "A short line under the body; empty if none.",
    "buttons": "Up to one URL button and three quick replies.",
    "body_param_count": "How many {{n}} the body has.",
    "header_has_param": "Whether the header text has {{1}}.",
    "header_is_media": "Whether the header is an image or a document.",
    "url_button_has_param": "Whether the URL button ends in {{1}}.",
    "quick_reply_count": "How many quick-reply buttons it has.",
    "type": "What kind of button: `url` or `quick_reply`.",
    "group_name": "The contact group's name; empty: every contact of the project.",
    "status_reason": "Why it is in this status (paused, cancelled, finished early); empty if none.",
    "counts": "How many recipients are in each status.",
    "reasons": "The failures' and refusals' reasons, with how many each.",
    "count": "How many.",
    "reason": "Why, for people.",
    "code": "A machine code for the reason.",
    "failed": "How many failed.",
    "refused": "How many the portal refused before sending.",
    "sent": "How many Wappin accepted.",
    "delivered": "How many reached the phone.",
    "read": "How many were read.",
    "filename": "The uploaded file's name.",
    "total_rows": "The file's rows (the heading row aside).",
    "imported": "Rows that made a new contact.",
    "row": "The row's number in the file.",
    "value": "The row's phone value as given.",
    "error": "The error: see the catalogue in docs/api.md.",
    "param_count": "How many {{n}} the body has.",
    "template": "The template's name.",
    "applied": "Whether this step moved the message's status (a late step is kept, not applied).",
    "detail": "What the step said (Wappin's words, a reason); may be empty.",
    "occurred_at": "When the step happened, as its source tells (Wappin's times are whole seconds).",
}

BY_COMPONENT: dict[tuple[str, str], str] = {
    # Webhook endpoints and their delivery log (docs/webhooks.md).
    ("WebhookEndpoint", "url"): "Where the portal POSTs the events: https:// on a public address.",
    ("WebhookEndpoint", "description"): "A note for people: what the endpoint is for.",
    ("WebhookEndpoint", "event_types"): "The events sent to it (message.sent, message.read, ...; "
    "see docs/webhooks.md).",
    ("WebhookEndpoint", "disabled_at"): "When the portal disabled it after 3 days of failed "
    "deliveries; null while it is active.",
    ("WebhookEndpoint", "disabled_reason"): "Why it was disabled; empty while it is active.",
    ("WebhookEndpoint", "failing_since"): "Since when every delivery to it failed; null when "
    "the last one succeeded.",
    ("WebhookEndpoint", "previous_secret_expires_at"): "Until when the secret before the last "
    "rotation still signs (a second signature); null when there is none.",
    ("WebhookEndpointInput", "description"): "A note for people: what the endpoint is for.",
    ("WebhookDelivery", "webhook_id"): "The event's `webhook-id` header: the same on every "
    "attempt and resend (receivers drop one they have).",
    ("WebhookDelivery", "event_type"): "The event (message.sent, contact.opted_out, ...).",
    ("WebhookDelivery", "status"): "pending (due or retrying), delivered or failed (gave up).",
    ("WebhookDelivery", "attempts"): "How many times it was sent.",
    ("WebhookDelivery", "next_attempt_at"): "When it is sent next; null when settled.",
    ("WebhookDelivery", "last_response_code"): "The HTTP status of the last answer; null if "
    "there was none (timeout, refused connection).",
    ("WebhookDelivery", "last_error"): "What went wrong last; empty if nothing did.",
    ("WebhookDelivery", "payload"): "The body sent: `{type, timestamp, data}`.",
    ("WebhookDelivery", "attempt_log"): "Every attempt, oldest first.",
    ("WebhookAttempt", "attempted_at"): "When the attempt was made (ISO 8601).",
    ("WebhookAttempt", "request_headers"): "The headers sent, the signature left out.",
    ("WebhookAttempt", "response_code"): "The receiver's HTTP status; null if it did not answer.",
    ("WebhookAttempt", "response_excerpt"): "The start of the receiver's answer (2 KB at most).",
    ("WebhookAttempt", "duration_ms"): "How long the attempt took, in milliseconds.",
    ("Message", "status"): "queued, sending, unknown, sent, delivered, read, failed, cancelled "
    "or received (customers' messages).",
    ("StatusEvent", "status"): "The status this step reports.",
    ("StatusEvent", "source"): "Where the step was learnt: the portal, Wappin's send answer, "
    "a callback or an inquiry.",
    ("Blast", "status"): "draft, scheduled, running, paused, finished or cancelled.",
    ("Blast", "name"): "The blast's name, for people.",
    ("BlastWrite", "name"): "The blast's name, for people.",
    ("BlastRecipient", "status"): "queued, sent, delivered, read, failed, cancelled or refused.",
    ("BlastRecipient", "name"): "The contact's name.",
    ("Template", "status"): "draft, on_process, approved, rejected or inactive.",
    ("Template", "name"): "Lowercase letters, digits and _; unique in the project.",
    ("TemplateInput", "name"): "Lowercase letters, digits and _; unique in the project.",
    ("ContactImport", "status"): "queued, running, finished or failed.",
    ("ContactImportStarted", "status"): "queued, running, finished or failed.",
    ("ContactImport", "updated"): "Rows that changed an existing contact.",
    ("ContactImport", "refused"): "Rows refused, with their reasons in the detail.",
    ("ContactImport", "failure_reason"): "Why the import failed; empty unless it failed.",
    ("Contact", "name"): "The contact's name.",
    ("Group", "id"): "The group's id.",
    ("Button", "text"): "The button's label.",
    ("MediaSend", "media_type"): "What `media` is: image, document or audio.",
    ("Preview", "header"): "The header as shown: its type and text; null without a header.",
    ("Preview", "language_code"): "The language shown.",
    ("Preview", "body"): "The body with the params filled in.",
    ("Preview", "buttons"): "The buttons with the URL's param filled in.",
    ("TemplatePreviewInput", "params"): 'Values for the body\'s {{n}}, keyed "1".."n"; '
    "missing ones show as [sample n].",
}

PARAMETERS: dict[str, str] = {
    "id": "The object's id.",
    "status": "Only those in this status.",
    "blast": "Only the messages of this blast (its id).",
}

_PREFIXES = re.compile(r"^(Patched|Paginated)")
_SUFFIXES = re.compile(r"(Request|Detail|List|WithSecret)$")


def _component_key(name: str) -> str:
    return _SUFFIXES.sub("", _PREFIXES.sub("", name))


def _description(component: str, prop: str) -> str | None:
    base = _component_key(component)
    return (
        BY_COMPONENT.get((base, prop)) or BY_COMPONENT.get((component, prop)) or BY_NAME.get(prop)
    )


def schema_descriptions_fill(result, generator, request, public):
    """drf-spectacular's post-processing hook: describe what `help_text` left undescribed."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        for prop, schema in component.get("properties", {}).items():
            if "description" not in schema:
                text = _description(name, prop)
                if text:
                    schema["description"] = text
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if "description" in parameter:
                    continue
                name = parameter["name"]
                if parameter["in"] == "path" and name.endswith("_id"):
                    thing = name.removesuffix("_id").replace("_", " ")
                    parameter["description"] = f"The {thing}'s id."
                elif name in PARAMETERS:
                    parameter["description"] = PARAMETERS[name]
    return result
