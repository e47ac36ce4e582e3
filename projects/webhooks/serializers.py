"""The webhook endpoints' API shapes. The rules (https, known events) are the services'."""

from __future__ import annotations

from rest_framework import serializers

from projects.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class StrictSerializer(serializers.Serializer):
    """Unknown fields are a 400 naming them (a typo must not be silently ignored)."""

    def validate(self, attrs):
        unknown = sorted(set(getattr(self, "initial_data", {}) or {}) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown field."] for name in unknown}, code="unknown_field"
            )
        return attrs


class WebhookEndpointInputSerializer(StrictSerializer):
    url = serializers.CharField(
        max_length=500,
        help_text="Where deliveries are POSTed: https:// (http and loopback only in development).",
    )
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=20,
        help_text="The events sent to it: message.queued|sent|delivered|read|failed, "
        "message.received, contact.opted_out|opted_in, template.status_changed, "
        "blast.started|finished.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(
        required=False, help_text="Change only: false pauses it; true enables it again."
    )


class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "previous_secret_expires_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="The signing secret (whsec_…): in this answer only, never shown again.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "attempted_at",
            "request_headers",
            "response_code",
            "response_excerpt",
            "error",
            "duration_ms",
        ]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    attempt_log = WebhookAttemptSerializer(source="tries", many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_response_code",
            "last_error",
            "created_at",
            "delivered_at",
            "payload",
            "attempt_log",
        ]
        read_only_fields = fields
