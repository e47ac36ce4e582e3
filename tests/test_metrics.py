"""`/metrics` for Prometheus: refused without its token, the portal's counters and gauges, no secret."""

from __future__ import annotations

from django.utils import timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from messaging.models import Blast, Message
from projects.models import Integration
from projects.services import api_key_create
from tests import factories
from tests.callbacks.conftest import DOCUMENT_STATUS_SAMPLE
from wappin_portal.metrics import metrics_token_valid

pytestmark = pytest.mark.django_db

METRICS_TOKEN = "metrics-" + "t0k3n" * 8


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of an exposition: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN


def test_metrics_do_not_exist_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    ["", f"Basic {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x", f"Bearer {METRICS_TOKEN[:-1]}"],
)
def test_metrics_are_refused_without_the_right_token(client, metrics_token, authorization):
    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
    assert b"wappin_portal" not in response.content
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_token_check_wants_the_bearer_scheme_and_the_exact_token(settings):
    settings.METRICS_TOKEN = "abc"
    assert metrics_token_valid("Bearer abc") and metrics_token_valid("bearer  abc ")
    assert not metrics_token_valid("Bearer abcd") and not metrics_token_valid("abc")
    settings.METRICS_TOKEN = ""
    assert not metrics_token_valid("Bearer ")


def test_metrics_count_wappin_calls_callbacks_and_waiting_messages_and_hold_no_secret(
    client, metrics_token, wappin_sandbox, post_callback_raw, django_capture_on_commit_callbacks
):
    # Given a project whose integration holds a client key, a secret key and (after a send) a token
    project = factories.ProjectFactory()
    integration = factories.IntegrationFactory(project=project, kind=Integration.Kind.NOTIFICATION)
    template = factories.TemplateFactory(project=project, name="order_shipped")
    factories.TemplateLanguageFactory(template=template, language_code="id")
    wappin_sandbox.register(integration)
    api_key = api_key_create(project=project, name="metrics").raw_key
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    before = scrape(client)

    # When a template is sent through the API (eager tasks: it reaches the sandbox at once),
    # a callback comes with a wrong token, and a blast has two messages queued
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/messages/hsm/",
            {
                "recipient_number": "081234567890",
                "type": "order_shipped",
                "params": {"1": "Budi", "2": "INV-1"},
            },
            format="json",
        )
    assert response.status_code == 202
    assert Message.objects.get(pk=response.json()["id"]).status == Message.Status.SENT
    assert post_callback_raw(integration, token="wrong").status_code == 401
    blast = Blast.objects.create(
        project=project,
        name="Promo",
        template_name="order_shipped",
        language_code="id",
        status=Blast.Status.RUNNING,
        audience_count=5,
        started_at=timezone.now(),
    )
    for number in ("6281200000001", "6281200000002"):
        factories.MessageFactory(
            project=project,
            integration=integration,
            blast=blast,
            kind=Message.Kind.HSM,
            status=Message.Status.QUEUED,
            phone_number=number,
        )
    after = scrape(client)
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}").content.decode()

    # Then the counters moved by what happened
    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    send = {"endpoint": "/v1/message/do-send-hsm"}
    assert delta("wappin_portal_wappin_calls_total", status="200", **send) == 1
    assert delta("wappin_portal_wappin_call_seconds_count", **send) == 1
    assert delta("wappin_portal_token_refreshes_total", outcome="ok") == 1
    assert delta("wappin_portal_callbacks_total", outcome="refused", reason="rejected_auth") == 1
    # ... the gauges read the database: two queued blast messages, 5 - 2 recipients not
    # expanded yet, one sent message in the last hour
    queued = ("wappin_portal_messages_waiting", (("kind", "hsm"), ("status", "queued")))
    assert after[queued] == 2
    assert after[("wappin_portal_blast_recipients_waiting", ())] == 5
    assert after[("wappin_portal_messages_recent", (("kind", "hsm"), ("status", "sent")))] == 1
    assert after[("wappin_portal_oldest_queued_message_age_seconds", ())] >= 0
    assert ("django_http_requests_total_by_method_total", (("method", "GET"),)) in after
    # ... and no secret is in the page
    integration.refresh_from_db()
    for secret in (
        integration.client_key,
        integration.secret_key,
        integration.credential.access_token,
        api_key,
        metrics_token,
    ):
        assert secret and secret not in text


@pytest.fixture
def post_callback_raw(client):
    def post(integration, *, token: str):
        return client.post(
            integration.callback_path,
            data=DOCUMENT_STATUS_SAMPLE,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    return post
