"""Whether History outlives the app's container, so the page can say so when it does not.

Streamlit Community Cloud runs the app from ``/mount/src/<repo>`` in a container whose disk is wiped
by a reboot, a redeploy or waking from sleep: a SQLite file and a local image folder there are lost.
``STUDIO_EPHEMERAL_DISK=1`` (or ``0``) states it for any other host.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

COMMUNITY_CLOUD_ROOT = Path("/mount/src")


def disk_is_ephemeral(app_path: Path, env: Mapping[str, str] | None = None) -> bool:
    """True when this host's local disk does not survive a restart."""
    env = os.environ if env is None else env
    stated = (env.get("STUDIO_EPHEMERAL_DISK") or "").strip().lower()
    if stated in ("1", "true", "yes", "on"):
        return True
    if stated in ("0", "false", "no", "off"):
        return False
    return COMMUNITY_CLOUD_ROOT in app_path.resolve().parents


def history_is_lost_on_restart(*, database_is_local: bool, blobs_are_local: bool, ephemeral_disk: bool) -> bool:
    """History needs an outside database and file store where the disk is wiped."""
    return ephemeral_disk and (database_is_local or blobs_are_local)
