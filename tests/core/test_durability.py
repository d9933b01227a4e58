"""Where the disk is wiped on restart, History kept on it is said to be at risk."""

from __future__ import annotations

from pathlib import Path

from studio.durability import disk_is_ephemeral, history_is_lost_on_restart


def test_community_cloud_paths_and_the_explicit_setting() -> None:
    assert disk_is_ephemeral(Path("/mount/src/nano-banana/app_pages/history.py"), env={})
    assert not disk_is_ephemeral(Path("/home/me/studio/app_pages/history.py"), env={})
    assert disk_is_ephemeral(Path("/srv/app.py"), env={"STUDIO_EPHEMERAL_DISK": "1"})
    assert not disk_is_ephemeral(Path("/mount/src/x/app.py"), env={"STUDIO_EPHEMERAL_DISK": "0"})


def test_only_local_parts_on_a_wiped_disk_are_at_risk() -> None:
    assert history_is_lost_on_restart(database_is_local=True, blobs_are_local=False, ephemeral_disk=True)
    assert history_is_lost_on_restart(database_is_local=False, blobs_are_local=True, ephemeral_disk=True)
    assert not history_is_lost_on_restart(database_is_local=False, blobs_are_local=False, ephemeral_disk=True)
    assert not history_is_lost_on_restart(database_is_local=True, blobs_are_local=True, ephemeral_disk=False)
