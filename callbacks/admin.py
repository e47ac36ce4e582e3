"""The callback log: read-only, with one action that runs the same service as the task."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from callbacks.models import CallbackEvent
from callbacks.services import callback_event_process


@admin.register(CallbackEvent)
class CallbackEventAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "received_at",
        "integration",
        "callback_type",
        "wappin_message_id",
        "status_value",
        "verdict",
        "state",
        "remote_addr",
        "attempts",
    ]
    list_filter = ["verdict", "state", "callback_type", "integration"]
    search_fields = ["wappin_message_id"]
    date_hierarchy = "received_at"
    list_select_related = ["integration__project"]
    actions = ["process_again"]
    fieldsets = [
        (None, {"fields": ["integration", "received_at", "remote_addr", "verdict", "reason"]}),
        (
            _("Callback"),
            {
                "fields": [
                    "callback_type",
                    "wappin_message_id",
                    "status_value",
                    "occurred_at",
                    "dedupe_key",
                ]
            },
        ),
        (
            _("Processing"),
            {"fields": ["state", "result", "attempts", "processed_at", "message", "reply"]},
        ),
        (_("Raw request"), {"fields": ["pretty_body", "body_size", "pretty_headers"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in CallbackEvent._meta.fields] + ["pretty_body", "pretty_headers"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewing the detail page needs "change"; nothing on it is editable.
        return super().has_view_permission(request, obj)

    @admin.display(description=pgettext_lazy("HTTP request", "Body"))
    def pretty_body(self, obj):
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text or _("(empty)"))

    @admin.display(description=pgettext_lazy("HTTP request", "Headers"))
    def pretty_headers(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2, ensure_ascii=False))

    @admin.action(description=_("Process the selected callbacks again"))
    def process_again(self, request, queryset):
        done = 0
        for event in queryset.order_by("received_at", "id"):
            if event.verdict != CallbackEvent.Verdict.ACCEPTED:
                messages.warning(
                    request,
                    _("#%(id)s was not accepted (%(verdict)s): nothing to process.")
                    % {"id": event.pk, "verdict": event.get_verdict_display()},
                )
                continue
            event = callback_event_process(event_id=event.pk)
            done += 1
            level = messages.ERROR if event.state == CallbackEvent.State.FAILED else messages.INFO
            messages.add_message(
                request, level, f"#{event.pk}: {event.get_state_display()}. {event.result}"
            )
        if done:
            messages.success(request, _("Processed %(count)s callback(s) again.") % {"count": done})
