"""Messages, their timelines and Wappin calls, read-only; actions run the same services as the API."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from messaging.blasts.services import blast_cancel
from messaging.models import Blast, BlastRefusal, Message, MessageStatusEvent, WappinCallLog
from messaging.sending.delivery import message_refresh_status
from wappin_portal.errors import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the view permission shows the page, without a save button

    def has_delete_permission(self, request, obj=None):
        return False


class StatusEventInline(admin.TabularInline):
    model = MessageStatusEvent
    fields = ["status", "occurred_at", "source", "applied", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class CallLogInline(admin.TabularInline):
    model = WappinCallLog
    fields = ["created_at", "endpoint", "http_status", "wappin_status", "latency_ms", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "project",
        "direction",
        "kind",
        "phone_number",
        "template_name",
        "status",
        "source",
        "wappin_message_id",
    ]
    list_filter = ["status", "direction", "kind", "source", "project"]
    search_fields = ["=phone_number", "=wappin_message_id", "template_name"]
    date_hierarchy = "created_at"
    list_select_related = ["project"]
    show_full_result_count = False  # a COUNT(*) over millions of rows on every page is not worth it
    inlines = [StatusEventInline, CallLogInline]
    actions = ["refresh_status"]

    @admin.action(
        description=gettext_lazy("Ask Wappin (inquiry) for the selected messages' status")
    )
    def refresh_status(self, request, queryset):
        for message in queryset.exclude(wappin_message_id=""):
            try:
                refreshed = message_refresh_status(message_id=message.pk, actor=request.user)
            except ApplicationError as error:
                messages.error(request, f"#{message.pk}: {error.message}")
            else:
                messages.info(request, f"#{message.pk}: {refreshed.get_status_display()}.")


@admin.register(WappinCallLog)
class WappinCallLogAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "integration",
        "endpoint",
        "http_status",
        "wappin_status",
        "latency_ms",
        "error",
    ]
    list_filter = ["endpoint", "wappin_status", "integration"]
    date_hierarchy = "created_at"
    list_select_related = ["integration__project"]
    show_full_result_count = False


class BlastRefusalInline(admin.TabularInline):
    model = BlastRefusal
    fields = ["phone_number", "code", "reason", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Blast)
class BlastAdmin(ReadOnlyAdmin):
    """Blasts are made in the web UI (its form checks the mapping); here they can be looked at and cancelled."""

    list_display = [
        "id",
        "name",
        "project",
        "template_name",
        "group",
        "status",
        "audience_count",
        "created_at",
    ]
    list_filter = ["status", "project"]
    search_fields = ["name", "template_name"]
    list_select_related = ["project", "group"]
    inlines = [BlastRefusalInline]
    actions = ["cancel"]

    @admin.action(description=gettext_lazy("Cancel the selected blasts"))
    def cancel(self, request, queryset):
        for blast in queryset:
            try:
                blast_cancel(blast_id=blast.pk)
            except ApplicationError as error:
                messages.error(request, f"{blast}: {error.message}")
            else:
                messages.info(request, _("%(blast)s: cancelled.") % {"blast": blast})
