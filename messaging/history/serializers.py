"""The REST API's shape of a message and its timeline (the history, and the answer to a send)."""

from __future__ import annotations

from rest_framework import serializers

from messaging.models import Message, MessageStatusEvent


class StatusEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageStatusEvent
        fields = ["status", "occurred_at", "source", "applied", "detail"]


class MessageSerializer(serializers.ModelSerializer):
    media_name = serializers.SerializerMethodField()

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
    timeline = StatusEventSerializer(source="status_events", many=True, read_only=True)

    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "send_attempts", "timeline"]
        read_only_fields = fields
