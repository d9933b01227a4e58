"""Who may use a shared link: the team gate, the server-key offer and the daily spend cap, on the page.

The rules are in studio/access.py; this module reads the ``[team]`` secrets, the request's headers
and the Google sign-in, and shows the plain pages and messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import streamlit as st

from components import auth, services, state
from studio import access
from studio.access import TeamConfigError, TeamPolicy
from studio.credentials import Connection
from studio.history.database import configured_url
from studio.history.namespaces import SaltNotConfigured, check_salt
from studio.request import GenerationRequest

EMAIL_CHECK_KEY = state.TEAM_EMAIL_CHECK  # what the provider said about this subject's email, memory only
USERINFO_TIMEOUT_S = 10.0


def policy() -> TeamPolicy:
    """The ``[team]`` secrets plus STUDIO_SERVER_KEY_FOR; ``TeamConfigError`` when malformed."""
    return TeamPolicy.from_config(services.secrets_section("team"))


def limited_to_team() -> bool:
    """A list is set: only Google sign-in is offered, and only listed people get in."""
    return policy().has_list


def _who_is_welcome(team: TeamPolicy) -> str:
    """The domains in plain words (never the list of emails, which is nobody else's business)."""
    if not team.allowed_domains:
        return "a list of named Google accounts"
    domains = ", ".join(f"**{domain}**" for domain in team.allowed_domains)
    return f"Google accounts at {domains}" + (" and a few named accounts" if team.allowed_emails else "")


NO_SIGN_IN = ("Sign in with Google is not set up on this deployment yet, so nobody can get in. The owner must add "
              "an `[oauth]` section to the secrets (see docs/DEPLOY.md, \"Who may use the link\").")


def welcome_note() -> str:
    """Why the Welcome page offers only Google sign-in when a list is set."""
    return (f"This studio is limited to its team ({_who_is_welcome(policy())}). Sign in with Google using your "
            "team account: API keys and offline mode are turned off here, because they cannot tell who you are.")


# ---- who is signed in -----------------------------------------------------------------------


@dataclass(frozen=True)
class EmailCheck:
    """The provider's word on a Google sign-in's email; ``problem`` when it could not be asked."""

    email: str | None
    verified: bool
    problem: str | None = None


def _is_true(value: object) -> bool:
    return value is True or str(value).strip().lower() == "true"  # some providers send the string "true"


def _ask_provider(connection: Connection) -> EmailCheck:
    """Read ``email`` and ``email_verified`` from the userinfo endpoint with the person's own token."""
    config = auth.oauth_config()
    if config is None or not connection.access_token:
        return EmailCheck(connection.email, False, "Sign in with Google is not configured here, so your email "
                                                   "address cannot be confirmed.")
    try:
        response = httpx.get(config.userinfo_url, headers={"Authorization": f"Bearer {connection.access_token}"},
                             timeout=USERINFO_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return EmailCheck(connection.email, False, f"Google could not be reached to confirm your email address "
                                                   f"({type(exc).__name__}). Reload the page to try again.")
    if response.status_code != 200:
        return EmailCheck(connection.email, False, "Google did not confirm your email address (your sign-in may "
                                                   "have ended). Sign out and sign in again.")
    try:
        claims: Any = response.json()
    except ValueError:
        claims = None
    if not isinstance(claims, dict) or (connection.subject and str(claims.get("sub")) != connection.subject):
        return EmailCheck(connection.email, False, "Google's answer about your account did not match this "
                                                   "sign-in. Sign out and sign in again.")
    email = str(claims.get("email") or "") or None
    return EmailCheck(email, bool(email) and _is_true(claims.get("email_verified")))


def google_email(connection: Connection | None) -> EmailCheck | None:
    """The verified email of a Google sign-in (``None`` for keys and the emulator), asked once per person.

    A connection that already carries ``email_verified`` (from the sign-in, or a Google sign-in using the
    server's key, which holds no token to ask with) is taken at its word.
    """
    if connection is None or (connection.mode not in auth.OAUTH_MODES and not connection.server_key):
        return None
    carried = getattr(connection, "email_verified", None)
    if isinstance(carried, bool):
        return EmailCheck(connection.email, carried)
    cached = st.session_state.get(EMAIL_CHECK_KEY)
    if isinstance(cached, dict) and cached.get("subject") == connection.subject:
        return EmailCheck(cached.get("email"), bool(cached.get("verified")))
    check = _ask_provider(connection)
    if check.problem is None:  # only a real answer is remembered; a network hiccup is asked again
        st.session_state[EMAIL_CHECK_KEY] = {"subject": connection.subject, "email": check.email,
                                             "verified": check.verified}
    return check


def reached_on_localhost() -> bool:
    """The browser reached this studio on loopback (a person running it for themselves), not via a proxy."""
    headers = st.context.headers
    forwarded = any(headers.get(name) for name in access.FORWARDING_HEADERS)
    # Streamlit reports None for a loopback peer (and outside a browser session, where Host is absent)
    peer_is_loopback = st.context.ip_address is None
    return access.reached_locally(headers.get("Host"), forwarded, peer_is_loopback,
                                  st.get_option("server.address"))


def server_key_offered() -> bool:
    """Whether "Use the key configured on this server" may be shown to this person."""
    team = policy()
    check = google_email(services.connection())
    signed_in = check is not None and check.verified
    local = False if team.has_list else reached_on_localhost()
    return access.may_use_server_key(team, check.email if check else None, signed_in, local)


# ---- the gate -------------------------------------------------------------------------------


def configuration_problem() -> str | None:
    """A setting the studio cannot start with: a malformed ``[team]`` or a missing shared salt."""
    try:
        policy()
    except TeamConfigError as exc:
        return f"The team settings cannot be read: {exc} Fix the secrets and reload."
    try:
        services.shared_history()
    except ValueError as exc:
        return f"The team settings cannot be read: {exc} Fix the secrets and reload."
    try:
        check_salt(_studio_salt(), database_url=configured_url(services.secrets_section("connections")))
    except SaltNotConfigured as exc:
        return str(exc)
    return None


def _studio_salt() -> str | None:
    value = services.secrets_section("studio").get("namespace_salt")
    return str(value) if value else None


def _only_page(render: Any, title: str, url_path: str) -> None:
    """Show one page in place of the studio; navigation is hidden so no other page can be reached."""
    st.navigation([st.Page(render, title=title, icon="🔒", url_path=url_path, default=True)],
                  position="hidden").run()


def _refusal(connection: Connection, team: TeamPolicy, check: EmailCheck | None) -> None:
    st.title("🔒 This studio is for its team")
    if check is None:
        how = {"api_key": "a Gemini API key", "offline": "the offline emulator"}.get(connection.mode, connection.label)
        st.markdown(f"You are connected with **{how}**, which does not say who you are.")
    else:
        st.markdown(f"You are signed in with Google as **{check.email or connection.email or 'an account without an email address'}**.")
    st.markdown(f"This studio is limited to {_who_is_welcome(team)}, signed in with Google.")
    if check is not None and check.problem:
        st.warning(check.problem)
    elif check is not None and check.email and not check.verified:
        st.warning("Google has not verified this email address, so it cannot be matched against the team list.")
    if team.contact:
        st.info(f"To ask for access, contact {team.contact} and give the email address you sign in with.")
    else:
        st.info("To ask for access, ask the person who shared this link to add your email address to the "
                "team list (`allowed_emails` in the `[team]` secrets).")
    st.caption("If you have a team account, sign out and sign in with it.")
    if st.button("Sign out", key="team_sign_out", type="primary"):
        auth.sign_out()
        st.session_state.pop(EMAIL_CHECK_KEY, None)
        st.rerun()


def render_gate(connection: Connection | None) -> bool:
    """True when this person may use the studio; otherwise the refusal page is shown and False returned.

    Not connected yet passes: the Welcome page then offers only Google sign-in when a list is set.
    """
    team = policy()
    if connection is None or not team.has_list:
        return True
    check = google_email(connection)
    if check is not None and check.problem is None and access.is_allowed(team, check.email, check.verified):
        return True
    _only_page(lambda: _refusal(connection, team, check), "Team only", "team-only")
    return False


def enforce(connection: Connection | None) -> None:
    """Call in app.py before navigation: stops the run on a bad setting or a refused person."""
    problem = configuration_problem()
    if problem is not None:
        _only_page(lambda: st.error(problem, icon="⚙️"), "Setup needed", "setup-needed")
        st.stop()
    if not render_gate(connection):
        st.stop()


# ---- the daily spend cap --------------------------------------------------------------------


def _cap_applying(team: TeamPolicy, connection: Connection | None) -> float | None:
    """Today's cap for this person, or None: none is set, or they work offline, where nothing is billed."""
    if connection is None or connection.is_offline:
        return None
    return team.daily_spend_cap_usd


def spend_uncapped() -> bool:
    """No daily cap applies to this person's batches (checked without drawing anything)."""
    return _cap_applying(policy(), services.connection()) is None


def check_spend(request: GenerationRequest) -> bool:
    """Call before submitting a batch: False (and a plain message) when it would pass today's cap.

    Today's spend is this identity's attempts since local midnight in the shared spend ledger (private
    sessions write theirs there too; deleting entries lowers nothing), estimated from the catalogue's
    prices; the emulator costs nothing and is never capped.
    """
    team = policy()
    connection = services.connection()
    cap = _cap_applying(team, connection)
    if cap is None:
        return True
    # visitors on the server's key without signing in each get a History of their own (one per browser), but
    # they all spend the owner's key: a cleared cookie must not start a fresh cap, so they share the studio's total
    shared = connection is not None and connection.shared_key
    spent = access.spent_today(services.shared_store(), None if shared else services.current_namespace())
    batch = services.get_catalogue().resolve(request.model_id).estimate_cost(
        request.image_size, request.count, len(request.references))
    if not access.spend_cap_reached(team, spent + batch):
        return True
    left = max(0.0, cap - spent)
    st.error(f"Daily spending limit: this batch is estimated at ${batch:.2f}, and you have already spent about "
             f"${spent:.2f} of today's ${cap:.2f} "
             + ("for everyone using this studio's key without signing in" if shared else "per person")
             + " (estimated from the catalogue's prices). "
             + (f"About ${left:.2f} is left today: try fewer images or a smaller size. " if left > 0.005 else "")
             + "The limit starts again at midnight (server time). Nothing was sent.", icon="💸")
    return False
