"""The blasts API's shapes: the fields named in issue 14 (`params`, `header.param`, `button.url`, `counts`)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from messaging.blasts.mapping import blast_mapping_to_api
from messaging.models import Blast
from messaging.sending.serializers import JsonObjectField
from wappin_portal.api import StrictSerializer

MAPPING_HELP = (
    '{"text": "INV-1"} (a fixed text) or {"contact_field": "name" | "phone_number" | "<attribute>"}'
)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class GroupReferenceField(serializers.CharField):
    """A contact group by its id (a number) or its name (text)."""

    json_also_accepts = (int,)


class BlastWriteSerializer(StrictSerializer):
    """POST creates a draft; PATCH changes one (only what is given)."""

    name = serializers.CharField(max_length=120)
    template = serializers.CharField(
        help_text="The template's id, or its name. It must be approved when the blast starts."
    )
    language_code = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="One of its languages; empty: its first.",
    )
    group = GroupReferenceField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The contact group's id or name; null: every contact of the project.",
    )
    params = JsonObjectField(
        required=False,
        default=dict,
        help_text=f'The body\'s {{{{n}}}}, keyed "1".."n": each {MAPPING_HELP}.',
    )
    header = JsonObjectField(
        required=False,
        default=dict,
        help_text=f'`{{"param": {MAPPING_HELP}}}` where the header has {{{{1}}}}.',
    )
    button = JsonObjectField(
        required=False,
        default=dict,
        help_text=f'`{{"url": {MAPPING_HELP}}}` where the URL button has {{{{1}}}}.',
    )
    scheduled_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When POST .../start/ should send it (ISO 8601; without a zone: the portal's, Asia/Jakarta); "
        "null: at once.",
    )


class BlastCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="The audience when it started (a draft: now).")
    queued = serializers.IntegerField(
        help_text="Not yet answered by Wappin: queued, sending or unknown."
    )
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    read = serializers.IntegerField()
    failed = serializers.IntegerField(
        help_text="Wappin or WhatsApp refused the message (see `reasons.failed`)."
    )
    refused = serializers.IntegerField(
        help_text="Got no message: a value missing, opted out, not on WhatsApp... (see `reasons.refused`)."
    )
    cancelled = serializers.IntegerField(
        help_text="Never sent: the blast was cancelled first. Never failed."
    )


class BlastReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.CharField()
    count = serializers.IntegerField()


class BlastReasonsSerializer(serializers.Serializer):
    failed = BlastReasonSerializer(many=True)
    refused = BlastReasonSerializer(many=True)


class BlastSerializer(serializers.ModelSerializer):
    """A blast as the API shows it; `counts` (and on one blast `reasons`) come from the context."""

    template = serializers.CharField(source="template_name", help_text="The template's name.")
    template_id = serializers.IntegerField(allow_null=True)
    group = serializers.IntegerField(
        source="group_id", allow_null=True, help_text="null: every contact."
    )
    group_name = serializers.SerializerMethodField()
    params = serializers.SerializerMethodField()
    header = serializers.SerializerMethodField()
    button = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    class Meta:
        model = Blast
        fields = [
            "id",
            "name",
            "status",
            "status_reason",
            "template",
            "template_id",
            "language_code",
            "group",
            "group_name",
            "params",
            "header",
            "button",
            "scheduled_at",
            "started_at",
            "finished_at",
            "created_at",
            "counts",
        ]

    def get_group_name(self, blast: Blast) -> str:
        return blast.group.name if blast.group_id else ""

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_params(self, blast: Blast) -> dict:
        return {slot: blast_mapping_to_api(mapping) for slot, mapping in blast.params.items()}

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_header(self, blast: Blast) -> dict:
        return {"param": blast_mapping_to_api(blast.header_param)} if blast.header_param else {}

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_button(self, blast: Blast) -> dict:
        return {"url": blast_mapping_to_api(blast.button_url)} if blast.button_url else {}

    @extend_schema_field(BlastCountsSerializer)
    def get_counts(self, blast: Blast) -> dict:
        return self.context["progress"][blast.pk].counts()


class BlastReachSerializer(serializers.Serializer):
    audience = serializers.IntegerField(help_text="Contacts in the audience.")
    reachable = serializers.IntegerField(help_text="Of those, the ones it would be sent to.")
    opted_out = serializers.IntegerField(help_text="Left out: they sent STOP (marketing).")
    not_on_whatsapp = serializers.IntegerField(help_text="Left out: not WhatsApp numbers.")
    missing_value = serializers.IntegerField(
        help_text="Left out: a column the template's params need is empty for them."
    )


class BlastDetailSerializer(BlastSerializer):
    reach = serializers.SerializerMethodField(
        help_text="A draft's: how many contacts starting it would reach; null once started."
    )
    reasons = serializers.SerializerMethodField()

    class Meta(BlastSerializer.Meta):
        fields = [*BlastSerializer.Meta.fields, "reach", "reasons"]

    @extend_schema_field(BlastReachSerializer(allow_null=True))
    def get_reach(self, blast: Blast) -> dict | None:
        reach = self.context.get("reach")
        if reach is None:
            return None
        return {
            "audience": reach.audience,
            "reachable": reach.reachable,
            "opted_out": reach.opted_out,
            "not_on_whatsapp": reach.not_on_whatsapp,
            "missing_value": reach.missing_value,
        }

    @extend_schema_field(BlastReasonsSerializer)
    def get_reasons(self, blast: Blast) -> dict:
        return self.context["reasons"]


class BlastRecipientSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField(allow_null=True)
    phone_number = serializers.CharField()
    name = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["queued", "sent", "delivered", "read", "failed", "cancelled", "refused"]
    )
    reason = serializers.CharField(
        help_text="Why it failed, was refused or cancelled; empty otherwise."
    )
    message_id = serializers.IntegerField(allow_null=True)
    wappin_message_id = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)


class BlastRecipientPageSerializer(serializers.Serializer):
    """A page of a blast's recipients (numbered pages: `page`, `page_size`)."""

    count = serializers.IntegerField(help_text="Recipients in all (with the filter).")
    next = serializers.URLField(allow_null=True, help_text="The next page's URL; null on the last.")
    previous = serializers.URLField(
        allow_null=True, help_text="The previous page's URL; null on the first."
    )
    results = BlastRecipientSerializer(many=True, help_text="This page's recipients.")
