"""Uploaded media on an S3-compatible bucket (moto's S3 server on loopback), kept private."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

from django.core.files.base import ContentFile

import pytest

from tests import factories
from tests.smoke.http import http_request

BUCKET = "wappin-media"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server, started by the test on a free loopback port (no network)."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A fresh private bucket, and the settings MEDIA_S3_* would give."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
    s3.create_bucket(Bucket=BUCKET)
    settings.MEDIA_S3_BUCKET = BUCKET
    settings.MEDIA_S3_REDIRECT = True
    settings.MEDIA_SIGNED_URL_SECONDS = 60
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "wappin_portal.storage.PrivateMediaStorage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "location": "media",
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "addressing_style": "path",
                "signature_version": "s3v4",
            },
        },
    }
    yield s3
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def stored_media(db, project, bucket):
    message = factories.MessageFactory(
        project=project, kind="media", media_type="document", text=""
    )
    message.media.save("invoice.pdf", ContentFile(b"%PDF-1.4 in the bucket"), save=True)
    return message


@pytest.fixture
def member_client(client, project):
    member = factories.UserFactory()
    factories.MembershipFactory(project=project, user=member)
    client.force_login(member)
    return client


def test_an_upload_goes_to_the_bucket_privately_not_to_the_local_folder(
    stored_media, bucket, settings
):
    key = "media/" + stored_media.media.name
    assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"%PDF-1.4 in the bucket"
    grants = bucket.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert all(
        "URI" not in grant["Grantee"] for grant in grants
    )  # no AllUsers / AuthenticatedUsers
    assert not (settings.MEDIA_ROOT / stored_media.media.name).exists()
    # Links point at the portal, where membership is checked, never at the bucket.
    assert stored_media.media.url == f"/media/{stored_media.media.name}"


def test_a_member_is_redirected_to_a_short_lived_signed_download(
    member_client, stored_media, s3_endpoint
):
    response = member_client.get(stored_media.media.url)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(s3_endpoint)
    query = parse_qs(urlsplit(location).query)
    assert int(query["X-Amz-Expires"][0]) == 60 and query["X-Amz-Signature"]
    assert "no-store" in response["Cache-Control"]
    download = http_request("GET", location, timeout=10)
    assert download.status_code == 200
    assert download.content == b"%PDF-1.4 in the bucket"
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_streamed_through_the_portal_when_redirects_are_off(member_client, stored_media, settings):
    settings.MEDIA_S3_REDIRECT = False
    response = member_client.get(stored_media.media.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 in the bucket"
    assert "attachment" in response["Content-Disposition"]


def test_the_bucket_is_reached_only_after_the_membership_check(client, stored_media):
    url = stored_media.media.url
    assert client.get(url).status_code == 302 and "/accounts/login/" in client.get(url)["Location"]
    outsider = factories.UserFactory()
    factories.MembershipFactory(project=factories.ProjectFactory(), user=outsider)
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_a_row_whose_object_is_gone_is_a_404(member_client, stored_media, bucket):
    bucket.delete_object(Bucket=BUCKET, Key="media/" + stored_media.media.name)
    assert member_client.get(stored_media.media.url).status_code == 404
