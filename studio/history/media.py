"""Where History's image files go, chosen by one URL (STUDIO_MEDIA_URL).

- unset, a folder path or ``file:///abs/folder``: files on local disk (default: the data folder, today's layout);
- ``s3://bucket/prefix``: any S3-compatible service; endpoint and keys from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, AWS_REGION;
- ``gs://bucket/prefix``: Google Cloud Storage through its S3-interoperability endpoint
  (https://storage.googleapis.com), with an HMAC key pair in the same AWS_* variables.

A URL that names an object store never falls back to local disk: it opens or raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from studio.history.blobs import BlobStore, LocalBlobs

ENV_VAR = "STUDIO_MEDIA_URL"
# S3's rules (3–63 lowercase letters, digits, dots, hyphens); GCS also allows underscores and longer dotted names.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_PREFIX_PART = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class MediaTarget:
    """A parsed media URL: a local folder, or a bucket and key prefix on an object store."""

    kind: str  # "local" | "s3" | "gs"
    folder: Path | None = None
    bucket: str = ""
    prefix: str = ""

    @property
    def endpoint_url(self) -> str | None:
        """The endpoint forced by the URL (GCS interoperability), else None: AWS_ENDPOINT_URL or AWS decides."""
        from studio.history.blobs_s3 import GCS_ENDPOINT

        return GCS_ENDPOINT if self.kind == "gs" else None


def parse_media_url(url: str | None, data_dir: Path) -> MediaTarget:
    """Check a media URL without touching the network; ValueError with a plain message when it is not usable.

    Messages name the scheme, never the whole URL, in case someone pasted a key into it.
    """
    url = (url or "").strip()
    if not url:
        return MediaTarget("local", folder=data_dir)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme:
        return MediaTarget("local", folder=Path(url).expanduser())
    parts = urlsplit(url)
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError("STUDIO_MEDIA_URL: a file URL needs an absolute local path, like file:///srv/studio/media.")
        return MediaTarget("local", folder=Path(unquote(parts.path)))
    if scheme not in ("s3", "gs"):
        raise ValueError(f"STUDIO_MEDIA_URL: '{scheme}://' is not supported; use a folder path, file:///folder, "
                         "s3://bucket/prefix or gs://bucket/prefix.")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"STUDIO_MEDIA_URL: write {scheme}://bucket/prefix only; credentials go in "
                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the endpoint in AWS_ENDPOINT_URL.")
    bucket = parts.netloc
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ValueError(f"STUDIO_MEDIA_URL: {scheme}:// needs a bucket name (lowercase letters, digits, dots, "
                         "hyphens), like s3://my-studio-media/history.")
    pieces = [p for p in parts.path.split("/") if p]
    if any(not _PREFIX_PART.match(p) or p in (".", "..") for p in pieces):
        raise ValueError("STUDIO_MEDIA_URL: the prefix after the bucket may hold only letters, digits, '.', '_', "
                         "'-' and '/'.")
    return MediaTarget(scheme, bucket=bucket, prefix="/".join(pieces))


def open_blobs(url: str | None, data_dir: Path) -> BlobStore:
    """The blob store a media URL names; object stores are checked now (BlobStoreError if unusable)."""
    target = parse_media_url(url, data_dir)
    if target.kind == "local":
        assert target.folder is not None
        target.folder.mkdir(parents=True, exist_ok=True)
        return LocalBlobs(target.folder)
    from studio.history.blobs_s3 import S3Blobs  # boto3 is needed only when an object store is configured

    return S3Blobs.from_env(target.bucket, target.prefix, endpoint_url=target.endpoint_url)
