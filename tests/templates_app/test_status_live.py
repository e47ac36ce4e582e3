"""The template page's live status: polled while WhatsApp reviews it, final otherwise."""

from __future__ import annotations

from django.urls import reverse

import pytest

from templates_app.models import Template
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_template_on_process_polls_its_status_until_it_is_decided(admin_client, project):
    template = factories.TemplateFactory(
        project=project, name="order_update", status=Template.Status.ON_PROCESS
    )
    detail = admin_client.get(
        reverse("templates_app:template_detail", args=[template.pk])
    ).content.decode()
    status_url = reverse("templates_app:template_status", args=[template.pk])
    assert f'hx-get="{status_url}?shown=on_process" hx-trigger="every 3s"' in detail
    assert "js/htmx.min.js" in detail
    # While it is on process, the fragment keeps polling
    page = admin_client.get(status_url, {"shown": "on_process"}).content.decode()
    assert 'hx-trigger="every 3s"' in page and "On process" in page
    # When WhatsApp approves it, the fragment says so and stops polling
    Template.objects.filter(pk=template.pk).update(status=Template.Status.APPROVED)
    page = admin_client.get(status_url, {"shown": "on_process"}).content.decode()
    assert "Approved" in page and "hx-trigger" not in page
    assert "Reload for this status" in page


def test_a_decided_templates_page_does_not_poll(admin_client, project):
    template = factories.TemplateFactory(project=project, status=Template.Status.APPROVED)
    detail = admin_client.get(
        reverse("templates_app:template_detail", args=[template.pk])
    ).content.decode()
    assert "hx-trigger" not in detail and "htmx.min.js" not in detail


def test_another_projects_template_status_is_not_found(admin_client):
    template = factories.TemplateFactory(status=Template.Status.ON_PROCESS)
    response = admin_client.get(reverse("templates_app:template_status", args=[template.pk]))
    assert response.status_code == 404
