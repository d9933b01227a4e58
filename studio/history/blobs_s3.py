"""History's image bytes in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, GCS interoperability).

Keys are ``<prefix>/ns/<namespace key>/<name>`` with the same store-made names as on disk, so no user
input ever becomes a key. A PUT is atomic (an object appears whole or not at all), which keeps the
store's rule: blobs first, then the row. Any failure surfaces as one ``BlobStoreError`` with a plain
message: never a traceback, never a secret, and never a silent fallback to local disk.
"""

from __future__ import annotations

import io
import ipaddress
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectTimeoutError as BotoConnectTimeout
from botocore.exceptions import ReadTimeoutError as BotoReadTimeout

from studio.history import files
from studio.history.blobs import BlobInfo

T = TypeVar("T")
GCS_ENDPOINT = "https://storage.googleapis.com"
_KEY_PART = re.compile(r"^[0-9a-f]{32}$")
_NOT_FOUND = {"404", "NoSuchBucket", "NotFound"}
_DENIED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
           "ExpiredToken", "AllAccessDisabled", "Forbidden"}


class BlobStoreError(RuntimeError):
    """The object store cannot be used; the message is meant for a person (no traceback, no secret)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(endpoint: str, allow_http: bool = False) -> str:
    """The endpoint without any credentials in it; plain http only on loopback, since keys would travel in clear.

    ``allow_http`` (STUDIO_MEDIA_ALLOW_HTTP=1) is for a private network such as a compose file's MinIO.
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlobStoreError("AWS_ENDPOINT_URL must be an http(s) address such as https://s3.example.com.")
    if parts.username or parts.password:
        raise BlobStoreError("AWS_ENDPOINT_URL must not carry credentials; use AWS_ACCESS_KEY_ID and "
                             "AWS_SECRET_ACCESS_KEY.")
    if parts.scheme == "http" and not _is_loopback(parts.hostname) and not allow_http:
        raise BlobStoreError(f"Refused plain http to the object store at {parts.hostname}: use https "
                             "(plain http is allowed only for a loopback address such as 127.0.0.1).")
    port = f":{parts.port}" if parts.port else ""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


class S3Blobs:
    """The ``BlobStore`` protocol over one bucket and prefix; thread-safe (one boto3 client, a pool of connections).

    The bucket is checked at construction (``head_bucket``), so a missing bucket, refused credentials or an
    unreachable endpoint stop the studio at start with one plain message rather than at the first image.
    """

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 session_token: str | None = None, page_size: int = 1000, timeout_s: float = 10.0,
                 max_attempts: int = 3, allow_http: bool = False) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.page_size = page_size
        self.endpoint = check_endpoint(endpoint_url, allow_http) if endpoint_url else None
        self._where = f"bucket '{bucket}'" + (f" at {self.endpoint}" if self.endpoint else "")
        config = Config(
            # Path-style keys work on every S3-compatible service (MinIO, R2, GCS); AWS picks its own style.
            s3={"addressing_style": "path" if self.endpoint else "auto"},
            signature_version="s3v4",
            # AWS's newer default checksums (aws-chunked trailers) are refused by some S3-compatible services.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=timeout_s, read_timeout=max(timeout_s, 30.0),
            max_pool_connections=32,  # a batch of 8 images writes originals, thumbnails and drafts at once
        )
        session = boto3.session.Session()  # a private session: the default one is not thread-safe
        self._client: Any = session.client(
            "s3", endpoint_url=self.endpoint, region_name=region or "us-east-1", config=config,
            aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
            aws_session_token=session_token)
        self._call("open", lambda: self._client.head_bucket(Bucket=bucket))

    @classmethod
    def from_env(cls, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 environ: dict[str, str] | None = None, **kwargs: Any) -> S3Blobs:
        """Endpoint and credentials from the standard variables (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...).

        ``endpoint_url`` (GCS's interoperability endpoint for ``gs://``) wins over AWS_ENDPOINT_URL.
        """
        env = os.environ if environ is None else environ
        key_id, secret = env.get("AWS_ACCESS_KEY_ID") or None, env.get("AWS_SECRET_ACCESS_KEY") or None
        if bool(key_id) != bool(secret):
            raise BlobStoreError("Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the object store, "
                                 "or neither.")
        return cls(bucket, prefix, endpoint_url=endpoint_url or env.get("AWS_ENDPOINT_URL") or None,
                   region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
                   access_key_id=key_id, secret_access_key=secret,
                   session_token=env.get("AWS_SESSION_TOKEN") or None,
                   allow_http=(env.get("STUDIO_MEDIA_ALLOW_HTTP") or "").strip().lower() in ("1", "true", "yes"),
                   **kwargs)

    # ---- keys -----------------------------------------------------------------------
    def _key(self, namespace: str, name: str) -> str:
        files.safe_path(Path("/"), namespace, name)  # the same name rules as on disk (ValueError otherwise)
        return self._key_for(files.namespace_key(namespace), name)

    def _key_for(self, namespace_key: str, name: str) -> str:
        return f"{self.prefix}/ns/{namespace_key}/{name}" if self.prefix else f"ns/{namespace_key}/{name}"

    @property
    def _listing_prefix(self) -> str:
        return f"{self.prefix}/ns/" if self.prefix else "ns/"

    # ---- the protocol ---------------------------------------------------------------
    def put(self, namespace: str, name: str, data: bytes) -> None:
        """One PUT streamed from the caller's buffer: no second full copy of a 4K original.

        A BytesIO over ``bytes`` shares the caller's buffer; botocore hashes, sends and (on a retry) rewinds
        it in small blocks. A single PUT is atomic, and fine up to S3's 5 GB limit, far above any image.
        """
        key = self._key(namespace, name)
        self._call("write", lambda: self._client.put_object(Bucket=self.bucket, Key=key, Body=io.BytesIO(data),
                                                            ContentLength=len(data)))

    def get(self, namespace: str, name: str) -> bytes | None:
        key = self._key(namespace, name)

        def read() -> bytes | None:
            try:
                answer = self._client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                    return None
                raise
            body = answer["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

        return self._call("read", read)

    def exists(self, namespace: str, name: str) -> bool:
        key = self._key(namespace, name)

        def head() -> bool:
            try:
                self._client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _code(exc) in ("NoSuchKey", "404", "NotFound"):
                    return False
                raise
            return True

        return self._call("read", head)

    def delete(self, namespace: str, name: str) -> None:
        key = self._key(namespace, name)
        self._call("delete", lambda: self._client.delete_object(Bucket=self.bucket, Key=key))

    def delete_listed(self, info: BlobInfo) -> None:
        if not _KEY_PART.match(info.namespace_key):
            raise ValueError("refused a folder name that the store did not make")
        if not _store_made(info.name):
            raise ValueError("refused a file name that the store did not make")
        key = self._key_for(info.namespace_key, info.name)
        self._call("delete", lambda: self._client.delete_object(Bucket=self.bucket, Key=key))

    def listing(self) -> Iterator[BlobInfo]:
        """Every blob under the prefix, page by page (list_objects_v2), with LastModified for the orphan sweep.

        Keys the store did not make (other tools' files under the prefix) are left out, so the sweep never
        touches them.
        """
        base = self._listing_prefix
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base, PaginationConfig={"PageSize": self.page_size})
        iterator = iter(pages)
        while True:
            page = self._call("list", lambda: next(iterator, None))
            if page is None:
                return
            for item in page.get("Contents", ()):
                folder, _, name = item["Key"][len(base):].partition("/")
                if _KEY_PART.match(folder) and _store_made(name):
                    yield BlobInfo(folder, name, item["LastModified"].timestamp())

    def close(self) -> None:
        """Release the connection pool; the objects stay, they are the point."""
        self._client.close()

    # ---- errors ---------------------------------------------------------------------
    def _call(self, action: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except ClientError as exc:
            raise BlobStoreError(self._explain(action, exc)) from None
        except (NoCredentialsError, PartialCredentialsError):
            raise BlobStoreError(f"No credentials for the object store ({self._where}): set AWS_ACCESS_KEY_ID "
                                 "and AWS_SECRET_ACCESS_KEY.") from None
        except (EndpointConnectionError, BotoConnectTimeout, ConnectionClosedError):
            raise BlobStoreError(f"Could not reach the object store for {self._where}: check AWS_ENDPOINT_URL "
                                 "and the network.") from None
        except BotoReadTimeout:
            raise BlobStoreError(f"The object store for {self._where} did not answer in time.") from None
        except BotoCoreError as exc:
            raise BlobStoreError(f"The object store for {self._where} could not {action}: "
                                 f"{type(exc).__name__}.") from None

    def _explain(self, action: str, exc: ClientError) -> str:
        code = _code(exc)
        if code in _NOT_FOUND:
            return f"The {self._where} does not exist (or is not visible with these credentials): create it first."
        if code in _DENIED:
            return (f"The object store refused the credentials for {self._where} (AWS_ACCESS_KEY_ID / "
                    f"AWS_SECRET_ACCESS_KEY): check the key and its permissions on the bucket.")
        if code in ("301", "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
            return f"The {self._where} is in another region: set AWS_REGION to the bucket's region."
        return f"The object store could not {action} ({self._where}): error {code or 'unknown'}."


def _store_made(name: str) -> bool:
    try:
        files.safe_path(Path("/"), "", name)
    except ValueError:
        return False
    return True


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
