"""The webhooks pages: a project's endpoints (admins and developers), each with its delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from projects.ui import project_page
from projects.webhooks import selectors, services
from projects.webhooks.forms import WebhookEndpointEditForm, WebhookEndpointForm
from wappin_portal.errors import ApplicationError
from wappin_portal.ui import show_error

LOG_ROWS = 50


def _no_store(response: HttpResponse) -> HttpResponse:
    # A page that may show a secret is never cached.
    response["Cache-Control"] = "no-store"
    return response


@project_page(capability="webhook.manage")
def webhook_endpoint_list(request: HttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.webhook_endpoint_create(
                project=request.project,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            form = WebhookEndpointForm()
    # The secret is on this answer only: never in a redirect, a message cookie or the log.
    return _no_store(
        render(
            request,
            "projects/webhooks/endpoint_list.html",
            {
                "project": request.project,
                "form": form,
                "created": created,
                "endpoints": selectors.webhook_endpoint_list(project=request.project),
            },
        )
    )


def _detail(request: HttpRequest, endpoint, *, form=None, secret: str = "") -> HttpResponse:
    form = form or WebhookEndpointEditForm(
        initial={
            "url": endpoint.url,
            "event_types": endpoint.event_types,
            "description": endpoint.description,
            "is_active": endpoint.is_active,
        }
    )
    deliveries = selectors.webhook_delivery_list(endpoint=endpoint)[:LOG_ROWS]
    return _no_store(
        render(
            request,
            "projects/webhooks/endpoint_detail.html",
            {
                "project": request.project,
                "endpoint": endpoint,
                "form": form,
                "secret": secret,
                "deliveries": deliveries,
            },
        )
    )


@project_page(capability="webhook.manage")
def webhook_endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(project=request.project, endpoint_id=pk)
    if request.method != "POST":
        return _detail(request, endpoint)
    form = WebhookEndpointEditForm(request.POST)
    if form.is_valid():
        try:
            services.webhook_endpoint_update(
                endpoint=endpoint, actor=request.user, **form.cleaned_data
            )
        except ApplicationError as error:
            show_error(request, error, form)
        else:
            messages.success(request, _("The endpoint is saved."))
            return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    endpoint.refresh_from_db()
    return _detail(request, endpoint, form=form)


@require_POST
@project_page(capability="webhook.manage")
def webhook_endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(project=request.project, endpoint_id=pk)
    rotated = services.webhook_endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
    return _detail(request, rotated.endpoint, secret=rotated.secret)


@require_POST
@project_page(capability="webhook.manage")
def webhook_endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(project=request.project, endpoint_id=pk)
    try:
        services.webhook_endpoint_test_send(endpoint=endpoint, actor=request.user)
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(
            request, _("A test event is on its way: its outcome shows in the log below.")
        )
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)


@require_POST
@project_page(capability="webhook.manage")
def webhook_endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(project=request.project, endpoint_id=pk)
    services.webhook_endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, _("The endpoint %(url)s is deleted.") % {"url": endpoint.url})
    return redirect("webhooks:endpoint_list")


@require_POST
@project_page(capability="webhook.manage")
def webhook_delivery_resend(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    endpoint = selectors.webhook_endpoint_get(project=request.project, endpoint_id=pk)
    delivery = selectors.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
    try:
        services.webhook_delivery_resend(delivery=delivery, actor=request.user)
    except ApplicationError as error:
        show_error(request, error)
    else:
        messages.success(request, _("Delivery %(id)s is sent again.") % {"id": delivery.webhook_id})
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
