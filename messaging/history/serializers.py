"""The REST API's shape of a message and its timeline (the history, and the answer to a send)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging.history.selectors import message_timeline
from messaging.models import Message, MessageStatusEvent


class StatusEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageStatusEvent
        fields = ["status", "occurred_at", "source", "applied", "detail"]


class MessageSerializer(serializers.ModelSerializer):
    # "" for a message without media: in the schema's enum too (strict generated clients
    # refused the "" the enum did not list; issue 11, defect 2).
    media_type = serializers.ChoiceField(
        choices=Message.MediaType.choices,
        allow_blank=True,
        read_only=True,
        help_text="image, document or audio; empty for a message without media.",
    )
    media_name = serializers.SerializerMethodField(
        help_text="The media file's name; empty without media."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "status",
            "direction",
            "kind",
            "source",
            "phone_number",
            "template_name",
            "language_code",
            "params",
            "header_param",
            "button_url",
            "reply_payloads",
            "text",
            "media_type",
            "media_name",
            "caption",
            "wappin_message_id",
            "failure_code",
            "failure_reason",
            "created_at",
            "sent_at",
            "delivered_at",
            "read_at",
            "failed_at",
        ]
        read_only_fields = fields

    def get_media_name(self, message: Message) -> str:
        return message.media.name.rsplit("/", 1)[-1] if message.media else ""


class MessageDetailSerializer(MessageSerializer):
    timeline = serializers.SerializerMethodField(
        help_text="Each step and where it was learnt, in the order the steps happened."
    )

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "send_attempts", "timeline"]
        read_only_fields = fields

    @extend_schema_field(StatusEventSerializer(many=True))
    def get_timeline(self, message: Message) -> list[dict]:
        return StatusEventSerializer(message_timeline(message=message), many=True).data
