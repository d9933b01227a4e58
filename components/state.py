"""Every st.session_state key the studio uses, in one place (docs/ARCHITECTURE.md lists them).

A key is a contract between modules (and with tests that seed state), so each is named once here.
Widget keys that are also sidebar settings (``prompt``, ``model_key``, ``aspect_ratio``…) live in
``components.sidebar.DEFAULTS``.
"""

from __future__ import annotations

from typing import Final

# connection and identity
CONNECTION: Final = "connection"  # studio.credentials.Connection, memory only
OAUTH_TOKEN: Final = "oauth_token"  # the Google token dict, memory only
OAUTH_QUOTA_PROJECT: Final = "oauth_quota_project"
OAUTH_NOTICE: Final = "oauth_notice"
OAUTH_ATTEMPT: Final = "oauth_attempt"
VERTEX_PROJECT: Final = "vertex_project"
VERTEX_LOCATION: Final = "vertex_location"
CONNECT_NOTES: Final = "connect_notes"  # notes about the key the person pasted (spaces removed…)

TEAM_EMAIL_CHECK: Final = "team_email_check"  # the verified email of a Google sign-in, checked once for [team]

MODEL_CHECK: Final = "model_check"  # (connection it was made for, studio.model_check.ModelCheck or None)
NAMESPACE: Final = "history_namespace"  # (connection it was worked out for, its History namespace)
BROWSER_ID: Final = "browser_id"  # this browser's anonymous id (its cookie's, or new), for visitors not signed in

# private sessions
PRIVATE: Final = "private_session"  # the sidebar toggle
PRIVATE_STORE: Final = "private_store"
PRIVATE_RELEASED: Final = "private_released"  # the idle private store was released: say so once

# prompt and references
PROMPT: Final = "prompt"
LANE: Final = "lane"  # the radio beside Generate: LANE_NOW, LANE_BATCH or LANE_FLEX
LANE_NOW: Final = "Now"
LANE_BATCH: Final = "Batch — half price, within 24 h"
LANE_FLEX: Final = "Flex — about half price, in minutes"
LANE_CODES: Final = {LANE_NOW: "now", LANE_BATCH: "batch", LANE_FLEX: "flex"}  # radio label -> request lane
SAVED_LANE: Final = "saved_lane"  # the lane's copy that survives pages without the radio
BATCHES_RESUMED: Final = "batches_resumed_for"  # the namespace whose stored batches this session picked up
SCROLL_TO_RESULTS: Final = "scroll_to_results"  # Generate presses so far: each brings the new cards into view
SCROLLED_TO_RESULTS: Final = "scrolled_to_results"  # the press whose scroll script was drawn
SAVED_PROMPT: Final = "saved_prompt"  # the prompt box's copy that survives pages without the box
REFERENCES: Final = "references"
UPLOAD_NOTICES: Final = "upload_notices"
UPLOADER_ROUND: Final = "uploader_round"
FOUND_RECIPE: Final = "found_recipe"

# results and jobs
SESSION_ENTRIES: Final = "session_entry_ids"  # this session's grid, newest first
FOLLOWED_JOBS: Final = "followed_job_ids"  # runner jobs this page shows
LIVE_ACTIVE: Final = "live_jobs_active"  # whether the live panel is polling
LIVE_VERSION: Final = "live_jobs_version"  # the runner's change counter at the last drawing
LIVE_FINISHING: Final = "live_jobs_finishing"  # the last image is drawn: rerun the page on the next tick
DELETED_ENTRIES: Final = "deleted_entry_ids"  # for Undo
HISTORY_VIEW: Final = "history_view"  # History's "Gallery" / "List" switch
HISTORY_OPEN: Final = "history_open_entry"  # the entry a History tile opened
IMPORTED_ENTRIES: Final = "imported_entry_ids"  # the last import's entries, highlighted
IMPORT_ROUND: Final = "import_round"  # bumped after an import: a fresh (empty) uploader
IMPORT_NOTICE: Final = "import_notice"  # "Imported N entries.", shown after the rerun

# requests between pages and callbacks
RETRY_ENTRY: Final = "retry_entry_id"
RERUN_ENTRY: Final = "rerun_entry_id"
PARENT_ENTRY: Final = "parent_entry_id"
GOTO_GENERATE: Final = "goto_generate"

# edit threads
EDIT_ENTRY: Final = "edit_entry_id"  # the version the Edit page shows (also in the URL: ?entry=<id>)
EDIT_AREA: Final = "edit_area"  # the Edit page's "Edit area" control: AREA_WHOLE or AREA_PAINTED
AREA_WHOLE: Final = "Whole image"
AREA_PAINTED: Final = "Painted region"
EDIT_AREA_OPEN: Final = "edit_area_open"  # "Edit" / "Edit region" ask the Edit page to open in that mode
EDIT_AREA_KEPT: Final = "edit_area_kept"  # the control's last choice, kept while a version is being made
REGION_MASKS: Final = "region_masks"  # entry id -> (canvas nonce, mask PNG at the image's size) painted for it
REGION_PICTURE: Final = "region_picture"  # (entry id, (the canvas background as a JPEG data URL, width, height))
REGION_WHOLE: Final = "region_whole_edits"  # versions whose painted area covered everything: edited whole, said so

# models (components/models.py)
FITTED_MODEL: Final = "fitted_model_id"  # the model the sidebar's settings were last fitted to
MODEL_NOTES: Final = "model_notes"  # sentences about settings mapped to the chosen model, shown once
PAGE_SETTINGS: Final = "sidebar_page_settings"  # the sidebar settings the page was last drawn with
UNAVAILABLE_MODELS: Final = "unavailable_models"  # model ID -> why: Google answered 404 this session
FALLBACK_ENTRY: Final = "fallback_entry_id"  # a failed entry to make again on its fallback model (Generate sends it)
FALLEN_BACK: Final = "fallen_back_entry_ids"  # failed entries already sent to a fallback model automatically
STORE_REQUESTS: Final = "store_requests"  # the Account setting "Let Google keep my requests" (off: store=false)

# the prompt assistant (components/prompt_assist.py)
ASSIST_CALL: Final = "assist_call"  # the Improve prompt / Variations call in flight: {"task", "future", "estimate"}
ASSIST_RESULT: Final = "assist_result"  # its answer shown beside the prompt (studio.assistant.AssistResult)
ASSIST_ERROR: Final = "assist_error"  # why it gave none, in plain words
ASSIST_SPEND: Final = "assist_spend"  # [(cost from usage, estimate)] of this session's assistant calls
ASSIST_MODEL: Final = "assist_model"  # (connection, studio.text_model.TextModel) the credential's list gave
VARIATION_COUNT: Final = "variation_count"  # the "How many" box beside Variations
DESCRIBE_CALLS: Final = "describe_calls"  # reference sha256 -> {"future"} in flight, or {"result"} / {"error"}
# search by meaning (components/semantic_search.py)
MORE_LIKE: Final = "more_like_entry_id"  # History shows the entries most like this one ("More like this")
MEANING: Final = "history_meaning"  # the "Search by meaning" toggle beside History's search box
