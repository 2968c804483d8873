"""What IMAP sync and flag changes keep in the store: each folder's numbering (UIDVALIDITY,
UIDNEXT, HIGHESTMODSEQ) and its copies' UIDs, flags and the time they left the server."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Mapping

from app.store.db import transaction
from app.store.records import RetiredCopy


class SyncState:
    """IMAP folder and copy state on the calling thread's connection; ``clock`` stamps changes."""

    def __init__(
        self, connection: Callable[[], sqlite3.Connection], clock: Callable[[], str]
    ) -> None:
        self._connection = connection
        self._clock = clock

    def live_count(self, folder_id: int, uidvalidity: int) -> int:
        """Copies still on the server under this numbering."""
        row = (
            self._connection()
            .execute(
                "SELECT COUNT(*) FROM copies WHERE folder_id=? AND uidvalidity=? "
                "AND expunged_at IS NULL",
                (folder_id, uidvalidity),
            )
            .fetchone()
        )
        return int(row[0])

    def live_flags(self, folder_id: int, uidvalidity: int) -> dict[int, str]:
        """UID → stored flags of every copy still on the server under this numbering."""
        return {
            int(row["uid"]): row["flags"]
            for row in self._connection().execute(
                "SELECT uid, flags FROM copies WHERE folder_id=? AND uidvalidity=? "
                "AND expunged_at IS NULL",
                (folder_id, uidvalidity),
            )
        }

    def copy_at_uid(self, folder_id: int, uid: int) -> int | None:
        """The id of the copy at ``uid`` under the folder's newest numbering."""
        connection = self._connection()
        row = connection.execute(
            "SELECT id FROM copies WHERE folder_id=? AND uid=? ORDER BY uidvalidity DESC LIMIT 1",
            (folder_id, uid),
        ).fetchone()
        return None if row is None else int(row["id"])

    def mark_checked(self, folder_id: int) -> None:
        """The folder was found unchanged: only its sync time moves."""
        self._connection().execute(
            "UPDATE folders SET synced_at=? WHERE id=?", (self._clock(), folder_id)
        )

    def save_numbering(
        self, folder_id: int, uidvalidity: int, uidnext: int, highestmodseq: int | None
    ) -> None:
        """What a complete folder sync saw; saved last, so only a finished sync claims it."""
        self._connection().execute(
            "UPDATE folders SET uidvalidity=?, uidnext=?, highestmodseq=?, synced_at=? WHERE id=?",
            (uidvalidity, uidnext, highestmodseq, self._clock(), folder_id),
        )

    def set_flags(self, folder_id: int, uidvalidity: int, flags: Mapping[int, str]) -> None:
        """New flags of the copies at these UIDs (UID → flags), in one transaction."""
        if not flags:
            return
        connection = self._connection()
        with transaction(connection):
            connection.executemany(
                "UPDATE copies SET flags=? WHERE folder_id=? AND uidvalidity=? AND uid=?",
                [(text, folder_id, uidvalidity, uid) for uid, text in flags.items()],
            )

    def mark_expunged(self, folder_id: int, uidvalidity: int, uids: Collection[int]) -> None:
        """These UIDs are gone from the server: their copies are kept, stamped ``expunged_at``."""
        if not uids:
            return
        stamp = self._clock()
        connection = self._connection()
        with transaction(connection):
            connection.executemany(
                "UPDATE copies SET expunged_at=? WHERE folder_id=? AND uidvalidity=? AND uid=? "
                "AND expunged_at IS NULL",
                [(stamp, folder_id, uidvalidity, uid) for uid in uids],
            )

    def retire_numbering(self, folder_id: int, uidvalidity: int) -> list[RetiredCopy]:
        """The server renumbered the folder: every live copy under the old ``uidvalidity`` is
        stamped expunged (and kept) and the folder's UIDNEXT/HIGHESTMODSEQ forgotten, in one
        transaction. Returns those copies, candidates to re-map to their new UIDs."""
        stamp = self._clock()
        connection = self._connection()
        with transaction(connection):
            retired = [
                RetiredCopy(row["sha256"], int(row["uid"]), int(row["size"]))
                for row in connection.execute(
                    "SELECT c.sha256, c.uid, m.size FROM copies c JOIN messages m USING (sha256) "
                    "WHERE c.folder_id=? AND c.uidvalidity=? AND c.expunged_at IS NULL",
                    (folder_id, uidvalidity),
                )
            ]
            connection.execute(
                "UPDATE copies SET expunged_at=? WHERE folder_id=? AND uidvalidity=? "
                "AND expunged_at IS NULL",
                (stamp, folder_id, uidvalidity),
            )
            connection.execute(
                "UPDATE folders SET uidnext=NULL, highestmodseq=NULL WHERE id=?", (folder_id,)
            )
        return retired

    def set_copy_flags(self, copy_id: int, flags: str) -> None:
        self._connection().execute("UPDATE copies SET flags=? WHERE id=?", (flags, copy_id))

    def mark_copy_expunged(self, copy_id: int) -> None:
        """One copy found gone from the server (kept, stamped ``expunged_at``)."""
        self._connection().execute(
            "UPDATE copies SET expunged_at=? WHERE id=? AND expunged_at IS NULL",
            (self._clock(), copy_id),
        )
