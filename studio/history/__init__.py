"""The persistent history of every generation attempt."""

from studio.history.archive import ArchiveError
from studio.history.namespaces import LOCAL, namespace_for
from studio.history.store import Entry, HistoryStore, default_data_dir

__all__ = ["LOCAL", "ArchiveError", "Entry", "HistoryStore", "default_data_dir", "namespace_for"]
