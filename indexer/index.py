"""The search index: one Whoosh document per stored message (by SHA-256), listing every folder
that holds a live copy; kept in step with the store incrementally and crash-safely.

Beside the Whoosh files, ``state.sqlite`` records what each document was made from (the
message's live places and flags). An update compares that with the store: only what changed
is re-indexed. Whoosh commits first, the state second, so a crash between them only means
the same documents are written again next time.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import index as windex
from whoosh import query as wq
from whoosh.searching import Searcher
from whoosh.writing import LockError

from app.errors import MailproofError, StoreError
from app.store.blobs import BlobStore
from app.store.index_state import IndexState, encrypted_messages, thread_ids
from app.tasks import CancelToken, Progress, no_progress
from indexer import engine
from indexer import query as mq
from indexer.schema import SCHEMA, SCHEMA_VERSION, TOKEN_PATTERN, MailCodec, document, stem_word
from indexer.state import changes, copies, desired, drift
from indexer.whoosh_private import (
    commit_with_segments,
    finish_worker_segment,
    open_writer,
    worker_writer,
)

if TYPE_CHECKING:
    from app.store.library import Library

BATCH = 2000  # documents per Whoosh commit: a kill -9 loses at most one batch of work
PARALLEL_BATCH = 20000  # with several writer processes a commit costs more: fewer, larger ones
PARALLEL_FROM = 2000  # updates smaller than this are not worth starting processes for
# Each writer process leaves its own segment (multisegment): merging them into one costs more
# than the indexing did (measured: 15 s to merge what 4,000 messages took 11 s to index).
LOCK_WAIT_SECONDS = 20.0
SNIPPET_CHARS = 160
INDEX_NAME = "messages"


class CorruptIndex(MailproofError):
    """The index files cannot be read (exit 3)."""

    exit_code = 3


class OutdatedIndex(CorruptIndex):
    """The index has an older layout: it is rebuilt, not repaired."""


class IndexBusy(MailproofError):
    """Another Mailproof process is writing the index (exit 3)."""

    exit_code = 3


@dataclass(frozen=True)
class Hit:
    sha256: str
    message_id: str | None
    subject: str
    from_: str
    date: str | None
    folders: tuple[str, ...]
    places: tuple[tuple[str, str], ...]  # (account, folder) of every live copy
    score: float
    snippet: str = ""
    highlights: tuple[tuple[int, int], ...] = ()
    preview: bytes = field(default=b"", repr=False, compare=False)  # for the snippet only

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "subject": self.subject,
            "from": self.from_,
            "date": self.date,
            "folders": list(self.folders),
            "places": [{"account": a, "folder": f} for a, f in self.places],
            "sha256": self.sha256,
            "snippet": self.snippet,
            "highlights": [list(span) for span in self.highlights],
            "score": round(self.score, 4),
        }


@dataclass
class UpdateReport:
    indexed: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)
    rebuilt_because: str | None = None


@dataclass(frozen=True)
class CheckReport:
    documents: int
    expected: int
    missing: tuple[str, ...]  # in the store, not in the index
    extra: tuple[str, ...]  # in the index, no longer in the store
    stale: tuple[str, ...]  # indexed from an older state of their copies

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale)

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "expected": self.expected,
            "missing": len(self.missing),
            "extra": len(self.extra),
            "stale": len(self.stale),
            "clean": self.clean,
        }


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

    def _set_aside(self, reason: str) -> None:
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
            self._set_aside(str(err))
            return self._open(create=True)

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
        i.e. the CLI, not the window); see ``_index_in_workers``.
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
            self._set_aside(str(err))
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
        for start in range(0, max(len(to_index), 1), batch):
            if cancel is not None:
                cancel.check()
            chunk = to_index[start : start + batch]
            with self._writer(index) as writer:
                for sha in pending_removals:
                    writer.delete_by_term("sha256", sha)
                if parallel:
                    written = self._index_in_workers(
                        index, writer, chunk, wanted, threads, fresh, processes, report,
                        lambda n, base=done: progress(base + n, total), cancel,
                    )  # fmt: skip
                    done += len(chunk)
                else:
                    written = []
                    for sha in chunk:
                        if cancel is not None and cancel.cancelled:
                            break
                        doc = self._document(sha, wanted[sha][1], threads.get(sha), report)
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

    def _index_in_workers(
        self,
        index: Any,
        writer: Any,
        chunk: list[str],
        desired: dict[str, tuple[str, str]],
        threads: dict[str, str],
        fresh: bool,
        processes: int,
        report: UpdateReport,
        progress: Any,
        cancel: CancelToken | None,
    ) -> list[str]:
        """Index ``chunk`` in ``processes`` forked workers, each reading, parsing and indexing
        its share of the messages into a segment of its own; this process holds the index lock
        and commits their segments together (Whoosh's multi-segment commit).

        Whoosh's own MpWriter parses in this process and pickles every document to its
        workers: with two cores that process was the bottleneck. Here only the list of
        messages crosses, by fork. Returns the messages that were indexed.
        """
        import multiprocessing

        context = multiprocessing.get_context("fork")
        if not fresh:
            for sha in chunk:  # replaced documents: their old entries go
                writer.delete_by_term("sha256", sha)
        shares = [chunk[k::processes] for k in range(processes)]
        counters = context.Array("q", processes, lock=False)
        results = context.Queue()

        def work(slot: int, share: list[str]) -> None:
            try:
                worker = worker_writer(index, MailCodec())
                done: list[str] = []
                mine = UpdateReport()
                for number, sha in enumerate(share, start=1):
                    doc = self._document(sha, desired[sha][1], threads.get(sha), mine)
                    if doc is not None:
                        worker.add_document(**doc)
                        done.append(sha)
                    counters[slot] = number
                segment = finish_worker_segment(worker, wrote=bool(done))
                results.put((slot, segment, done, mine.problems, None))
            except KeyboardInterrupt:
                os._exit(130)
            except BaseException as err:  # noqa: BLE001 - told to the parent, who raises
                results.put((slot, None, [], [], f"{type(err).__name__}: {err}"))

        workers = [
            context.Process(target=work, args=(slot, share), daemon=True)
            for slot, share in enumerate(shares)
        ]
        for worker in workers:
            worker.start()
        outcomes: dict[int, tuple[Any, list[str], list[str], str | None]] = {}
        try:
            while len(outcomes) < len(workers):
                if cancel is not None:
                    cancel.check()
                try:
                    slot, segment, done, problems, failure = results.get(timeout=0.25)
                    outcomes[slot] = (segment, done, problems, failure)
                except queue.Empty:
                    dead = [
                        w for k, w in enumerate(workers)
                        if k not in outcomes and w.exitcode is not None
                    ]  # fmt: skip
                    if dead and results.empty():
                        raise CorruptIndex(
                            f"an indexing process stopped (exit {dead[0].exitcode}); "
                            "run `mailproof index --check` to finish the index"
                        ) from None
                progress(sum(counters))
        except BaseException:
            for worker in workers:
                if worker.is_alive():
                    worker.terminate()
            raise
        finally:
            for worker in workers:
                worker.join(timeout=5)
        failures = [failure for _, _, _, failure in outcomes.values() if failure]
        if failures:
            raise CorruptIndex(f"the search index could not be written: {failures[0]}")
        segments = [outcomes[k][0] for k in sorted(outcomes) if outcomes[k][0] is not None]
        written = [sha for k in sorted(outcomes) for sha in outcomes[k][1]]
        for k in sorted(outcomes):
            report.problems.extend(outcomes[k][2])
        commit_with_segments(writer, segments)
        return written

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
            self._set_aside(str(err))
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
        terms = _query_words(parsed)
        private = self.private
        try:
            mask = None
            if private is not None and private.bodies:
                mask = wq.Or([wq.Term("sha256", sha) for sha in private.bodies])
            hits, total = self._with_searcher(
                lambda searcher: _collect(searcher, parsed, limit, sort, mask, cancel)
            )
            if private is not None and private.bodies:
                with private.index.searcher() as searcher:
                    more, extra = _collect(searcher, parsed, limit, sort, None, cancel)
                hits = _merge(hits, more, sort, limit)
                total += extra
        except (MailproofError, mq.QuerySyntaxError):
            raise
        except Exception as err:
            raise CorruptIndex(f"the search index cannot be read: {err}") from err
        if snippets:
            hits = [self._with_snippet(hit, terms) for hit in hits]
        return hits, total

    def build_private(
        self,
        load_keys: Any,
        progress: Progress = no_progress,
        cancel: CancelToken | None = None,
    ) -> int:
        """Decrypt every stored encrypted message in memory and index it in a RAM index; the
        on-disk index never sees the decrypted text. Returns how many were decrypted."""
        from app.crypto.secure import read_secure
        from app.mime.facts import read_facts

        messages = encrypted_messages(self.library)
        wanted = desired(self.library)
        private = PrivateIndex()
        material = load_keys()
        total = len(messages)
        progress(0, total)
        with private.index.writer() as writer:
            for done, message in enumerate(messages, start=1):
                if cancel is not None:
                    cancel.check()
                sha256 = message.sha256
                if sha256 not in wanted:
                    continue
                try:
                    raw = self.blobs.get(sha256)
                except (OSError, StoreError):
                    continue
                reading = read_secure(raw, keys=lambda: material)
                if reading.encryption.status != "decrypted":
                    continue
                facts = read_facts(reading.content)
                facts = replace(
                    facts,
                    is_encrypted=True,
                    is_signed=facts.is_signed or reading.signature.status != "none",
                )
                thread = str(message.thread_id or "").strip("<>") or None
                doc = document(sha256, len(raw), facts, copies(wanted[sha256][1]), thread)
                writer.add_document(**doc)
                private.bodies[sha256] = facts.body
                progress(done, total)
        self.private = private
        return len(private.bodies)

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

    def _with_snippet(self, hit: Hit, terms: set[str]) -> Hit:
        private = self.private
        if private is not None and hit.sha256 in private.bodies:
            body = private.bodies[hit.sha256]
        elif hit.preview:
            try:
                body = zlib.decompress(hit.preview).decode("utf-8", "replace")
            except zlib.error:
                return hit
        else:
            from app.mime.facts import read_facts

            try:
                body = read_facts(self.blobs.get(hit.sha256)).body
            except (OSError, StoreError):
                return hit
        snippet, spans = make_snippet(body, terms)
        return replace(hit, snippet=snippet, highlights=spans, preview=b"")


def _batch_from_env() -> int | None:
    """``MAILPROOF_INDEX_BATCH``: documents per commit (smaller: less work lost to a crash,
    slower indexing; the kill -9 test uses it to stop a rebuild between two commits)."""
    text = os.environ.get("MAILPROOF_INDEX_BATCH", "")
    return int(text) if text.isdigit() and int(text) > 0 else None


class PrivateIndex:
    """Decrypted messages, indexed in memory only (Whoosh RamStorage), with their text."""

    def __init__(self) -> None:
        from whoosh.filedb.filestore import RamStorage

        self.index = RamStorage().create_index(SCHEMA)
        self.bodies: dict[str, str] = {}


def _collect(
    searcher: Any,
    parsed: wq.Query,
    limit: int | None,
    sort: str,
    mask: wq.Query | None,
    cancel: CancelToken | None,
) -> tuple[list[Hit], int]:
    if sort == "date":
        # Sets of document numbers and the date column (indexer.engine): what Whoosh would
        # do one matcher call per document.
        docnums, total = engine.search(searcher, parsed, exclude=mask, newest=limit)
        scored = [(docnum, 0.0) for docnum in docnums]
    else:
        scored, total = engine.ranked(searcher, parsed, exclude=mask, limit=limit)
    hits = []
    for docnum, score in scored:
        if cancel is not None:
            cancel.check()
        stored = searcher.stored_fields(docnum)
        shown = json.loads(stored["shown"])
        hits.append(
            Hit(
                sha256=stored["sha256"],
                message_id=shown.get("message_id"),
                subject=shown.get("subject") or "",
                from_=shown.get("from") or "",
                date=shown.get("date"),
                folders=tuple(shown.get("folders") or ()),
                places=tuple((a, f) for a, f in shown.get("places") or ()),
                score=score,
                preview=stored.get("preview") or b"",
            )
        )
    return hits, total


def _merge(first: list[Hit], second: list[Hit], sort: str, limit: int | None) -> list[Hit]:
    if sort == "date":
        merged = sorted([*first, *second], key=lambda h: h.date or "", reverse=True)
    else:
        merged = sorted([*first, *second], key=lambda h: h.score, reverse=True)
    return merged[:limit] if limit else merged


def _query_words(parsed: wq.Query) -> set[str]:
    words = set()
    for fieldname, text in parsed.iter_all_terms():
        if fieldname in ("body", "subject"):
            words.add(text if isinstance(text, str) else text.decode("utf-8", "replace"))
    return words


def make_snippet(body: str, words: set[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A line of ``body`` around the first matching word, with the spans of every match in it.

    Words are found as the index's analyser finds them (its tokeniser pattern, lower case, the
    Porter stem), without building a token object per word; reading stops past the line."""
    flat = " ".join(body.split())
    if not flat:
        return "", ()
    matches: list[tuple[int, int]] = []
    if words:
        stop = len(flat)
        for found in TOKEN_PATTERN.finditer(flat):
            begin = found.start()
            if begin > stop:
                break
            if stem_word(found.group().lower()) in words:
                if not matches:
                    stop = begin + SNIPPET_CHARS
                matches.append((begin, found.end()))
    if not matches:
        end = min(len(flat), SNIPPET_CHARS)
        return flat[:end] + ("…" if end < len(flat) else ""), ()
    first = matches[0][0]
    start = max(0, first - SNIPPET_CHARS // 3)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(flat), start + SNIPPET_CHARS)
    prefix = "…" if start else ""
    text = prefix + flat[start:end] + ("…" if end < len(flat) else "")
    shift = len(prefix) - start
    spans = tuple((s + shift, e + shift) for s, e in matches if s >= start and e <= end)
    return text, spans
