"""Improve prompt, Variations and Describe beside the prompt box: the buttons, their costs and their answers.

Each call runs on the job runner (``JobRunner.run_call``), so a click never waits on the network; the page
holds the call's Future in session state and a small timer fragment redraws the page when it is answered.
The person's prompt changes only through "Use it"; a refusal or a failure is shown in plain words.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import streamlit as st

from components import auth, jobs, live_wait, models, services, team
from components.history_views import render_diff
from components.plain import md_escape
from components.state import (
    ASSIST_CALL,
    ASSIST_ERROR,
    ASSIST_MODEL,
    ASSIST_RESULT,
    ASSIST_SPEND,
    DESCRIBE_CALLS,
    PARENT_ENTRY,
    PROMPT,
    REFERENCES,
    SAVED_PROMPT,
    VARIATION_COUNT,
)
from studio import access, assistant, text_model
from studio.assistant import AssistantError, AssistResult, Task
from studio.credentials import Connection
from studio.registry import RegistryError
from studio.request import GenerationRequest, ReferenceImage

POLL_S = 0.5
ASKED = "asked_prompt"  # AssistResult.extra: the prompt the call was asked about
EMPTY_HINT = "Write a prompt first: Improve prompt and Variations work on what you wrote."


def _table() -> text_model.TextModels:
    return text_model.load()


def _model(connection: Connection | None) -> text_model.TextModel:
    """The model the credential's list gave (once known), else the configured or first preferred one."""
    known = st.session_state.get(ASSIST_MODEL)
    if isinstance(known, tuple) and known[0] == connection:
        return known[1]
    table = _table()
    return table.priced(text_model.configured(services.secrets_section("assistant")) or table.preferred[0].model_id)


def _emulated(connection: Connection | None) -> bool:
    return connection is not None and connection.is_offline


def _money(usd: float) -> str:
    return f"${usd:.4f}" if usd < 0.01 else f"${usd:.3f}"


def session_spend() -> tuple[float, float]:
    """This session's assistant calls: (cost from usage, estimate before sending), for the sidebar's totals
    (drawn before the page: answered calls are settled first, so a call just answered is counted)."""
    _settle()
    spent = st.session_state.get(ASSIST_SPEND) or []
    return sum(c for c, _ in spent), sum(e for _, e in spent)


def _capped(estimate: float) -> bool:
    """The team's daily cap would be passed by this call: say so plainly (offline is never capped)."""
    if team.spend_uncapped():
        return False
    policy = team.policy()
    connection = services.connection()
    shared = connection is not None and connection.shared_key
    spent = access.spent_today(services.shared_store(), None if shared else services.current_namespace())
    if not access.spend_cap_reached(policy, spent + estimate):
        return False
    st.error(f"Daily spending limit: you have already spent about ${spent:.2f} of today's "
             f"${policy.daily_spend_cap_usd or 0:.2f}, so the text model was not asked. Nothing was sent.", icon="💸")
    return True


def _start(task: Task) -> Future | None:
    """Hand the call to the runner; returns its Future (None, with a message, when it cannot start)."""
    connection = services.connection()
    if connection is None:
        st.error("Connect first: your prompt is kept.")
        return None
    model = _model(connection)
    table = _table()
    if _capped(assistant.estimate_for(table, model, task)):
        return None
    known = st.session_state.get(ASSIST_MODEL)
    chosen = known[1] if isinstance(known, tuple) and known[0] == connection else None
    ledger, namespace = services.get_store().ledger, services.current_namespace()
    configured = text_model.configured(services.secrets_section("assistant"))

    def work(client: Any) -> Any:
        return assistant.run(client, task, table, configured_id=configured, model=chosen, ledger=ledger,
                             namespace=namespace, secrets=connection.secrets())

    return services.get_runner().run_call(connection, work)


def _collect(call: dict) -> AssistResult | str:
    """A finished call's answer, or its plain reason; its spend is added to the session's once."""
    try:
        result: AssistResult = call["future"].result()
    except AssistantError as exc:
        return str(exc)
    except Exception as exc:  # the runner's own trouble: still plain, and the prompt is untouched
        return f"The text model could not be asked ({type(exc).__name__}). Your prompt is unchanged; try again."
    st.session_state.setdefault(ASSIST_SPEND, []).append((result.cost_usd, result.estimate_usd))
    st.session_state[ASSIST_MODEL] = (services.connection(), result.model)
    return result


def _notes() -> tuple[str, ...]:
    """The attached references as short lines (Describe's words when it was asked, else the file name)."""
    refs: list[ReferenceImage] = st.session_state.get(REFERENCES) or []
    described = {sha: call["result"].description for sha, call in (st.session_state.get(DESCRIBE_CALLS) or {}).items()
                 if isinstance(call.get("result"), AssistResult)}
    return tuple(assistant.reference_lines(refs, described))


def _ask(kind: str) -> None:
    """Improve prompt's and Variations' callback: start the call; the answer shows when it lands."""
    prompt = str(st.session_state.get(PROMPT) or "")
    if not prompt.strip():
        return
    task = Task(kind, prompt=prompt, count=int(st.session_state.get(VARIATION_COUNT, 4)), notes=_notes())
    st.session_state.pop(ASSIST_RESULT, None)
    st.session_state.pop(ASSIST_ERROR, None)
    future = _start(task)
    if future is not None:
        st.session_state[ASSIST_CALL] = {"task": task, "future": future}


def _use(text: str) -> None:
    """"Use it": the suggestion becomes the prompt (a callback, before the box is drawn)."""
    st.session_state[PROMPT] = text
    st.session_state[SAVED_PROMPT] = text
    st.session_state.pop(ASSIST_RESULT, None)


def _keep() -> None:
    st.session_state.pop(ASSIST_RESULT, None)
    st.session_state.pop(ASSIST_ERROR, None)


def _pending() -> bool:
    call = st.session_state.get(ASSIST_CALL)
    describing = [c for c in (st.session_state.get(DESCRIBE_CALLS) or {}).values() if "future" in c]
    return bool(call) or bool(describing)


@st.fragment(run_every=POLL_S)
def _poll() -> None:
    """While a call is out: redraw the whole page as soon as one is answered."""
    calls = [st.session_state.get(ASSIST_CALL), *(st.session_state.get(DESCRIBE_CALLS) or {}).values()]
    if live_wait.full_rerun_pending():  # a click or page switch is coming: it draws the answer; never replace it
        return
    if any(c and "future" in c and c["future"].done() for c in calls):
        st.rerun()


def _settle() -> None:
    """Move answered calls' results into place (each run, before drawing)."""
    call = st.session_state.get(ASSIST_CALL)
    if call and call["future"].done():
        st.session_state.pop(ASSIST_CALL)
        outcome = _collect(call)
        if isinstance(outcome, AssistResult):  # the prompt it answered: the one variations are versions of
            outcome = replace(outcome, extra={**outcome.extra, ASKED: call["task"].prompt})
        st.session_state[ASSIST_RESULT if isinstance(outcome, AssistResult) else ASSIST_ERROR] = outcome
    for sha, entry in list((st.session_state.get(DESCRIBE_CALLS) or {}).items()):
        if "future" in entry and entry["future"].done():
            outcome = _collect(entry)
            st.session_state[DESCRIBE_CALLS][sha] = ({"result": outcome} if isinstance(outcome, AssistResult)
                                                    else {"error": outcome})


def _cost_line(result: AssistResult, emulated: bool) -> str:
    return (f"{result.model.label} · cost {_money(result.cost_usd)} from usage "
            f"({result.prompt_tokens} tokens in, {result.output_tokens} out; estimated {_money(result.estimate_usd)})"
            + (" · emulated, nothing billed" if emulated else ""))


def render_prompt_tools(current_request: Callable[[], GenerationRequest]) -> None:
    """The buttons under the prompt box, their estimated costs, and the answer when it is in."""
    _settle()
    try:
        _table()
    except RegistryError as exc:  # the operator's table is malformed: say where, and keep the page working
        st.error(f"The prompt assistant is off: {exc}", icon="⚙️")
        return
    connection = services.connection()
    emulated = _emulated(connection)
    prompt = str(st.session_state.get(PROMPT) or "")
    model, table = _model(connection), _table()
    st.session_state.setdefault(VARIATION_COUNT, 4)
    count = int(st.session_state[VARIATION_COUNT])
    busy = bool(st.session_state.get(ASSIST_CALL))
    improve_col, vary_col, count_col, _ = st.columns([1.3, 1.1, 1, 2.6], vertical_alignment="bottom")
    empty = not prompt.strip()
    improve_col.button("Improve prompt", key="assist_improve", icon=":material/auto_fix_high:", on_click=_ask,
                       args=("improve",), disabled=empty or busy, help=EMPTY_HINT if empty else
                       f"Asks {model.label} for a sharper version; you see the changes before anything is replaced.")
    vary_col.button("Variations", key="assist_variations", icon=":material/shuffle:", on_click=_ask,
                    args=("variations",), disabled=empty or busy, help=EMPTY_HINT if empty else
                    f"Asks {model.label} for {count} distinct prompts, to generate as one set.")
    count_col.number_input("How many", min_value=assistant.MIN_VARIATIONS, max_value=assistant.MAX_VARIATIONS,
                           step=1, key=VARIATION_COUNT)
    if empty:
        st.caption(EMPTY_HINT)
    else:
        notes = _notes()
        improve = assistant.estimate_for(table, model, Task("improve", prompt=prompt, notes=notes))
        vary = assistant.estimate_for(table, model, Task("variations", prompt=prompt, count=count, notes=notes))
        describe = (f" · Describe a reference {_money(assistant.estimate_for(table, model, Task('describe')))}"
                    if st.session_state.get(REFERENCES) else "")
        st.caption(f"Estimated: Improve prompt {_money(improve)} · Variations {_money(vary)}{describe} with "
                   f"{model.label}" + (" · emulated, nothing billed" if emulated else ""))
    if busy:
        st.caption(f"Asking {model.label}… you can keep writing; the answer appears here.")
    if (error := st.session_state.get(ASSIST_ERROR)) is not None:
        st.error(str(error), icon="✋")
    if isinstance(result := st.session_state.get(ASSIST_RESULT), AssistResult):
        if result.task == "improve":
            _render_suggestion(result, prompt, emulated)
        else:
            _render_variations(result, prompt, emulated, current_request)
    if _pending():
        _poll()


def _render_suggestion(result: AssistResult, prompt: str, emulated: bool) -> None:
    with st.container(border=True, key="assist_suggestion"):
        st.markdown("**Suggested prompt** (added words in green, removed in red)")
        render_diff(prompt, result.prompt)
        st.caption(_cost_line(result, emulated))
        use, keep = st.columns(2)
        use.button("Use it", key="assist_use", type="primary", on_click=_use, args=(result.prompt,))
        keep.button("Keep mine", key="assist_keep", on_click=_keep)


def _origin(prompt: str) -> str | None:
    """The prompt version the variations come from: the one this prompt continues, else its newest entry."""
    parent = st.session_state.get(PARENT_ENTRY)
    if parent:
        return str(parent)
    store, namespace = services.get_store(), services.current_namespace()
    same = [e for e in store.list_entries(namespace, query=prompt, limit=20) if e.prompt == prompt]
    return same[0].id if same else None


def variations_request(variations: tuple[str, ...], prompt: str, base: GenerationRequest) -> GenerationRequest:
    """One job of one image per variation (image i uses variation i), with the sidebar's settings and lane."""
    return replace(base, prompt=prompt, prompts=tuple(variations), count=len(variations))


def _generate_all(variations: tuple[str, ...], prompt: str, current_request: Callable[[], GenerationRequest]) -> None:
    """Submit the variations as ONE job on the person's lane (a Google batch on the batch lane); each image is
    recorded with its own prompt, as a new version of the prompt it varies."""
    request = variations_request(variations, prompt, current_request())
    if not auth.ensure_fresh_token() or not team.check_spend(request):
        return
    if jobs.submit(models.with_account_settings(request), parent_id=_origin(prompt)) is not None:
        models.after_sending()  # as Generate: the cards come into view and the lane goes back to Now
        st.session_state.pop(ASSIST_RESULT, None)
        st.toast(f"{len(variations)} variations sent as one job: each is saved with its own prompt, as a new "
                 "version of yours.")


def _generate_all_estimate(variations: tuple[str, ...], prompt: str,
                           current_request: Callable[[], GenerationRequest]) -> str:
    """"Generate all"'s cost before it runs: every variation's image, at the chosen lane's price."""
    request = variations_request(variations, prompt, current_request())
    spec = services.get_catalogue().resolve(request.model_id)
    estimate = spec.estimate_cost(request.image_size, request.count, len(request.references), request.lane)
    lane = {"batch": " on the Batch lane", "flex": " on the Flex lane"}.get(request.lane, "")
    return f"Generate all {request.count}: estimated ${estimate:.3f} for {request.count} images{lane}."


def _render_variations(result: AssistResult, prompt: str, emulated: bool,
                       current_request: Callable[[], GenerationRequest]) -> None:
    with st.container(border=True, key="assist_variations_box"):
        st.markdown(f"**{len(result.variations)} variations of your prompt**")
        for i, text in enumerate(result.variations, start=1):
            line, use = st.columns([8, 1], vertical_alignment="center")
            line.markdown(f"{i}\\. {md_escape(text)}")
            use.button("Use it", key=f"assist_use_variation_{i}", on_click=_use, args=(text,),
                       help="Put this one in the prompt box instead of yours.")
        st.caption(_cost_line(result, emulated))
        prompt = str(result.extra.get(ASKED) or prompt)  # edited since? the set still varies what was asked
        if estimate := _generate_all_estimate(result.variations, prompt, current_request):
            st.caption(estimate + (" · emulated, nothing billed" if emulated else ""))
        go, keep = st.columns(2)
        if go.button(f"Generate all {len(result.variations)}", key="assist_generate_all", type="primary",
                     help="One job of one image per variation (one Google batch on the Batch lane), each "
                          "recorded with its own prompt and linked to your prompt."):
            _generate_all(result.variations, prompt, current_request)
            st.rerun()
        keep.button("Keep mine", key="assist_keep_variations", on_click=_keep)


# ---- Describe on a reference ------------------------------------------------------------------


def _describe(ref: ReferenceImage) -> None:
    future = _start(Task("describe", reference=ref))
    if future is not None:
        st.session_state.setdefault(DESCRIBE_CALLS, {})[ref.sha256] = {"future": future}


def _use_role(index: int, role: str) -> None:
    refs: list[ReferenceImage] = st.session_state.get(REFERENCES) or []
    if index < len(refs):
        refs[index] = replace(refs[index], role=role)


def render_describe(index: int, ref: ReferenceImage) -> None:
    """Describe under one reference: its estimated cost, then the proposed role and one line."""
    _settle()
    try:
        _table()
    except RegistryError:  # the prompt tools above say why the assistant is off
        return
    entry = (st.session_state.get(DESCRIBE_CALLS) or {}).get(ref.sha256) or {}
    connection = services.connection()
    model = _model(connection)
    estimate = assistant.estimate_for(_table(), model, Task("describe", reference=ref))
    st.button("Describe", key=f"ref_describe_{index}_{ref.sha256[:8]}", on_click=_describe, args=(ref,),
              disabled="future" in entry,
              help=f"Asks {model.label} what this image is (character, object, style or background) and for one "
                   f"line about it · estimated {_money(estimate)}" + (" · emulated" if _emulated(connection) else ""))
    if "future" in entry:
        st.caption("Describing…")  # the prompt tools' timer redraws the page when the answer lands
    elif isinstance(result := entry.get("result"), AssistResult):
        st.caption(f"{result.role.capitalize()}: {md_escape(result.description)} ({_money(result.cost_usd)})")
        if result.role != ref.role:
            st.button(f"Use {result.role}", key=f"ref_use_role_{index}_{ref.sha256[:8]}", on_click=_use_role,
                      args=(index, result.role))
    elif entry.get("error"):
        st.caption(md_escape(str(entry["error"])))
