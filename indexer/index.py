"""The search index: one Whoosh document per stored message (by SHA-256), listing every folder
that holds a live copy; kept in step with the store incrementally and crash-safely.

Beside the Whoosh files, ``state.sqlite`` records what each document was made from (the
message's live places and flags). An update compares that with the store: only what changed
is re-indexed. Whoosh commits first, the state second, so a crash between them only means
the same documents are written again next time.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from whoosh import index as windex
from whoosh.searching import Searcher
from whoosh.writing import LockError

from app.errors import MailproofError, StoreError
from app.store.blobs import BlobStore
from app.store.index_state import IndexState, thread_ids
from app.tasks import CancelToken, Progress, no_progress
from indexer import decrypted, engine
from indexer import query as mq
from indexer.decrypted import PrivateIndex
from indexer.results import CheckReport, CorruptIndex, Hit, IndexBusy, OutdatedIndex, UpdateReport
from indexer.schema import SCHEMA, SCHEMA_VERSION, MailCodec, document
from indexer.snippets import query_words, with_snippet
from indexer.state import changes, copies, desired, drift
from indexer.whoosh_private import open_writer
from indexer.workers import index_in_workers

if TYPE_CHECKING:
    from app.store.library import Library

BATCH = 2000  # documents per Whoosh commit: a kill -9 loses at most one batch of work
PARALLEL_BATCH = 20000  # with several writer processes a commit costs more: fewer, larger ones
PARALLEL_FROM = 2000  # updates smaller than this are not worth starting processes for
# Each writer process leaves its own segment (multisegment): merging them into one costs more
# than the indexing did (measured: 15 s to merge what 4,000 messages took 11 s to index).
LOCK_WAIT_SECONDS = 20.0
INDEX_NAME = "messages"

__all__ = [
    "CheckReport",
    "CorruptIndex",
    "Hit",
    "IndexBusy",
    "MailIndex",
    "OutdatedIndex",
    "UpdateReport",
]

T = TypeVar("T")


class MailIndex:
    """The index under ``<data home>/index`` for one library."""

    def __init__(self, library: Library | Path, directory: Path | None = None) -> None:
        """``library`` or just the data home: searching needs only the index and the blobs,
        so ``mailproof search`` does not load the store's code until an update needs it."""
        if isinstance(library, Path):
            self.home = library
            self._library: Library | None = None
        else:
            self.home = library.home
            self._library = library
        self.blobs = BlobStore(self.home / "blobs")
        self.directory = directory or self.home / "index"
        self._state = IndexState(self.directory)  # state.sqlite
        self._index: Any = None
        self.notices: list[str] = []  # what the user should be told (a rebuild, a repair)
        self.private: PrivateIndex | None = None
        self._anchors: list[Any] | None = None
        self._searcher: Any = None
        self._spare: Any = None  # the searcher _open checked the index with, not yet used
        self._search_lock = threading.RLock()  # searcher() may set a damaged index aside

    @property
    def library(self) -> Library:
        if self._library is None:
            from app.store.library import Library

            self._library = Library(self.home)
        return self._library

    # ---- opening ------------------------------------------------------------------------

    def exists(self) -> bool:
        # By file name only: opening a damaged table of contents is _open's business.
        return self.directory.is_dir() and any(self.directory.glob(f"_{INDEX_NAME}_*.toc"))

    def _open(self, create: bool) -> Any:
        if self._index is not None:
            return self._index
        try:
            if self.exists():
                if self._state.schema_version() != str(SCHEMA_VERSION):
                    raise OutdatedIndex("the search index was made by another Mailproof version")
                index = windex.open_dir(str(self.directory), indexname=INDEX_NAME)
                searcher = index.searcher()  # opening every segment is the check...
                searcher.doc_count()
                self._spare = searcher  # ...and the first search uses it (~5 ms at 100k)
            elif create:
                index = self._create()
            else:
                return None
        except CorruptIndex:
            raise
        except Exception as err:  # Whoosh raises many kinds when its files are damaged
            raise CorruptIndex(f"the search index in {self.directory} is damaged: {err}") from err
        self._index = index
        return index

    def _create(self) -> Any:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._state.start_afresh(SCHEMA_VERSION)
        return windex.create_in(str(self.directory), SCHEMA, indexname=INDEX_NAME)

    def set_aside(self, reason: str) -> None:
        """Move a damaged index out of the way (kept for a bug report) and start afresh."""
        self._index = None
        self.close()
        if "another Mailproof version" in reason and self.directory.exists():
            shutil.rmtree(self.directory)
            self.notices.append(
                "The search index is being rebuilt for this version of Mailproof "
                "(it holds only copies of what the store has)."
            )
            return
        if self.directory.exists():
            stamp = int(time.time())
            aside = self.directory.with_name(f"{self.directory.name}.damaged-{stamp}")
            number = 1
            while aside.exists():  # an earlier damaged copy is kept too, not overwritten
                number += 1
                aside = self.directory.with_name(f"{self.directory.name}.damaged-{stamp}-{number}")
            os.replace(self.directory, aside)
            self.notices.append(
                f"The search index was damaged ({reason}); it was moved to {aside} and is "
                "being rebuilt from the store. No mail is lost: the index holds only copies."
            )

    def open_or_rebuild(self) -> Any:
        """The index, rebuilt (empty) when it was damaged."""
        try:
            return self._open(create=True)
        except CorruptIndex as err:
            self.set_aside(str(err))
            return self._open(create=True)

    def repairing(
        self,
        run: Callable[[], T],
        progress: Progress = no_progress,
        processes: int = 1,
        cancel: CancelToken | None = None,
    ) -> T:
        """``run()`` (a search or a count); when the index turns out damaged, it is set aside,
        rebuilt from the store (with ``progress``, ``cancel`` and ``processes``, see
        ``update``) and ``run()`` answers from the new one. The CLI and the window both search
        through this."""
        try:
            return run()
        except CorruptIndex as err:
            self.set_aside(str(err))
            self.update(progress=progress, cancel=cancel, processes=processes)
            return run()

    # ---- updating -----------------------------------------------------------------------

    def update(
        self,
        progress: Progress = no_progress,
        cancel: CancelToken | None = None,
        *,
        rebuild: bool = False,
        processes: int = 1,
    ) -> UpdateReport:
        """Bring the index in step with the store; only changed messages are read again.

        ``processes`` > 1 reads, parses and indexes batches of at least PARALLEL_FROM messages
        in that many forked worker processes (only from a process without other threads,
        i.e. the CLI, not the window); see ``indexer.workers``.
        """
        report = UpdateReport()
        if rebuild:
            self.close()
            self._index = None
            if self.directory.exists():
                shutil.rmtree(self.directory)
        try:
            index = self._open(create=True)
        except CorruptIndex as err:
            report.rebuilt_because = str(err)
            self.set_aside(str(err))
            index = self._open(create=True)
        wanted = desired(self.library)
        plan = changes(wanted, self._state.recorded())
        to_index = plan.to_index
        report.unchanged = plan.unchanged
        total = len(to_index) + len(plan.to_remove)
        progress(0, total)
        if not total:
            return report
        done = 0
        threads = thread_ids(self.library, to_index)
        pending_removals = list(plan.to_remove)
        parallel = processes > 1 and len(to_index) >= PARALLEL_FROM
        batch = _batch_from_env() or (PARALLEL_BATCH if parallel else BATCH)
        with index.searcher() as searcher:
            fresh = searcher.doc_count_all() == 0  # nothing to replace: add, don't update

        def document_of(sha: str, into: UpdateReport) -> dict[str, object] | None:
            return self._document(sha, wanted[sha][1], threads.get(sha), into)

        for start in range(0, max(len(to_index), 1), batch):
            if cancel is not None:
                cancel.check()
            chunk = to_index[start : start + batch]
            with self._writer(index) as writer:
                for sha in pending_removals:
                    writer.delete_by_term("sha256", sha)
                if parallel:

                    def advanced(number: int, base: int = done) -> None:
                        progress(base + number, total)

                    written = index_in_workers(
                        index,
                        writer,
                        chunk,
                        document_of,
                        fresh,
                        processes,
                        report,
                        advanced,
                        cancel,
                    )
                    done += len(chunk)
                else:
                    written = []
                    for sha in chunk:
                        if cancel is not None and cancel.cancelled:
                            break
                        doc = document_of(sha, report)
                        done += 1
                        if done % 100 == 0:
                            progress(done, total)
                        if doc is None:
                            continue
                        if fresh:
                            writer.add_document(**doc)
                        else:
                            writer.update_document(**doc)
                        written.append(sha)
            self._state.record(pending_removals, [(sha, wanted[sha][0]) for sha in written])
            report.removed += len(pending_removals)
            report.indexed += len(written)
            done += len(pending_removals)
            pending_removals = []
            progress(done, total)
        if cancel is not None:
            cancel.check()
        return report

    @contextlib.contextmanager
    def _writer(self, index: Any) -> Iterator[Any]:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                writer = open_writer(index, MailCodec())
                break
            except LockError:
                if time.monotonic() > deadline:
                    raise IndexBusy(
                        "another Mailproof process is updating the search index; "
                        "try again when it has finished"
                    ) from None
                time.sleep(0.2)
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise
        if not writer.is_closed:  # the workers' path has committed it already
            writer.commit()

    def _document(
        self, sha256: str, places: str, thread: str | None, report: UpdateReport
    ) -> dict[str, object] | None:
        try:
            raw = self.blobs.get(sha256)
        except (OSError, StoreError) as err:
            report.problems.append(f"{sha256[:12]}: the stored message cannot be read: {err}")
            return None
        from app.mime.facts import read_facts

        facts = read_facts(raw)
        doc = document(sha256, len(raw), facts, copies(places), thread)
        if facts.is_signed and not facts.is_encrypted:
            doc["sig"] = self._signature_status(raw)
        return doc

    def _signature_status(self, raw: bytes) -> str:
        """S/MIME signatures are checked while indexing (in process, against the trust
        anchors); OpenPGP ones would need a gpg run per message and are ``unchecked``."""
        head = raw[:8192]
        if b"application/pgp-signature" in head or b"BEGIN PGP SIGNED MESSAGE" in raw:
            return "unchecked"
        from app.crypto.secure import KeyMaterial, read_secure

        if self._anchors is None:
            from app.crypto import keys, smime

            self._anchors = [*smime.system_anchors(), *keys.trust_anchors()]
        material = KeyMaterial(anchors=self._anchors)
        reading = read_secure(raw, keys=lambda: material)
        if not reading.signature_covers_whole_message:
            return "partial" if any(p.signature.status != "none" for p in reading.parts) else "none"
        return reading.signature.status

    # ---- checking -----------------------------------------------------------------------

    def check(self, repair: bool = True, progress: Progress = no_progress) -> CheckReport:
        """Compare index, state and store; with ``repair``, re-index whatever drifted."""
        try:
            index = self._open(create=True)
        except CorruptIndex as err:
            if not repair:
                raise
            self.set_aside(str(err))
            index = self._open(create=True)
        wanted = desired(self.library)
        with index.searcher() as searcher:
            in_index = {term.decode() for term in searcher.lexicon("sha256")}
            documents = searcher.doc_count()
        missing, extra, stale = drift(wanted, self._state.recorded(), in_index)
        report = CheckReport(documents, len(wanted), missing, extra, stale)
        if repair and not report.clean:
            # Documents the state does not know are removed by the next update.
            self._state.forget([*missing, *extra, *stale], unknown=extra)
            self.update(progress)
        return report

    # ---- searching ----------------------------------------------------------------------

    def searcher(self) -> Searcher:
        index = self._open(create=False)
        if index is None:
            index = self.open_or_rebuild()
        spare, self._spare = self._spare, None
        if spare is not None:
            with contextlib.suppress(Exception):
                if spare.reader().generation() == index.latest_generation():
                    return spare
            with contextlib.suppress(Exception):
                spare.close()
        try:
            return index.searcher()
        except Exception as err:
            raise CorruptIndex(f"the search index in {self.directory} is damaged: {err}") from err

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Searcher]:
        """One searcher kept open across searches and replaced when the index changed.

        Not Whoosh's ``Searcher.refresh()``: it reuses a segment's reader when the segment's
        name is unchanged although its deletions changed, and adds back the segments a merge
        removed (Whoosh-Reloaded 2.7.5) — a replaced message would show twice. A new searcher
        opens in a few milliseconds with plain segment files."""
        with self._search_lock:
            current = self._searcher
            try:
                if current is not None:
                    try:
                        index = self._open(create=False)
                        stale = index is None or (
                            index.latest_generation() != current.reader().generation()
                        )
                    except Exception:  # noqa: BLE001 - e.g. ReaderClosed: open a new one
                        stale = True
                    if stale:
                        with contextlib.suppress(Exception):
                            current.close()
                        current = None
                if current is None:
                    current = self.searcher()
            except CorruptIndex:
                self._searcher = None
                raise
            except Exception as err:
                self._searcher = None
                raise CorruptIndex(f"the search index cannot be read: {err}") from err
            self._searcher = current
            yield current

    def _with_searcher(self, use: Any) -> Any:
        """``use(searcher)`` on the kept searcher; once more on a new one if Whoosh closed the
        old one's files under it (a merge by a later update)."""
        from whoosh.reading import ReaderClosed

        try:
            with self._reading() as searcher:
                return use(searcher)
        except ReaderClosed:
            self.close()
            self._index = None  # reopen from the table of contents on disk
            with self._reading() as searcher:
                return use(searcher)

    def close(self) -> None:
        with self._search_lock:
            for kept in (self._searcher, self._spare):
                if kept is not None:
                    with contextlib.suppress(Exception):  # already closed by Whoosh is fine
                        kept.close()
            self._searcher = self._spare = None

    def search(
        self,
        text: str,
        *,
        limit: int | None = 100,
        sort: str = "date",
        snippets: bool = True,
        cancel: CancelToken | None = None,
    ) -> list[Hit]:
        """Hits for a query in Mailproof's language, newest first or by relevance."""
        return self.find(text, limit=limit, sort=sort, snippets=snippets, cancel=cancel)[0]

    def find(
        self,
        text: str,
        *,
        limit: int | None = 100,
        sort: str = "date",
        snippets: bool = True,
        cancel: CancelToken | None = None,
    ) -> tuple[list[Hit], int]:
        """The first ``limit`` hits and how many messages match in all.

        With a private index (decrypted bodies, in memory while the keys are unlocked), an
        encrypted message is searched there instead of in its on-disk entry.
        """
        parsed = mq.parse(text)
        words = query_words(parsed)
        private = self.private
        try:
            mask = private.mask() if private is not None and private.bodies else None
            hits, total = self._with_searcher(
                lambda searcher: decrypted.collect(searcher, parsed, limit, sort, mask, cancel)
            )
            if private is not None and private.bodies:
                with private.index.searcher() as searcher:
                    more, extra = decrypted.collect(searcher, parsed, limit, sort, None, cancel)
                hits = decrypted.merge(hits, more, sort, limit)
                total += extra
        except (MailproofError, mq.QuerySyntaxError):
            raise
        except Exception as err:
            raise CorruptIndex(f"the search index cannot be read: {err}") from err
        if snippets:
            private = self.private  # as it is now: a lock meanwhile drops the decrypted text
            bodies = private.bodies if private is not None else {}
            hits = [with_snippet(hit, words, bodies, self.blobs) for hit in hits]
        return hits, total

    def build_private(
        self,
        load_keys: Any,
        progress: Progress = no_progress,
        cancel: CancelToken | None = None,
    ) -> int:
        """Decrypt every stored encrypted message in memory and index it in a RAM index; the
        on-disk index never sees the decrypted text. Returns how many were decrypted."""
        self.private = decrypted.build(
            self.library, self.blobs, desired(self.library), load_keys, progress, cancel
        )
        return len(self.private.bodies)

    def drop_private(self) -> None:
        """Forget the decrypted index (the window's lock does this)."""
        self.private = None

    def count(self, text: str) -> int:
        parsed = mq.parse(text)
        try:
            return int(self._with_searcher(lambda s: engine.count(s, parsed)))
        except (MailproofError, mq.QuerySyntaxError):
            raise
        except Exception as err:
            raise CorruptIndex(f"the search index cannot be read: {err}") from err


def _batch_from_env() -> int | None:
    """``MAILPROOF_INDEX_BATCH``: documents per commit (smaller: less work lost to a crash,
    slower indexing; the kill -9 test uses it to stop a rebuild between two commits)."""
    text = os.environ.get("MAILPROOF_INDEX_BATCH", "")
    return int(text) if text.isdigit() and int(text) > 0 else None
