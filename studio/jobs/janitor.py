"""Nothing stays "running" forever: entries whose sending process died are marked interrupted.

A process on this host that no longer exists is dead at once (a restart is seen on the first page
load); any other owner is trusted while it keeps heartbeating, and interrupted once its heartbeat is stale.
"""

from __future__ import annotations

import os
import socket
import time

from studio.history import HistoryStore
from studio.history.batch_records import BATCH_OWNER

INTERRUPTED_MESSAGE = ("The studio restarted while this image was being made, so it was not finished. "
                       "Press Retry to make it again.")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def owner_is_gone(owner: str | None, me: str, heartbeat_at: float | None, stale_after_s: float,
                  now: float | None = None) -> bool:
    """Whether the process named by ``owner`` can no longer finish its entry."""
    if owner in (me, BATCH_OWNER):  # a batch lane image is Google's to finish: it is collected later
        return False
    now = time.time() if now is None else now
    if heartbeat_at is None or now - heartbeat_at > stale_after_s:
        return True
    host, _, rest = (owner or "").partition("|")
    pid_text = rest.partition("|")[0]
    if host == socket.gethostname() and pid_text.isdigit():
        return int(pid_text) != os.getpid() and not _pid_alive(int(pid_text))
    return False


def interrupt_abandoned(store: HistoryStore, me: str, stale_after_s: float) -> int:
    """Mark the abandoned running entries of every identity in ``store`` as interrupted; returns how many."""
    marked = 0
    for namespace, entry_id, owner, heartbeat_at in store.running_entries():
        if owner_is_gone(owner, me, heartbeat_at, stale_after_s):
            marked += store.end_entry(namespace, entry_id, "interrupted", "interrupted", INTERRUPTED_MESSAGE)
    return marked
