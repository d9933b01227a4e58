"""Who may use a shared studio link, who may spend the server's key, and the daily spend cap.

Pure rules (no streamlit): the pages read the ``[team]`` secrets section and the request's
headers, and ask these functions. With no list configured the studio stays open to anyone who
brings their own credentials, as before.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

EVERYONE = "everyone"
SERVER_KEY_ENV = "STUDIO_SERVER_KEY_FOR"
LOCAL_HOSTNAMES = frozenset({"localhost", "127.0.0.1", "::1"})
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Forwarded-Host", "Forwarded", "X-Real-Ip")


class TeamConfigError(ValueError):
    """The ``[team]`` section cannot be read; the studio must not guess who is let in."""


@dataclass(frozen=True)
class TeamPolicy:
    """The ``[team]`` settings: who may get past the gate and what they may spend."""

    allowed_domains: tuple[str, ...] = ()
    allowed_emails: tuple[str, ...] = ()
    server_key_for: str | None = None  # "everyone", or None: only allowed or local people
    daily_spend_cap_usd: float | None = None
    contact: str | None = None  # where refused people ask for access (an email or a URL)
    auto_fallback: bool = False  # a full model (503 capacity) retries the failed images on its fallback at once

    @property
    def has_list(self) -> bool:
        """A list limits the studio to the team: only Google sign-in with a listed email gets in."""
        return bool(self.allowed_domains or self.allowed_emails)

    @classmethod
    def from_config(cls, section: Mapping[str, object] | None, env: Mapping[str, str] | None = None) -> TeamPolicy:
        """Read ``[team]`` (any mapping) and ``STUDIO_SERVER_KEY_FOR``; ``TeamConfigError`` when malformed."""
        env = os.environ if env is None else env
        section = section or {}
        domains = tuple(d.lstrip("@") for d in _names(section.get("allowed_domains"), "allowed_domains"))
        for domain in domains:
            if "@" in domain or "." not in domain:
                raise TeamConfigError(f"[team] allowed_domains: {domain!r} is not a domain like \"example.com\".")
        emails = _names(section.get("allowed_emails"), "allowed_emails")
        for email in emails:
            if not _split_email(email):
                raise TeamConfigError(f"[team] allowed_emails: {email!r} is not an email address.")
        server_key_for = _server_key_for(section.get("server_key_for"), "[team] server_key_for")
        if server_key_for is None:
            server_key_for = _server_key_for(env.get(SERVER_KEY_ENV), SERVER_KEY_ENV)
        contact = str(section.get("contact") or "").strip() or None
        auto_fallback = section.get("auto_fallback", False)
        if not isinstance(auto_fallback, bool):
            raise TeamConfigError(f"[team] auto_fallback must be true or false, not {auto_fallback!r}.")
        return cls(allowed_domains=domains, allowed_emails=emails, server_key_for=server_key_for,
                   daily_spend_cap_usd=_cap(section.get("daily_spend_cap_usd")), contact=contact,
                   auto_fallback=auto_fallback)


def _names(value: object, key: str) -> tuple[str, ...]:
    """A TOML list of strings (a single comma-separated string is accepted too), lower-cased."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: Sequence[object] = value.split(",")
    elif isinstance(value, Sequence):
        items = value
    else:
        raise TeamConfigError(f"[team] {key} must be a list of strings, like [\"example.com\"].")
    names = []
    for item in items:
        if not isinstance(item, str):
            raise TeamConfigError(f"[team] {key} must be a list of strings; {item!r} is not one.")
        if item.strip():
            names.append(item.strip().lower())
    return tuple(names)


def _server_key_for(value: object, where: str) -> str | None:
    text = str(value or "").strip().lower()
    if not text:
        return None
    if text != EVERYONE:
        raise TeamConfigError(f"{where} can only be \"everyone\" (or left out), not {value!r}.")
    return EVERYONE


def _cap(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TeamConfigError("[team] daily_spend_cap_usd must be a number of US dollars, like 5.0.")
    try:
        cap = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TeamConfigError("[team] daily_spend_cap_usd must be a number of US dollars, like 5.0.") from None
    if not cap >= 0:  # also refuses NaN
        raise TeamConfigError("[team] daily_spend_cap_usd cannot be negative.")
    return cap


def _split_email(email: str) -> tuple[str, str] | None:
    local, at, domain = email.strip().lower().rpartition("@")
    if not at or not local or not domain or "@" in local or any(c.isspace() for c in email.strip()):
        return None
    return local, domain


def is_allowed(policy: TeamPolicy, email: str | None, email_verified: bool) -> bool:
    """Without a list everyone is allowed; with one, only a verified email on it.

    Pass the email of a Google sign-in (``None`` for any other connection): an API key or the
    emulator says nothing about who is using it. Matching ignores case; a domain matches the whole
    part after ``@`` exactly (``example.com`` does not admit ``mail.example.com`` or ``badexample.com``).
    """
    if not policy.has_list:
        return True
    if not email or not email_verified:
        return False
    parts = _split_email(email)
    if parts is None:
        return False
    normalized = f"{parts[0]}@{parts[1]}"
    return normalized in policy.allowed_emails or parts[1] in policy.allowed_domains


def may_use_server_key(policy: TeamPolicy, connection_email: str | None, signed_in: bool,
                       host_is_localhost: bool) -> bool:
    """Whether to offer the key configured on the server, which spends the owner's quota.

    ``signed_in`` means signed in with Google with an email the provider has verified. With a list,
    only allowed signed-in people; without one, only when the deployment says ``everyone`` or the
    browser reached the studio on localhost (a person running it for themselves).
    """
    if policy.has_list:
        return signed_in and is_allowed(policy, connection_email, True)
    return policy.server_key_for == EVERYONE or host_is_localhost


def host_is_local(host: str | None) -> bool:
    """``Host`` names this machine's loopback: localhost, 127.0.0.1 or [::1], with or without a port."""
    if not host:
        return False
    host = host.strip().lower()
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        name = host.partition(":")[0]
    else:
        name = host
    if name in LOCAL_HOSTNAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def listens_on_loopback(server_address: str | None) -> bool:
    """The server accepts connections on loopback only (Streamlit's ``server.address``).

    Unset, empty, ``0.0.0.0`` or ``::`` mean every interface (Streamlit's default); a host name other than
    ``localhost`` is not trusted to stay on loopback.
    """
    address = (server_address or "").strip().lower()
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def reached_locally(host: str | None, forwarded: bool, peer_is_loopback: bool, server_address: str | None) -> bool:
    """The browser reached the studio on this machine's loopback, not through a proxy.

    Only a server that listens on loopback alone can say so: a reverse proxy on the same machine connects
    from loopback, may rewrite ``Host`` to ``localhost`` and need not send a forwarding header, and then
    everyone it serves would look local. So the server must listen on loopback only (``server.address``),
    the peer must be loopback, ``Host`` must name loopback and no forwarding header may be present. A proxy
    placed in front of a loopback-only server must send ``X-Forwarded-For`` (docs/DEPLOY.md).
    """
    return listens_on_loopback(server_address) and host_is_local(host) and peer_is_loopback and not forwarded


class _Ledger(Protocol):
    def spent_since(self, since: float, namespace: str | None = ...) -> float: ...


def local_midnight(now: float | None = None) -> float:
    """The start of today on the server's clock (the cap resets at local midnight)."""
    moment = datetime.now() if now is None else datetime.fromtimestamp(now)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def spent_today(store: _Ledger, namespace: str | None, now: float | None = None) -> float:
    """USD of every attempt this identity (None: the whole team) started since local midnight, running ones too.

    Read from the store's spend ledger in one query: deleted entries, private sessions and restarts still
    count. Each attempt counts its estimate taken before sending (from the catalogue's prices, so failures
    count as well), or its cost from usage when higher: the cap stops a runaway day, it does not bill exactly.
    """
    return store.spent_since(local_midnight(now), namespace)


def spend_cap_reached(policy: TeamPolicy, spent_today_usd: float) -> bool:
    """True when a cap is set and today's estimated spend (this batch included) goes over it."""
    cap = policy.daily_spend_cap_usd
    return cap is not None and spent_today_usd > cap + 1e-9
