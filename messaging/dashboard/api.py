"""The dashboard's figures through the REST API: GET /api/v1/stats/."""

from __future__ import annotations

from django.utils.translation import gettext as _

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.api_common import PROJECT_PARAMETER
from messaging.dashboard.selectors import Period, dashboard_stats, template_stats
from projects.api import IsProjectMember, project_from_request
from wappin_portal.api import error_responses
from wappin_portal.errors import ValidationFailed

MAX_DAYS = 365
DEFAULT_DAYS = 30


class TemplateStatsSerializer(serializers.Serializer):
    template_id = serializers.IntegerField(help_text="The template's id.")
    template_name = serializers.CharField(source="name", help_text="The template's name.")
    outgoing = serializers.IntegerField(help_text="Messages sent with it (cancelled ones aside).")
    delivered = serializers.IntegerField(help_text="Of those, delivered (read ones included).")
    read = serializers.IntegerField(help_text="Of those, read.")
    failed = serializers.IntegerField(help_text="Of those, failed.")
    cancelled = serializers.IntegerField(
        help_text="Messages of a cancelled blast, never sent (apart from every rate)."
    )
    opt_outs = serializers.IntegerField(
        help_text="Customers who sent STOP within 7 days of receiving it, in the period."
    )
    delivery_rate = serializers.FloatField(help_text="delivered / outgoing, 0 to 1.")
    read_rate = serializers.FloatField(help_text="read / outgoing, 0 to 1.")


class StatsSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="The period: the last this many days.")
    outgoing = serializers.IntegerField(help_text="Messages sent (cancelled ones aside).")
    delivered = serializers.IntegerField(help_text="Of those, delivered (read ones included).")
    read = serializers.IntegerField(help_text="Of those, read.")
    failed = serializers.IntegerField(help_text="Of those, failed.")
    cancelled = serializers.IntegerField(
        help_text="Messages of a cancelled blast, never sent (apart from every rate)."
    )
    incoming = serializers.IntegerField(help_text="Messages customers sent.")
    contacts = serializers.IntegerField(help_text="The project's contacts now.")
    delivery_rate = serializers.FloatField(help_text="delivered / outgoing, 0 to 1.")
    read_rate = serializers.FloatField(help_text="read / outgoing, 0 to 1.")
    templates = TemplateStatsSerializer(many=True, help_text="The same figures per template.")


def _days(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_DAYS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        raise ValidationFailed(
            _("days must be a whole number from 1 to %(max)d.") % {"max": MAX_DAYS},
            field="days",
            code="filter_invalid",
        )
    return int(raw)


class StatsView(APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        operation_id="stats_retrieve",
        summary="The dashboard's figures for a period, overall and per template",
        tags=["stats"],
        parameters=[
            PROJECT_PARAMETER,
            OpenApiParameter(
                "days",
                OpenApiTypes.INT,
                description=f"The period: the last this many days, 1 to {MAX_DAYS} "
                f"(default {DEFAULT_DAYS}).",
            ),
        ],
        responses={200: StatsSerializer, **error_responses(400, 401, 403, 404, 429)},
        examples=[
            OpenApiExample(
                "Last 7 days",
                response_only=True,
                value={
                    "days": 7,
                    "outgoing": 120,
                    "delivered": 110,
                    "read": 80,
                    "failed": 4,
                    "cancelled": 0,
                    "incoming": 35,
                    "contacts": 412,
                    "delivery_rate": 0.9167,
                    "read_rate": 0.6667,
                    "templates": [
                        {
                            "template_id": 12,
                            "template_name": "order_shipped",
                            "outgoing": 100,
                            "delivered": 95,
                            "read": 70,
                            "failed": 2,
                            "cancelled": 0,
                            "opt_outs": 1,
                            "delivery_rate": 0.95,
                            "read_rate": 0.7,
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        project = project_from_request(request)
        days = _days(request.query_params.get("days"))
        period = Period.last_days(days)
        stats = dashboard_stats(project=project, period=period)
        # The dashboard's counts (never a scan of the messages); rows of a template only.
        templates = [
            row
            for row in template_stats(project=project, period=period)
            if row.template_id is not None
        ]
        return Response(
            StatsSerializer(
                {
                    **{
                        field: getattr(stats, field)
                        for field in StatsSerializer().fields
                        if field != "templates"
                    },
                    "templates": templates,
                }
            ).data
        )
