import re

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
    # Every script and stylesheet comes from the portal itself (the sidecar), none from a CDN.
    assert 'src="/static/drf_spectacular_sidecar/' in page
    assert re.findall(r'(?:src|href)="(?:https?:)?//', page) == []


@pytest.mark.parametrize(
    ("path", "active"),
    [
        ("/templates/", "Templates"),
        ("/templates/keywords/", "Chatbot"),
        ("/templates/chatbot-settings/", "Chatbot"),
        ("/callbacks/chat/", "Chat panel"),
        ("/contacts/", "Contacts"),
        ("/history/", "History"),
        ("/history/test-send/", "History"),
        ("/blasts/", "Blasts"),
    ],
)
def test_the_menu_marks_exactly_the_current_section(marketer_client, path, active):
    import re

    page = marketer_client.get(path).content.decode()
    marked = re.findall(r'<a href="[^"]+" class="active">([^<]+)</a>', page)
    assert marked == [active]


def test_a_template_message_shows_in_the_chat_as_the_customer_saw_it(marketer_client, project):
    from django.utils import timezone

    from tests import factories

    contact = factories.ContactFactory(project=project, last_inbound_at=timezone.now())
    language = factories.TemplateLanguageFactory(
        template=factories.TemplateFactory(project=project, name="order_shipped"),
        body="Halo {{1}}, pesanan {{2}} sudah dikirim.",
    )
    factories.MessageFactory(
        project=project,
        contact=contact,
        kind="hsm",
        template=language.template,
        template_name="order_shipped",
        language_code="id",
        params={"1": "Budi", "2": "INV-7"},
        text="",
    )
    page = marketer_client.get(f"/callbacks/chat/{contact.pk}/").content.decode()
    assert "Halo Budi, pesanan INV-7 sudah dikirim." in page


def test_a_missing_page_shows_the_portals_own_404(marketer_client):
    response = marketer_client.get("/history/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page and "wappin" in page  # our layout, not Django's bare page


def test_a_server_error_page_renders_without_a_request_context():
    from django.template import loader

    # Django renders 500.html with no context (the database may be down): it must still render.
    html = loader.get_template("500.html").render()
    assert "Something went wrong" in html
