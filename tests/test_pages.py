import pytest

pytestmark = pytest.mark.django_db


def test_login_page_renders(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Log in" in response.content.decode()


def test_dashboard_requires_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_dashboard_shows_delivery_and_read_rates(marketer_client, project):
    from messaging.models import Message
    from tests import factories

    for status in ("read", "read", "delivered", "failed"):
        factories.MessageFactory(project=project, status=status)
    page = marketer_client.get("/dashboard/").content.decode()
    assert project.name in page
    assert "75%" in page  # delivered or read: 3 of 4
    assert "50%" in page  # read: 2 of 4
    assert Message.objects.count() == 4


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_api_docs_are_served_offline(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower()
