"""Admin screens for templates and chatbot keywords. Saves and actions go through the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from templates_app import services
from templates_app.models import ChatbotKeyword, Template, TemplateLanguage, TemplateStatusChange
from wappin_portal.errors import ApplicationError, ValidationFailed

# --- Templates ------------------------------------------------------------------------------


class TemplateLanguageFormSet(forms.BaseInlineFormSet):
    """Checks the whole template (name, type, languages) with the service's own rules.

    Django's admin validates the template form first and then this formset,
    whose `instance` already carries the form's values, so the service's
    messages can land on the right language form before anything is saved.
    """

    def kept_forms(self) -> list:
        kept = [
            f
            for f in self.forms
            if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
        ]
        return sorted(kept, key=lambda f: f.cleaned_data.get("position") or 0)

    def languages(self) -> list[dict]:
        return [
            {name: f.cleaned_data.get(name) for name in services.LANGUAGE_FIELDS}
            for f in self.kept_forms()
        ]

    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        template = self.instance
        existing = Template.objects.filter(pk=template.pk).first() if template.pk else None
        try:
            services.template_validate(
                project=template.project,
                name=template.name,
                message_type=template.message_type,
                languages=self.languages(),
                template=existing,
            )
        except ValidationFailed as error:
            kept = self.kept_forms()
            problems = []
            for key, field_messages in error.fields.items():
                parts = key.split(".")
                if len(parts) == 3 and parts[0] == "languages" and int(parts[1]) < len(kept):
                    form, field = kept[int(parts[1])], parts[2]
                    for message in field_messages:
                        form.add_error(field if field in form.fields else None, message)
                else:
                    problems += [f"{key}: {message}" for message in field_messages]
            if problems:
                raise ValidationError(problems) from error


class TemplateLanguageInline(admin.StackedInline):
    model = TemplateLanguage
    formset = TemplateLanguageFormSet
    extra = 0
    fields = [
        "language_code",
        "position",
        "header_type",
        "header_text",
        "body",
        "footer",
        "buttons",
    ]

    def has_change_permission(self, request, obj=None) -> bool:
        # The content of a locked template cannot change (Wappin's rule); the service says so too.
        return super().has_change_permission(request, obj) and not (obj and obj.is_locked)

    def has_add_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)


class TemplateStatusChangeInline(admin.TabularInline):
    model = TemplateStatusChange
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _run(modeladmin, request, queryset, action, done: str) -> None:
    """Apply a service to each selected template; report each refusal by name.

    `done`: the success message, with `%(count)s` for how many templates it applied to."""
    succeeded = 0
    for template in queryset.select_related("project"):
        try:
            action(template)
        except ApplicationError as error:
            modeladmin.message_user(request, f"{template.name}: {error.message}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, done % {"count": succeeded}, messages.SUCCESS)


class RejectActionForm(admin.helpers.ActionForm):
    reason = forms.CharField(required=False, label=_("Rejection reason"))


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "message_type", "status", "updated_at"]
    list_filter = ["status", "message_type", "project"]
    search_fields = ["name", "languages__body", "project__name"]
    readonly_fields = ["status", "rejection_reason", "created_by", "created_at", "updated_at"]
    fields = ["project", "name", "message_type", *readonly_fields]
    inlines = [TemplateLanguageInline, TemplateStatusChangeInline]
    actions = ["approve", "reject", "request_approval", "deactivate", "reactivate"]
    action_form = RejectActionForm

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return ["project", "name", "message_type", *self.readonly_fields]
        if obj is not None:
            return ["project", *self.readonly_fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change) -> None:
        # Saved with its languages in save_related, through one service call.
        pass

    def save_related(self, request, form, formsets, change) -> None:
        """Create or update the template with its languages (already checked by the formset)."""
        template = form.instance
        for formset in formsets:
            # The service wrote the languages, not formset.save(); the change message lists none.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if change and Template.objects.get(pk=template.pk).is_locked:
            return  # nothing of a locked template is editable here; actions move its status
        languages = next(
            (
                formset.languages()
                for formset in formsets
                if isinstance(formset, TemplateLanguageFormSet)
            ),
            None,
        )
        try:
            if change:
                saved = services.template_update(
                    template=template,
                    name=None if template.is_locked else template.name,
                    message_type=None if template.is_locked else template.message_type,
                    languages=None if template.is_locked else languages,
                    actor=request.user,
                )
            else:
                saved = services.template_create(
                    project=template.project,
                    name=template.name,
                    message_type=template.message_type,
                    languages=languages or [],
                    actor=request.user,
                )
        except ApplicationError as error:
            # Checked already; only a race (e.g. the same name saved meanwhile) gets here.
            raise _admin_error(error) from error
        # The admin logs and redirects with the object it built: give it the saved row's identity.
        template.pk = saved.pk
        template._state.adding = False

    @admin.action(description=_("Approve (record WhatsApp's approval)"))
    def approve(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda t: services.template_approve(template=t, actor=request.user),
            _("%(count)s template(s) approved."),
        )

    @admin.action(description=_("Reject (give the reason in the field below)"))
    def reject(self, request, queryset):
        reason = request.POST.get("reason", "")
        _run(
            self,
            request,
            queryset,
            lambda t: services.template_reject(template=t, reason=reason, actor=request.user),
            _("%(count)s template(s) rejected."),
        )

    @admin.action(description=_("Request approval"))
    def request_approval(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda t: services.template_request_approval(template=t, actor=request.user),
            _("%(count)s template(s) requested."),
        )

    @admin.action(description=_("Deactivate"))
    def deactivate(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda t: services.template_deactivate(template=t, actor=request.user),
            _("%(count)s template(s) deactivated."),
        )

    @admin.action(description=_("Reactivate"))
    def reactivate(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda t: services.template_reactivate(template=t, actor=request.user),
            _("%(count)s template(s) reactivated."),
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (
            obj is None or obj.status == Template.Status.DRAFT
        )

    def delete_model(self, request, obj) -> None:
        services.template_delete(template=obj, actor=request.user)

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        _run(
            self,
            request,
            queryset,
            lambda t: services.template_delete(template=t, actor=request.user),
            "deleted",
        )


def _admin_error(error: ApplicationError) -> ValidationError:
    if isinstance(error, ValidationFailed) and error.fields:
        return ValidationError(
            [f"{field}: {message}" for field, ms in error.fields.items() for message in ms]
        )
    return ValidationError(error.message)


# --- Chatbot keywords ---------------------------------------------------------------------------


class ChatbotKeywordForm(forms.ModelForm):
    class Meta:
        model = ChatbotKeyword
        fields = [
            "project",
            "keyword",
            "template_name",
            "scenario",
            "response_type",
            "response_text",
            "response_media",
            "caption",
            "is_active",
        ]

    def upload(self):
        return self.files.get(self.add_prefix("response_media"))

    def values(self) -> dict:
        values = {name: self.cleaned_data.get(name) for name in services.KEYWORD_EDITABLE}
        return {name: value if value is not None else "" for name, value in values.items()}

    def clean(self):
        """Run the service's checks on a copy, so that their messages show on this form's fields."""
        cleaned = super().clean()
        if self.errors:
            return cleaned
        probe = ChatbotKeyword(
            pk=self.instance.pk,
            project=cleaned.get("project") or self.instance.project,
            response_media=self.instance.response_media if self.instance.pk else "",
        )
        try:
            services.keyword_validate(
                keyword=probe, values=self.values(), response_media=self.upload()
            )
        except ValidationFailed as error:
            for field, field_messages in error.fields.items():
                for message in field_messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(ChatbotKeyword)
class ChatbotKeywordAdmin(admin.ModelAdmin):
    form = ChatbotKeywordForm
    list_display = ["keyword", "project", "template_name", "scenario", "response_type", "is_active"]
    list_filter = ["project", "scenario", "response_type", "is_active"]
    search_fields = ["keyword", "normalized_keyword", "template_name", "response_text"]
    readonly_fields = ["normalized_keyword"]

    def get_readonly_fields(self, request, obj=None):
        return ["project", *self.readonly_fields] if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ChatbotKeyword, form, change: bool) -> None:
        try:
            if change:
                saved = services.keyword_update(
                    chatbot_keyword=obj,
                    response_media=form.upload(),
                    actor=request.user,
                    **form.values(),
                )
            else:
                saved = services.keyword_create(
                    project=obj.project,
                    response_media=form.upload(),
                    actor=request.user,
                    **form.values(),
                )
        except ApplicationError as error:
            # Checked already in the form; only a race gets here.
            raise _admin_error(error) from error
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request, obj) -> None:
        services.keyword_delete(chatbot_keyword=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for keyword in queryset:
            services.keyword_delete(chatbot_keyword=keyword, actor=request.user)
