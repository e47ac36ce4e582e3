"""The role matrix of docs/roles.md, walked: every role x every page and API endpoint.

The doc's first table must be what `projects.roles.roles_markdown()` writes; its second
lists every project page and endpoint (method and needed capabilities); every named URL of
the URLconf is in it or in the third table (not project pages), so a new page cannot be
left out. Each (row, role) runs in a fresh world, so one role's write does not change what
the next one sees.
"""

from __future__ import annotations

import fnmatch
import re
from datetime import timedelta
from pathlib import Path

from django.core.files.base import ContentFile
from django.urls import URLResolver, get_resolver
from django.utils import timezone

import pytest

from messaging.models import Blast, Contact, ContactGroup, ContactImport, Message
from projects.models import ApiKey, AuditEvent, Integration, Membership, WebhookDelivery
from projects.roles import ROLE_MATRIX, ROLES, role_can, roles_markdown
from templates_app.models import ChatbotKeyword, Template
from tests import factories

DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"


def _section(name: str) -> str:
    text = DOC.read_text()
    match = re.search(rf"<!-- {name}[^>]*-->\n(.*?)<!-- /{name} -->", text, re.S)
    assert match, f"docs/roles.md has no {name} section"
    return match.group(1)


def _table(name: str) -> list[list[str]]:
    rows = []
    for line in _section(name).splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    return rows[1:]  # the header


ENDPOINTS = [
    (name, path, method, tuple(c.strip(" `") for c in needs.split("+")))
    for name, path, method, needs in _table("roles-endpoints")
]
OUTSIDE = [row[0] for row in _table("roles-outside")]


def _url_names(patterns=None, namespace=None):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            yield from _url_names(
                pattern.url_patterns,
                f"{namespace}:{inner}" if namespace and inner else inner or namespace,
            )
        elif pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_the_docs_matrix_is_the_one_the_code_uses():
    assert _section("roles-matrix") == roles_markdown()


def test_every_capability_an_endpoint_needs_is_in_the_matrix():
    for _name, _path, _method, needs in ENDPOINTS:
        assert set(needs) <= set(ROLE_MATRIX), needs


def test_every_url_is_in_the_docs_tables():
    documented = {name for name, *_rest in ENDPOINTS}
    missing = [
        name
        for name in set(_url_names())
        if name not in documented and not any(fnmatch.fnmatch(name, rule) for rule in OUTSIDE)
    ]
    assert not missing, f"add these URLs to docs/roles.md: {sorted(missing)}"
    stale = documented - set(_url_names())
    assert not stale, f"docs/roles.md names URLs that do not exist: {sorted(stale)}"


def _message_with_media(project, contact) -> int:
    message = factories.MessageFactory(
        project=project, phone_number=contact.phone_number, kind="media", media_type="document"
    )
    message.media.save("invoice.pdf", ContentFile(b"%PDF-1.4 role matrix"), save=True)
    return message.pk


def _world(project, *, user=None) -> dict:
    """One row of every kind the URLs take an id of, in `project`."""
    template = factories.TemplateFactory(project=project, status="draft")
    factories.TemplateLanguageFactory(template=template)
    contact = factories.ContactFactory(project=project)
    group = ContactGroup.objects.create(project=project, name="VIP")
    other_member = factories.MembershipFactory(project=project, role=Membership.Role.MARKETING)
    ids = {
        "template": template.pk,
        "keyword": factories.ChatbotKeywordFactory(project=project).pk,
        "contact": contact.pk,
        "group": group.pk,
        "blast": Blast.objects.create(
            project=project,
            name="June",
            template=template,
            template_name=template.name,
            language_code="id",
            group=group,
        ).pk,
        "message": _message_with_media(project, contact),
        "import": ContactImport.objects.create(
            project=project, original_filename="c.csv", file="contact-imports/c.csv"
        ).pk,
        "api_key": ApiKey.objects.create(
            project=project, name="k", prefix="abcdefgh", hashed_key=f"{project.pk:064d}"
        ).pk,
        "member": other_member.pk,
        "integration": factories.IntegrationFactory(project=project).pk,
    }
    # The receiver is never called: a send is queued after the commit the test never makes.
    endpoint = factories.WebhookEndpointFactory(project=project)
    ids["webhook"] = endpoint.pk
    ids["webhook_delivery"] = WebhookDelivery.objects.create(
        endpoint=endpoint,
        webhook_id="msg_role_matrix",
        event_type="message.sent",
        payload={},
        retry_until=timezone.now() + timedelta(days=3),
    ).pk
    return ids


# Which row an id in a path names, by the URL's name.
_ID_KINDS = (
    ("contact_import", "import"),
    ("import", "import"),
    ("chat", "contact"),
    ("blast", "blast"),
    ("keyword", "keyword"),
    ("template", "template"),
    ("group", "group"),
    ("contact", "contact"),
    ("message", "message"),
    ("api_key", "api_key"),
    ("member", "member"),
    ("integration", "integration"),
    ("webhook", "webhook"),
)


def _path(name: str, path: str, ids: dict) -> str:
    if "<" not in path:
        return path
    path = path.replace("<int:delivery_id>", str(ids["webhook_delivery"]))
    kind = next(kind for key, kind in _ID_KINDS if key in name)
    return re.sub(r"<int:\w+>", str(ids[kind]), path)


def _call(client, method: str, url: str, *, project):
    if url.startswith("/api/"):
        # The project in the query: the role check comes before the body is read.
        url = f"{url}?project={project.pk}"
        return getattr(client, method.lower())(url, {}, content_type="application/json")
    return getattr(client, method.lower())(url, {})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "path", "method", "needs"), ENDPOINTS)
def test_each_role_gets_what_the_matrix_says(client, project, name, path, method, needs, role):
    # Given a member with `role` on a project that has one row of each kind
    user = factories.UserFactory()
    factories.MembershipFactory(project=project, user=user, role=role)
    ids = _world(project)
    client.force_login(user)
    allowed = all(role_can(role, capability) for capability in needs)

    # When they call the page or endpoint on their own project's rows
    response = _call(client, method, _path(name, path, ids), project=project)

    # Then the answer is the matrix's: refused with 403, else anything but 403/404/405/5xx
    if allowed:
        assert response.status_code not in (403, 404, 405), response.content[:300]
        assert response.status_code < 500
    else:
        assert response.status_code == 403, response.content[:300]


@pytest.mark.parametrize(
    ("name", "path", "method", "needs"), [row for row in ENDPOINTS if "<" in row[1]]
)
def test_another_projects_row_is_not_found_for_every_role_that_may_call(
    client, project, name, path, method, needs
):
    other_ids = _world(factories.ProjectFactory())
    for role in ROLES:
        if not all(role_can(role, capability) for capability in needs):
            continue
        user = factories.UserFactory()
        factories.MembershipFactory(project=project, user=user, role=role)
        client.force_login(user)
        response = _call(client, method, _path(name, path, other_ids), project=project)
        assert response.status_code == 404, (role, response.content[:300])


@pytest.mark.parametrize(
    ("name", "path", "method", "needs"), [row for row in ENDPOINTS if row[1].startswith("/api/")]
)
def test_an_api_key_answers_as_the_developer_column(
    client, project, api_key, name, path, method, needs
):
    ids = _world(project)
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {api_key[0]}"
    response = _call(client, method, _path(name, path, ids), project=project)
    if all(role_can(Membership.Role.DEVELOPER, capability) for capability in needs):
        assert response.status_code not in (401, 403, 404, 405), response.content[:300]
    else:
        assert response.status_code == 403, response.content[:300]


def test_a_viewer_changes_nothing_anywhere(client, project):
    # Given a viewer of a project with one row of each kind
    viewer = factories.UserFactory()
    factories.MembershipFactory(project=project, user=viewer, role=Membership.Role.VIEWER)
    ids = _world(project)
    client.force_login(viewer)
    before = _snapshot(project)

    # When they try every write of the portal and the API
    writes = [row for row in ENDPOINTS if row[2] != "GET" and row[3] != ("project.read",)]
    answers = {
        (name, method): _call(client, method, _path(name, path, ids), project=project).status_code
        for name, path, method, _needs in writes
    }

    # Then each one is refused with 403 and nothing changed
    assert set(answers.values()) == {403}, answers
    assert _snapshot(project) == before


def _snapshot(project) -> dict:
    return {
        model.__name__: sorted(
            model.objects.filter(project=project).values_list("pk", "updated_at")
        )
        for model in (
            Blast,
            ContactGroup,
            ContactImport,
            Contact,
            Message,
            Template,
            ChatbotKeyword,
            Integration,
            ApiKey,
            Membership,
        )
    } | {"audit": AuditEvent.objects.filter(project=project).count()}
