"""Uploaded media on an S3-compatible bucket (django-storages), kept private.

The bucket is never public: objects are written with a private ACL, and a
file's `url` is the portal's own `/media/<name>`, whose view checks that the
reader belongs to the file's project before it redirects to a signed URL valid
for `MEDIA_SIGNED_URL_SECONDS` (or streams the file, with
`MEDIA_S3_REDIRECT=false`, for a bucket browsers cannot reach).
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.utils.http import content_disposition_header

from storages.backends.s3 import S3Storage


class PrivateMediaStorage(S3Storage):
    default_acl = "private"
    querystring_auth = True
    file_overwrite = False

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        """The portal's address for the file: links never bypass the membership check."""
        return settings.MEDIA_URL + quote(name)

    def signed_url(self, name: str, *, filename: str, content_type: str) -> str:
        """A short-lived URL that downloads the object, as an attachment, straight from the bucket."""
        return super().url(
            name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(
                    as_attachment=True, filename=filename
                ),
                "ResponseContentType": content_type,
            },
            expire=settings.MEDIA_SIGNED_URL_SECONDS,
        )
