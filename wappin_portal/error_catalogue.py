"""Every machine code an API error answer may carry: its HTTP status and what it means.

One list for the docs (`docs/api.md`'s catalogue), the error page each answer's
`doc_url` points at (`/api/docs/errors/`), and the schema's error examples;
`tests/test_api_strictness.py` checks that every code the code raises is here and
in the docs. Codes are stable: a client may branch on them.
"""

from __future__ import annotations

from typing import NamedTuple


class ErrorCode(NamedTuple):
    status: int
    description: str


def _codes(status: int, **descriptions: str) -> dict[str, ErrorCode]:
    return {code: ErrorCode(status, text) for code, text in descriptions.items()}


ERROR_CATALOGUE: dict[str, ErrorCode] = {
    # --- 400: the request itself -------------------------------------------------------------
    **_codes(
        400,
        invalid="A field is missing or malformed; `fields` names each one.",
        unknown_field="The body has a field this endpoint does not take (a typo?); `fields` names each.",
        parse_error="The body is not valid JSON (or not readable in its content type).",
        bad_request="Django refused the request before the API saw it (a bad Host header, ...).",
        too_many_fields="A form with more fields than the portal reads.",
        too_many_files="A form with more files than the portal reads.",
        cursor_invalid="`cursor` is not one the list gave (use `next`/`previous` as they are).",
        page_size_invalid="`page_size` is not a whole number from 1 to the list's maximum.",
        filter_invalid="A list's filter has a value it does not take; `fields` names it.",
        date_invalid="A date filter or field is not a date (YYYY-MM-DD or ISO 8601).",
        page_invalid="A page number is not a positive number.",
        status_invalid="A status filter is not one of the statuses listed.",
        project_required="A session user with several projects must name one with `project`.",
        idempotency_key_invalid="The Idempotency-Key header is longer than 255 characters.",
        phone_invalid="The phone number cannot be read, or is not valid for its country.",
        phone_required="A phone number is required.",
        phone_region="The project's default region is not a country code.",
        template_params_invalid="The send does not fit the template (params, header, media, buttons); "
        "`fields` names each part.",
        param_not_text="A param is not text (an object, a list) or contains a NUL character.",
        param_too_long="A param is longer than WhatsApp takes.",
        text_required="A text message needs its text.",
        text_too_long="A text message is longer than 4096 characters.",
        caption_not_allowed="A caption goes only under an image or a document.",
        caption_too_long="The caption is longer than 1024 characters.",
        media_required="The media file is missing.",
        media_empty="The media file is empty.",
        media_too_large="The media file is larger than WhatsApp takes for its type.",
        media_type_invalid="`media_type` is not image, document or audio.",
        media_file_type_invalid="The file's type does not fit the media type.",
        template_invalid="A template's name, type or languages break a rule; `fields` names each.",
        keyword_invalid="A chatbot keyword breaks a rule; `fields` names each.",
        reason_required="A rejection needs a reason.",
        group_name_required="A contact group needs a name.",
        group_name_too_long="The contact group's name is too long.",
        group_not_found="The contact group named in the body is not one of the project's.",
        blast_invalid="A blast's settings break a rule; `fields` names each.",
        contact_value_missing="A blast's column mapping leaves a template slot without a value.",
        name_required="A blast needs a name.",
        scheduled_at_past="A blast's send time has passed already.",
        import_empty="The uploaded contact file is empty.",
        import_file_type="The uploaded contact file is not .csv or .xlsx.",
        import_no_phone_column="The uploaded contact file has no phone column.",
        import_too_large="The uploaded contact file is too large.",
        import_unreadable="The uploaded contact file cannot be read.",
        wappin_bad_request="Wappin found a required field missing or malformed.",
        wappin_client_project_invalid="Wappin does not know the integration's project or client id.",
        wappin_contact_invalid="Wappin: the recipient is not a WhatsApp number (601).",
        wappin_media_upload_failed="Wappin would not take the media file (605).",
        wappin_param_count_mismatch="Wappin's copy of the template wants other params.",
        media_content_mismatch="The file's content is not what its name and media type say "
        "(a text file named .png, ...).",
        webhook_url_invalid="The webhook endpoint's URL is not a valid http(s) URL.",
        webhook_url_not_https="A webhook endpoint must use https:// (here).",
        webhook_url_private="A webhook endpoint must be on a public address (not loopback or "
        "a private network).",
        webhook_event_unknown="An event type is not one of the webhook events.",
        webhook_events_required="A webhook endpoint needs at least one event type.",
    ),
    # --- 401, 403: who asks ------------------------------------------------------------------
    **_codes(
        401,
        not_authenticated="No credentials: send `Authorization: Api-Key <key>`.",
        authentication_failed="The API key is not valid or was revoked.",
        authorization_scheme_invalid="The Authorization header uses another scheme than `Api-Key`.",
    ),
    **_codes(
        403,
        permission_denied="You may not do this.",
        role_not_allowed="The key's (or user's) role on the project may not do this.",
        api_key_not_yours="A developer revokes only the keys they created.",
        two_factor_required="The session must give its two-factor code first (or, for a "
        "project admin when it is required, set up two-factor log-in).",
    ),
    # --- 404 ---------------------------------------------------------------------------------
    **_codes(
        404,
        not_found="No API endpoint at this URL (or no such object).",
        project_not_found="No such project, or not one of yours.",
        message_not_found="No such message in the project.",
        media_not_found="The message has no media file.",
        contact_not_found="No such contact in the project.",
        contact_import_not_found="No such contact import in the project.",
        template_not_found="No such template (or language) in the project.",
        keyword_not_found="No such chatbot keyword in the project.",
        blast_not_found="No such blast in the project.",
        api_key_not_found="No such API key in the project.",
        webhook_endpoint_not_found="No such webhook endpoint in the project.",
        webhook_delivery_not_found="No such delivery of this webhook endpoint.",
        integration_missing="The project has no active integration of that kind.",
        wappin_template_not_found="Wappin has no such template, or it is inactive.",
        wappin_message_not_found="Wappin has no such message.",
    ),
    **_codes(405, method_not_allowed="The endpoint does not take this HTTP method."),
    **_codes(406, not_acceptable="No answer in a media type the Accept header takes."),
    # --- 409: the state of things ------------------------------------------------------------
    **_codes(
        409,
        conflict="Not allowed in the object's current state.",
        contact_exists="The project already has a contact with this number.",
        template_exists="The project already has a template with this name.",
        keyword_exists="An existing keyword would answer the same messages.",
        group_name_taken="The project already has a group with this name.",
        group_in_use="The group was a blast's audience: it is kept.",
        template_locked="The template is on process, approved or inactive: it cannot be edited.",
        template_not_draft="Only a draft template can be deleted.",
        template_not_requestable="Only a draft or rejected template can be sent for approval.",
        template_not_approved="The template is not approved: it cannot be sent.",
        template_status_invalid="The template's status does not allow this (deactivate, reactivate).",
        outside_24h_window="Free-form text and media only within 24 hours of the customer's last message.",
        contact_opted_out="The contact opted out of marketing messages.",
        integration_no_credentials="The integration has no client id or secret.",
        message_not_accepted="Wappin has not given this message an id: there is no status to ask for.",
        message_failed="The message failed before Wappin accepted it: there is no status to ask for.",
        idempotency_in_progress="A request with this Idempotency-Key is still being processed.",
        api_key_revoked="The API key is revoked already.",
        blast_not_draft="The blast is no longer a draft.",
        blast_not_running="The blast is not running.",
        blast_not_paused="The blast is not paused.",
        blast_cancelled="The blast was cancelled.",
        blast_audience_empty="The blast's audience has no contacts.",
        blast_audience_unreachable="None of the blast's audience would get it.",
        webhook_endpoint_disabled="The webhook endpoint is disabled: enable it first.",
        webhook_endpoints_limit="The project has as many webhook endpoints as it may.",
    ),
    **_codes(413, request_too_large="The request's form fields are larger than the portal reads."),
    **_codes(415, unsupported_media_type="The body's Content-Type is not one this endpoint takes."),
    **_codes(
        422,
        idempotency_key_reused="The Idempotency-Key was used with another request body.",
    ),
    **_codes(429, throttled="Too many requests for this API key; wait `Retry-After` seconds."),
    # --- 5xx ---------------------------------------------------------------------------------
    **_codes(500, server_error="An unexpected error on the server (logged with the request id)."),
    **_codes(
        502,
        wappin_error="Wappin refused or failed a call.",
        wappin_auth_error="Wappin refused the integration's credentials.",
        wappin_auth_not_recognized="Wappin did not recognise the authorization header.",
        wappin_credentials_missing="The integration has no client id or secret.",
        wappin_token_missing="Wappin answered the token request without a token.",
        wappin_ip_not_allowed="The portal's address is not on the integration's IP allow list.",
        wappin_no_message_id="Wappin accepted the message but gave no message id.",
        wappin_unexpected_status="Wappin answered a status the portal does not know.",
        send_crashed="The portal could not send the message.",
    ),
    **_codes(
        503,
        service_unavailable="Wappin could not be reached or failed; try again later.",
        wappin_unavailable="Wappin could not be reached or answered with a server error.",
        wappin_unreachable="Wappin could not be reached; nothing was sent.",
        wappin_bad_answer="Wappin answered without a readable status.",
    ),
    **_codes(504, wappin_timeout="Wappin did not answer in time."),
}

# Stripe's `type`: the family a code belongs to, by its status.
ERROR_TYPES: dict[int, str] = {
    401: "authentication_error",
    403: "permission_error",
    422: "idempotency_error",
    429: "rate_limit_error",
}


def error_type(status: int) -> str:
    if status in ERROR_TYPES:
        return ERROR_TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"
