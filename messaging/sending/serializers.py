"""The send endpoints' input shapes. Names follow Wappin's document."""

from __future__ import annotations

import json

from django.utils.translation import gettext as _

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging.models import Message
from wappin_portal.api import StrictSerializer


@extend_schema_field(OpenApiTypes.OBJECT)
class JsonObjectField(serializers.Field):
    """An object, given as JSON in a JSON body or as a JSON string in a multipart form (as Wappin takes it)."""

    default_error_messages = {
        "invalid": 'Give a JSON object, such as {{"1": "Budi"}}.',
    }

    def to_internal_value(self, data):
        if isinstance(data, str):
            text = data.strip()
            if not text:
                return {}
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class HsmSendSerializer(StrictSerializer):
    recipient_number = serializers.CharField(
        help_text="The customer's number: 0812..., +62 812... or 62812...."
    )
    type = serializers.CharField(help_text="The name of an approved template of your project.")
    language_code = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="One of the template's languages; empty: its first language.",
    )
    params = JsonObjectField(
        required=False,
        default=dict,
        help_text='The body\'s {{n}} values, keyed "1".."n" (a JSON string in multipart).',
    )
    header = JsonObjectField(
        required=False,
        default=dict,
        help_text='`{"param": "..."}` where the header text has {{1}}.',
    )
    header_param = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Same as `header.param`."
    )
    button = JsonObjectField(
        required=False,
        default=dict,
        help_text='`{"url": "...", "reply_payload": {"1": "..."}}` for the URL button\'s variable '
        "and the quick replies' payloads (a JSON string in multipart).",
    )

    def validate(self, attrs):
        header_param = attrs.get("header_param") or attrs["header"].get("param")
        button = attrs["button"]
        reply_payloads = button.get("reply_payload") or {}
        if not isinstance(reply_payloads, dict):
            raise serializers.ValidationError(
                {"button": _('reply_payload must be an object such as {"1": "yes"}.')}
            )
        return {
            "phone_number": attrs["recipient_number"],
            "template_name": attrs["type"],
            "language_code": attrs.get("language_code") or "",
            "params": attrs["params"],
            # As given (text, or a number): the service refuses objects and lists with the reason.
            "header_param": header_param if header_param not in (None, "") else None,
            "button_url": button.get("url") if button.get("url") not in (None, "") else None,
            "reply_payloads": reply_payloads or None,
        }


class HsmMediaSendSerializer(HsmSendSerializer):
    media = serializers.FileField(help_text="The header's image or document.")

    def validate(self, attrs):
        media = attrs["media"]
        validated = super().validate(attrs)
        validated["media"] = media
        return validated


class TextSendSerializer(StrictSerializer):
    recipient_number = serializers.CharField()
    message_content = serializers.CharField(
        trim_whitespace=True, help_text="Up to 4096 characters."
    )

    def validate(self, attrs):
        return {"phone_number": attrs["recipient_number"], "text": attrs["message_content"]}


class MediaSendSerializer(StrictSerializer):
    recipient_number = serializers.CharField()
    media_type = serializers.ChoiceField(choices=Message.MediaType.choices)
    media = serializers.FileField(
        help_text="image: JPG, JPEG, PNG (5 MB); document: PDF, DOC(X), PPT(X), XLS(X) (100 MB); "
        "audio: AAC, M4A, MP3, OGG, OPUS (16 MB)."
    )
    caption = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Image and document only."
    )

    def validate(self, attrs):
        return {
            "phone_number": attrs["recipient_number"],
            "media_type": attrs["media_type"],
            "media": attrs["media"],
            "caption": attrs.get("caption", ""),
        }
