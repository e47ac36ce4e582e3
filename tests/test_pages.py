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


def test_every_page_has_a_skip_link_a_favicon_and_a_labelled_menu_button(marketer_client):
    page = marketer_client.get("/contacts/").content.decode()
    assert '<a class="skip-link" href="#main">Skip to content</a>' in page
    assert '<main class="container" id="main" tabindex="-1">' in page
    assert 'aria-controls="mainnav" aria-expanded="false" data-menu-toggle>Menu</button>' in page
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    # The login page (no menu) names the icon too, and /favicon.ico leads to it
    marketer_client.logout()
    assert 'href="/static/favicon.svg"' in marketer_client.get("/accounts/login/").content.decode()
    response = marketer_client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/favicon.svg")


@pytest.mark.parametrize(
    "path",
    ["/contacts/", "/history/", "/blasts/", "/templates/", "/templates/keywords/", "/api-keys/"],
)
def test_table_pages_scroll_their_tables_inside_the_card(admin_client, project, path):
    from messaging.models import Blast, ContactGroup
    from projects.services import api_key_create
    from tests import factories

    contact = factories.ContactFactory(project=project, name="x" * 120)
    contact.groups.add(ContactGroup.objects.create(project=project, name="VIP"))
    factories.MessageFactory(project=project, contact=contact, phone_number=contact.phone_number)
    factories.TemplateFactory(project=project, name="promo")
    factories.ChatbotKeywordFactory(project=project)
    api_key_create(project=project, name="orders", created_by=None)
    Blast.objects.create(project=project, name="Promo", template_name="promo")
    page = admin_client.get(path).content.decode()
    assert "<table" in page
    assert page.count("<table") == len(re.findall(r'<div class="table-scroll">\s*<table', page))
