"""Admin screens organised like Wappin's own dashboard: Project, Account, Integration.

Secrets (client key, secret key, token) are write-only: the form never shows
them back, an empty field keeps the stored value, and saving goes through the
same service as every other path.
"""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from projects.forms import SECRET_KEY_HELP, write_only_secret_field
from projects.models import ApiKey, AuditEvent, Integration, Membership, Project, WebhookEndpoint
from projects.services import (
    api_key_create,
    api_key_revoke,
    integration_save,
    membership_remove,
    membership_set,
    project_save,
)
from wappin_portal.errors import ApplicationError


class MembershipForm(forms.ModelForm):
    """Only the role of an existing membership changes: to move a person, remove and add."""

    class Meta:
        model = Membership
        fields = ["project", "user", "role"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in ("project", "user"):
                if name in self.fields:
                    self.fields[name].disabled = True


class MembershipInline(admin.TabularInline):
    """Members and roles are written by `membership_set` / `membership_remove` (audited),
    through `ProjectAdmin.save_formset`."""

    model = Membership
    form = MembershipForm
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "name",
        "client_id",
        "wappin_project_id",
        "business_number",
        "business_name",
        "default_region",
    ]
    search_fields = ["name", "client_id", "wappin_project_id", "business_number", "business_name"]
    inlines = [MembershipInline]
    fieldsets = [
        (_("Project"), {"fields": ["name", "client_id", "wappin_project_id"]}),
        (
            _("Account · Official Account Number"),
            {
                "fields": [
                    "business_number",
                    "business_name",
                    "default_region",
                    "website_url",
                    "default_chatbot_message",
                ]
            },
        ),
    ]

    def save_model(self, request, obj, form, change):
        project_save(project=obj, actor=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)  # the new and changed rows; deleted ones apart
        for membership in formset.deleted_objects:
            membership_remove(membership=membership, actor=request.user)
        for membership in memberships:
            saved = membership_set(
                project=form.instance,
                user=membership.user,
                role=membership.role,
                actor=request.user,
            )
            membership.pk = saved.pk


def _masked(value: str) -> str:
    return _("•••• set") if value else _("not set")


class IntegrationForm(forms.ModelForm):
    new_client_key = write_only_secret_field(label=_("New client key"))
    new_secret_key = write_only_secret_field(label=_("New secret key"), help_text=SECRET_KEY_HELP)
    ip_whitelist = forms.CharField(
        label=_("IP whitelist"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Wappin's side: this portal's server addresses allowed to call Wappin. One per line."
        ),
    )
    callback_ip_allowlist = forms.CharField(
        label=_("Callback IP allow-list"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Addresses (or networks) Wappin's callbacks may come from. One per line; empty: any."
        ),
    )

    class Meta:
        model = Integration
        fields = ["project", "kind", "environment", "is_active", "callback_url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("ip_whitelist", "callback_ip_allowlist"):
            self.initial[name] = "\n".join(getattr(self.instance, name) or [])

    @staticmethod
    def _lines(value: str) -> list[str]:
        return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]

    def clean_ip_whitelist(self):
        return self._lines(self.cleaned_data["ip_whitelist"])

    def clean_callback_ip_allowlist(self):
        return self._lines(self.cleaned_data["callback_ip_allowlist"])

    def _post_clean(self):
        self.instance.ip_whitelist = self.cleaned_data.get("ip_whitelist", [])
        self.instance.callback_ip_allowlist = self.cleaned_data.get("callback_ip_allowlist", [])
        super()._post_clean()


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationForm
    list_display = ["__str__", "environment", "is_active", "credentials", "token_expiry"]
    list_select_related = ["project", "credential"]
    list_filter = ["kind", "environment", "is_active", "project"]
    search_fields = ["project__name", "project__client_id", "project__wappin_project_id"]
    readonly_fields = [
        "callback_url_to_paste",
        "client_key_state",
        "secret_key_state",
        "token_state",
    ]
    fieldsets = [
        (None, {"fields": ["project", "kind", "environment", "is_active"]}),
        (
            _("Callback"),
            {"fields": ["callback_url_to_paste", "callback_url", "callback_ip_allowlist"]},
        ),
        (
            _("Credentials (write-only)"),
            {
                "fields": [
                    "client_key_state",
                    "new_client_key",
                    "secret_key_state",
                    "new_secret_key",
                    "token_state",
                    "ip_whitelist",
                ]
            },
        ),
    ]

    @admin.display(description=_("Callback URL to paste into Wappin"))
    def callback_url_to_paste(self, obj):
        if not obj.pk:
            return _("Shown after the first save.")
        return format_html("<code>{}</code>", obj.default_callback_url)

    @admin.display(description=_("Stored client key"))
    def client_key_state(self, obj):
        return _masked(obj.client_key)

    @admin.display(description=_("Stored secret key"))
    def secret_key_state(self, obj):
        return _masked(obj.secret_key)

    @admin.display(description=_("Token (shared by the client's integrations)"))
    def token_state(self, obj):
        credential = obj.credential
        if credential is None or not credential.access_token_digest:
            return _("none yet: fetched on the first call")
        return (
            _("•••• valid until %(when)s")
            % {"when": f"{credential.token_expires_at:%Y-%m-%d %H:%M %Z}"}
            if credential.token_expires_at
            else _("•••• set")
        )

    @admin.display(description=_("Token expires"), ordering="credential__token_expires_at")
    def token_expiry(self, obj):
        return obj.credential.token_expires_at if obj.credential else None

    @admin.display(description=_("Credentials"), boolean=True)
    def credentials(self, obj):
        return obj.has_credentials

    def save_model(self, request, obj, form, change):
        integration_save(
            integration=obj,
            actor=request.user,
            secrets_given={
                "client_key": form.cleaned_data.get("new_client_key", ""),
                "secret_key": form.cleaned_data.get("new_secret_key", ""),
            },
        )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "user__email", "project__name"]
    autocomplete_fields = ["user", "project"]

    def save_model(self, request, obj, form, change):
        if change and not form.changed_data:
            return
        saved = membership_set(
            project=obj.project, user=obj.user, role=obj.role, actor=request.user
        )
        obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at

    def delete_model(self, request, obj):
        membership_remove(membership=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("project", "user"):
            membership_remove(membership=membership, actor=request.user)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "project", "role", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["project", "revoked_at"]
    search_fields = ["name", "prefix", "project__name"]
    fields = ["project", "name", "prefix", "role", "created_by", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "role", "created_by", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "project"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name", "updated_at"])
            return
        created = api_key_create(project=obj.project, name=obj.name, created_by=request.user)
        obj.pk = created.api_key.pk
        request._created_api_key = created

    def response_add(self, request, obj, post_url_continue=None):
        """Show the new key on this answer's page only: a flash message would carry it in a cookie."""
        created = getattr(request, "_created_api_key", None)
        if created is None:
            return super().response_add(request, obj, post_url_continue)
        # The admin's views are never_cache: the page is not kept by the browser or a proxy.
        return TemplateResponse(
            request,
            "admin/projects/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "api_key": created.api_key,
                "raw_key": created.raw_key,
            },
        )

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request, queryset):
        for api_key in queryset:
            try:
                api_key_revoke(api_key=api_key, actor=request.user)
            except ApplicationError as exc:
                messages.warning(request, f"{api_key}: {exc.message}")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "target", "project", "actor", "api_key"]
    list_filter = ["action", "project"]
    search_fields = ["action", "target", "actor__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """A superuser's view of the endpoints; they are managed on the Webhooks page and through
    the API (`projects.webhooks.services`), where the secret is shown once. Never shown here."""

    list_display = ["url", "project", "is_active", "disabled_at", "failing_since", "created_at"]
    list_filter = ["is_active", "project"]
    search_fields = ["url", "description"]
    fields = [
        "project",
        "url",
        "description",
        "event_types",
        "is_active",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "previous_secret_expires_at",
        "created_by",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
