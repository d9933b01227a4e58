"""The spend ledger: one row per billed attempt, kept apart from History so nothing a person does lowers it.

Deleting entries, the 7-day purge, a private session closing or a restart never remove a ledger row, so the
daily spend cap counts everything sent today. A row holds amounts only (never a prompt): private sessions
write theirs into the shared ledger too. The cap reads it with one aggregate query.
"""

from __future__ import annotations

from studio.history.database import Database

# what a row counts: the estimate taken before sending, or the cost from usage when that came out higher
_AMOUNT = "CASE WHEN cost_usd > estimated_usd THEN cost_usd ELSE estimated_usd END"


class SpendLedger:
    """Billed attempts per identity (namespace); the team's is the sum over every identity."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def charge(self, entry_id: str, namespace: str, created_at: float, estimated_usd: float) -> None:
        """An attempt is about to be sent: count its estimate from now on (once per entry)."""
        self.db.run("INSERT INTO spend_ledger (entry_id, namespace, created_at, estimated_usd, cost_usd) "
                    "VALUES (?, ?, ?, ?, 0) ON CONFLICT (entry_id) DO NOTHING",
                    (entry_id, namespace, created_at, float(estimated_usd or 0.0)))

    def bill(self, entry_id: str, cost_usd: float) -> None:
        """The cost from recorded usage, once the answer is in."""
        self.db.run("UPDATE spend_ledger SET cost_usd = ? WHERE entry_id = ?", (float(cost_usd or 0.0), entry_id))

    def spent(self, since: float, namespace: str | None = None) -> float:
        """USD billed since ``since``: one identity's, or the whole team's when ``namespace`` is None."""
        where, params = ("created_at >= ?", [since]) if namespace is None else \
            ("namespace = ? AND created_at >= ?", [namespace, since])
        row = self.db.row(f"SELECT COALESCE(SUM({_AMOUNT}), 0) FROM spend_ledger WHERE {where}", params)
        return round(float(row[0]), 6) if row else 0.0
