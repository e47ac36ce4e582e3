"""projects 0006: the tokens each integration kept move to one row per Wappin client."""

import hashlib
from datetime import UTC, datetime

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

import pytest

from projects.models import Integration, WappinCredential

BEFORE = ("projects", "0008_webhooks")
AFTER = ("projects", "0009_wappin_client_tokens")

pytestmark = pytest.mark.django_db(transaction=True)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _migrate(target):
    """Move projects to `target`; the models of every app as the database then has them."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


@pytest.fixture
def old_apps():
    apps = _migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_integrations_of_one_client_end_up_sharing_its_newest_token(old_apps):
    # Given two integrations of one client, each with the token it fetched, one of another
    # secret key (another client for Wappin) and one without a secret key
    Project = old_apps.get_model("projects", "Project")
    OldIntegration = old_apps.get_model("projects", "Integration")
    shop = Project.objects.create(name="Shop", client_id="0070", wappin_project_id="476")
    other = Project.objects.create(name="Other", client_id="0070", wappin_project_id="477")
    newer, older = datetime(2026, 12, 9, tzinfo=UTC), datetime(2026, 12, 8, tzinfo=UTC)

    def integration(project, kind, secret_key, token="", previous="", expires_at=None):
        return OldIntegration.objects.create(
            project=project,
            kind=kind,
            callback_key=f"{project.wappin_project_id}-{kind}",
            secret_key=secret_key,
            access_token=token,
            previous_access_token=previous,
            token_expires_at=expires_at,
        )

    notification = integration(shop, "notification", "s3cret", "token-new", "token-0", newer)
    chatbot = integration(shop, "chatbot", "s3cret", "token-old", "", older)
    elsewhere = integration(other, "chatbot", "another-s3cret", "token-x", "", newer)
    bare = integration(other, "notification", "")

    # When the migration runs
    _migrate(AFTER)

    # Then one row per client: the longest-lasting token is current, the other one previous
    shared = WappinCredential.objects.get(access_token_digest=_digest("token-new"))
    assert (shared.access_token, shared.previous_access_token, shared.token_expires_at) == (
        "token-new",
        "token-old",
        newer,
    )
    assert shared.previous_access_token_digest == _digest("token-old")
    by_pk = {i.pk: i for i in Integration.objects.all()}
    assert by_pk[notification.pk].credential_id == by_pk[chatbot.pk].credential_id == shared.pk
    assert by_pk[elsewhere.pk].credential.access_token == "token-x"
    assert by_pk[bare.pk].credential_id is None
    assert WappinCredential.objects.count() == 2

    # And today's code finds the same row for the same client (the same secret key digest)
    chatbot_now = by_pk[chatbot.pk]
    chatbot_now.save()
    assert chatbot_now.credential_id == shared.pk
