"""Indexing in forked worker processes: each reads, parses and indexes its share of the
messages into a segment of its own; the parent commits their segments together."""

from __future__ import annotations

import os
import queue
from collections.abc import Callable
from typing import Any

from app.tasks import CancelToken
from indexer.results import CorruptIndex, UpdateReport
from indexer.schema import MailCodec
from indexer.whoosh_private import commit_with_segments, finish_worker_segment, worker_writer

MakeDocument = Callable[[str, UpdateReport], dict[str, object] | None]


def index_in_workers(
    index: Any,
    writer: Any,
    chunk: list[str],
    make_document: MakeDocument,
    fresh: bool,
    processes: int,
    report: UpdateReport,
    progress: Callable[[int], None],
    cancel: CancelToken | None,
) -> list[str]:
    """Index ``chunk`` in ``processes`` forked workers, each reading, parsing and indexing
    its share of the messages into a segment of its own; this process holds the index lock
    (``writer``) and commits their segments together (Whoosh's multi-segment commit).

    Whoosh's own MpWriter parses in this process and pickles every document to its
    workers: with two cores that process was the bottleneck. Here only the list of
    messages crosses, by fork. ``make_document(sha256, report)`` is the document of a message
    (None when it cannot be read; the reason goes to the report). Returns the messages that
    were indexed.
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
                doc = make_document(sha, mine)
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
