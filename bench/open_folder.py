"""Benchmark: open a 100,000-message Maildir in the window, cold (empty store) and warm.

Prints figures; it asserts nothing about time. Each measurement runs the window in a child
Python process (offscreen Qt by default, ``--xvfb`` for xcb under ``xvfb-run -a``):

* cold first paint — Popen → the first paint of ``window.table.viewport()`` that shows rows,
  on a fresh empty ``MAILPROOF_HOME``; the child exits at once (``os._exit``);
* cold full ingest — the same child keeps running until the ingest worker has finished;
* warm — the same again on the store the full ingest filled (files already known are skipped).

Peak RSS is the child's ``ru_maxrss`` (``os.wait4`` on the child, so each run is measured alone;
``getrusage(RUSAGE_CHILDREN)`` would keep the maximum over every child waited so far).

The Maildir is generated once with the stdlib (deterministic, 2–6 KB messages: plain, HTML,
alternative, small attachments; INBOX 94 % + .Sent + .BACKUP + .Junk) and cached under
``bench/out/maildir-100k`` (``maildir-<N>`` for ``--messages N``).

    .venv/bin/python bench/open_folder.py --messages 5000   # quick
    .venv/bin/python bench/open_folder.py                   # 100k, offscreen
    .venv/bin/python bench/open_folder.py --xvfb            # 100k, xcb under xvfb-run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from common import (
    CORPUS_SPAN,
    CORPUS_START,
    OUT,
    ROOT,
    child_env,
    fmt,
    fresh_home,
    make_message,
    median,
    print_table,
    received_flags,
    run_measured,
    self_maxrss_mb,
    spread,
    wrap_timed,
)

GENERATOR_VERSION = 1
SEED = 100_000
TARGET_FIRST_PAINT_S = 1.5
TARGET_RSS_MB = 300.0
MEASUREMENTS = ("cold", "cold-full", "warm", "warm-full")

# folder directory name → share of the messages (INBOX takes the rest)
SUBFOLDERS = ((".Sent", 0.03), (".BACKUP", 0.02), (".Junk", 0.01))

# ---------------------------------------------------------------------------------------------
# Maildir generation (stdlib only, files written directly)
# ---------------------------------------------------------------------------------------------


def folder_counts(total: int) -> dict[str, int]:
    counts = {name: round(total * share) for name, share in SUBFOLDERS}
    return {"": total - sum(counts.values()), **counts}


def generate_maildir(root: Path, total: int) -> dict[str, int]:
    """Write ``total`` messages under ``root`` (Maildir++ with subfolders), deterministically."""
    rng = random.Random(SEED + total)
    counts = folder_counts(total)
    slots = [name for name, count in counts.items() for _ in range(count)]
    rng.shuffle(slots)
    for name in counts:
        for sub in ("cur", "new", "tmp"):
            (root / name / sub).mkdir(parents=True, exist_ok=True)
    recent: deque[tuple[str, str, str]] = deque(maxlen=300)
    inbox_raw: deque[bytes] = deque(maxlen=2000)
    new_from = int(counts[""] * 0.98)  # the newest 2 % of INBOX are still in new/
    inbox_seen = 0
    for index, folder in enumerate(slots):
        stamp = CORPUS_START + CORPUS_SPAN * index / total + rng.uniform(0, 600)
        if folder == ".BACKUP" and inbox_raw:
            raw = rng.choice(inbox_raw)  # a backup copy: the same bytes as an INBOX message
        else:
            raw, message_id, subject, refs = make_message(rng, index, stamp, folder, recent)
            recent.append((message_id, subject, refs))
            if folder == "":
                inbox_raw.append(raw)
        key = f"{int(stamp)}.M{index:06d}P{4000 + index % 997}.bench.example,S={len(raw)}"
        if folder == "":
            inbox_seen += 1
            if inbox_seen > new_from:
                (root / "new" / key).write_bytes(raw)
                continue
            flags = received_flags(rng)
        elif folder == ".Junk":
            flags = "" if rng.random() < 0.8 else "S"
        else:
            flags = "S"
        (root / folder / "cur" / f"{key}:2,{flags}").write_bytes(raw)
    return {("INBOX" if name == "" else name): count for name, count in counts.items()}


def ensure_maildir(total: int) -> Path:
    label = "100k" if total == 100_000 else str(total)
    root = OUT / f"maildir-{label}"
    marker = OUT / f"maildir-{label}.json"
    if root.is_dir() and marker.is_file():
        info = json.loads(marker.read_text())
        if info.get("version") == GENERATOR_VERSION and info.get("messages") == total:
            print(f"reusing {root.relative_to(ROOT)} ({total} messages)", flush=True)
            return root
    OUT.mkdir(parents=True, exist_ok=True)
    partial = OUT / f".maildir-{label}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    print(f"generating {root.relative_to(ROOT)} ({total} messages)…", flush=True)
    began = time.perf_counter()
    counts = generate_maildir(partial, total)
    partial.rename(root)
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    marker.write_text(
        json.dumps(
            {"version": GENERATOR_VERSION, "messages": total, "folders": counts, "bytes": size},
            indent=1,
        )
    )
    print(
        f"  {time.perf_counter() - began:.1f} s, {size / 1e6:.0f} MB, folders {counts}",
        flush=True,
    )
    return root


# ---------------------------------------------------------------------------------------------
# The child: one window, one open_path, timestamps as JSON on stdout
# ---------------------------------------------------------------------------------------------


def _process_start_time() -> float | None:
    """When this process was exec'd, as epoch seconds (from /proc; clock-tick resolution)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22, since boot
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started
        return time.time() - age
    except (OSError, ValueError, IndexError):
        return None


def _trace_calls(library: Any, calls: list[tuple[str, float, float]]) -> None:
    """Wrap the store and source functions the first paint waits for, to time them."""
    import app.sources.maildir as maildir_module
    import app.store.library as library_module

    def timed(owner: Any, name: str, label: str) -> None:
        wrap_timed(owner, name, lambda start, end, *_: calls.append((label, start, end)), time.time)

    timed(maildir_module, "message_files", "worker: list a folder (maildir.message_files)")
    timed(library_module, "summarize", "worker: summarize()")
    timed(library.blobs, "put", "worker: BlobStore.put()")
    timed(library_module.os, "sync", "worker: os.sync()")
    timed(library, "_commit", "worker: Library._commit() (put + sync + SQL)")
    timed(library, "folders", "UI: Library.folders()")
    timed(library, "count", "UI: Library.count()")
    timed(library, "page", "UI: Library.page()")


def _calls_before(calls: list[tuple[str, float, float]], until: float | None) -> dict[str, Any]:
    """label → [calls, seconds] of the traced calls that ended before ``until``."""
    totals: dict[str, Any] = {}
    for label, start, end in list(calls):
        if until is None or end <= until:
            entry = totals.setdefault(label, [0, 0.0])
            entry[0] += 1
            entry[1] += end - start
    return totals


def child_main(mode: str, maildir: Path, home: Path, timeout: float, profile: str | None) -> None:
    marks: dict[str, Any] = {"t_script": time.time(), "t_process": _process_start_time()}
    from PySide6.QtCore import QEvent, QObject, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    marks["t_qt_imported"] = time.time()
    from app.store.library import Library
    from ui.window import MainWindow

    marks["t_app_imported"] = time.time()
    profilers: list[Any] = []
    if profile:
        import cProfile

        main_profiler = cProfile.Profile()
        profilers.append((main_profiler, profile + "-main.prof"))
        main_profiler.enable()

    app = QApplication([sys.argv[0]])
    marks["t_qapp"] = time.time()
    library = Library(home)
    marks["t_library"] = time.time()
    if profile:
        ingest = library.ingest

        def profiled_ingest(*args: Any, **kwargs: Any) -> Any:
            import cProfile

            worker_profiler = cProfile.Profile()
            profilers.append((worker_profiler, profile + "-worker.prof"))
            worker_profiler.enable()
            try:
                return ingest(*args, **kwargs)
            finally:
                worker_profiler.disable()

        library.ingest = profiled_ingest  # type: ignore[method-assign]

    calls: list[tuple[str, float, float]] = []  # (what, start, end) of the calls traced below
    if mode == "first-paint":
        _trace_calls(library, calls)

    window = MainWindow(library)
    marks["t_window"] = time.time()
    progress: list[tuple[float, int, int]] = []
    state: dict[str, Any] = {"painted": False, "finished": mode != "full", "done": False}

    def emit_and_exit(code: int = 0) -> None:
        if state["done"]:
            return
        state["done"] = True
        for profiler, path in profilers:
            profiler.disable()
            profiler.dump_stats(path)
        marks.update(
            mode=mode,
            progress=progress[:6] + progress[-2:] if len(progress) > 8 else progress,
            progress_calls=len(progress),
            rows=window.model.rowCount(),
            model_total=window.model.total,
            folders=[f.name for f in library.folders()],
            calls=_calls_before(calls, marks.get("t_paint")),
            self_maxrss_mb=self_maxrss_mb(),
            t_exit=time.time(),
        )
        sys.stdout.write(json.dumps(marks) + "\n")
        sys.stdout.flush()
        os._exit(code)  # do not wait for the worker or tear Qt down: only the figures matter

    def maybe_done() -> None:
        if state["painted"] and state["finished"]:
            emit_and_exit()

    def after_paint() -> None:
        marks["t_painted"] = time.time()  # the paint event has been handled and flushed
        state["painted"] = True
        maybe_done()

    class PaintProbe(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if (
                not state["painted"]
                and "t_paint" not in marks
                and event.type() == QEvent.Type.Paint
                and window.model.rowCount() > 0
            ):
                marks["t_paint"] = time.time()
                marks["paint_rows"] = window.model.rowCount()
                QTimer.singleShot(0, after_paint)
            return False

    probe = PaintProbe()
    window.table.viewport().installEventFilter(probe)

    def model_reset() -> None:
        if "t_rows" not in marks and window.model.rowCount() > 0:
            marks["t_rows"] = time.time()

    window.model.modelReset.connect(model_reset)
    window.model.rowsInserted.connect(model_reset)
    window.show()
    marks["t_shown"] = time.time()
    marks["t_open"] = time.time()
    window.navigation.open_path(maildir)
    marks["t_open_returned"] = time.time()
    job = window.navigation.job
    assert job is not None

    def on_progress(done: int, total: int) -> None:  # runs in the worker thread
        progress.append((time.time(), done, total))

    def on_result(report: Any) -> None:  # runs in the worker thread
        marks["added"] = report.added
        marks["known"] = report.known
        marks["problems"] = len(report.problems)

    def on_error(message: str) -> None:
        marks["error"] = message

    def on_finished() -> None:  # runs in the worker thread
        marks["t_finished"] = time.time()

    direct = Qt.ConnectionType.DirectConnection
    job.signals.progress.connect(on_progress, direct)
    job.signals.result.connect(on_result, direct)
    job.signals.error.connect(on_error, direct)
    job.signals.finished.connect(on_finished, direct)

    def finished_in_main() -> None:
        state["finished"] = True
        if window.model.folder_id is not None:  # is the list's first row the folder's newest?
            newest = library.page(window.model.folder_id, limit=1)
            marks["top_sha_store"] = newest[0].sha256 if newest else None
            marks["top_sha_shown"] = window.model.sha256_at(0)
            marks["model_total_end"] = window.model.total
        if window.model.rowCount() == 0:  # nothing to paint: report anyway
            state["painted"] = True
        maybe_done()

    if mode == "full":
        job.signals.finished.connect(finished_in_main)  # queued to the main thread

    def give_up() -> None:
        marks["error"] = f"timeout after {timeout:.0f} s"
        emit_and_exit(3)

    QTimer.singleShot(int(timeout * 1000), give_up)
    app.exec()
    emit_and_exit(0 if state["painted"] else 4)


# ---------------------------------------------------------------------------------------------
# The parent: run children, collect figures, print the table
# ---------------------------------------------------------------------------------------------


def run_child(
    mode: str, maildir: Path, home: Path, *, xvfb: bool, timeout: float, profile: str | None
) -> dict[str, Any]:
    env = child_env(home)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        mode,
        "--maildir",
        str(maildir),
        "--home",
        str(home),
        "--timeout",
        str(timeout),
    ]
    if profile:
        command += ["--profile-to", profile]
    if xvfb:
        env["QT_QPA_PLATFORM"] = "xcb"
        command = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", *command]
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
        env.pop("DISPLAY", None)
    run = run_measured(command, env, timeout + 60, poll=0.01)
    marks = run.figures()
    if marks is None:
        raise RuntimeError(
            f"child ({mode}) exited {run.returncode} without figures:\n{run.stdout}\n{run.stderr}"
        )
    marks.update(
        t0=run.started,
        t_reaped=run.ended,
        returncode=run.returncode,
        maxrss_mb=run.ru_maxrss_mb,
        stderr_tail=run.stderr[-2000:],
    )
    if "error" in marks:
        print(f"  ! {mode}: {marks['error']}", file=sys.stderr)
    return marks


def _since(marks: dict[str, Any], key: str, origin: str = "t0") -> float | None:
    value, base = marks.get(key), marks.get(origin)
    return None if value is None or base is None else value - base


def summarize_run(label: str, marks: dict[str, Any]) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "label": label,
        "first_paint_s": _since(marks, "t_paint"),
        "first_paint_from_exec_s": _since(marks, "t_paint", "t_process"),
        "maxrss_mb": marks["maxrss_mb"],
        "rows": marks.get("paint_rows"),
        "calls": marks.get("calls"),
        "list_is_current": (
            marks["top_sha_shown"] == marks["top_sha_store"] if "top_sha_store" in marks else None
        ),
    }
    if "t_finished" in marks:
        ingest_s = marks["t_finished"] - marks["t_open"]
        progress = marks.get("progress") or [(0, 0, 0)]
        handled = progress[-1][1]  # files gone through (stored, known or duplicate)
        figures.update(
            ingest_s=ingest_s,
            since_popen_s=_since(marks, "t_finished"),
            added=marks.get("added"),
            known=marks.get("known"),
            problems=marks.get("problems"),
            handled=handled,
            messages_per_s=handled / ingest_s if ingest_s > 0 else None,
        )
    progress = marks.get("progress") or []
    phases = [
        ("python start (Popen → exec)", "t_process"),
        ("interpreter + bench script", "t_script"),
        ("import PySide6", "t_qt_imported"),
        ("import app + ui", "t_app_imported"),
        ("QApplication()", "t_qapp"),
        ("Library(home)", "t_library"),
        ("MainWindow(library)", "t_window"),
        ("window.show()", "t_shown"),
        ("open_path() returns", "t_open_returned"),
    ]
    if marks.get("t_process") is not None:  # /proc has clock-tick resolution
        marks["t_process"] = max(marks["t_process"], marks["t0"])
    events = [(name, marks[key]) for name, key in phases if marks.get(key) is not None]
    if progress:
        for moment, done, total in progress[:2]:
            events.append((f"worker: progress({done}, {total}) emitted", moment))
    for name, key in (
        ("model has rows", "t_rows"),
        ("first Paint event with rows", "t_paint"),
        ("that paint handled", "t_painted"),
    ):
        if marks.get(key) is not None:
            events.append((name, marks[key]))
    events.sort(key=lambda event: event[1])
    breakdown = []
    previous = marks["t0"]
    for name, moment in events:
        breakdown.append((name, moment - marks["t0"], moment - previous))
        previous = moment
    figures["breakdown"] = breakdown
    return figures


def print_results(runs: dict[str, list[dict[str, Any]]], total: int, platform: str) -> None:
    def col(label: str, key: str) -> list[float | None]:
        return [run.get(key) for run in runs.get(label, [])]

    paint = f"≤ {TARGET_FIRST_PAINT_S} s"
    rss = f"≤ {TARGET_RSS_MB:.0f} MB"
    measured = [  # (metric, run label, figure, unit, digits, target)
        ("cold: Popen → first painted list", "cold", "first_paint_s", "s", 2, paint),
        ("cold: peak RSS to first paint", "cold", "maxrss_mb", "MB", 0, rss),
        ("cold full: Popen → first painted list", "cold-full", "first_paint_s", "s", 2, paint),
        ("cold full: ingest time (open_path → done)", "cold-full", "ingest_s", "s", 2, ""),
        ("cold full: files ingested / s", "cold-full", "messages_per_s", "msg/s", 0, ""),
        ("cold full: peak RSS", "cold-full", "maxrss_mb", "MB", 0, rss),
        ("warm: Popen → first painted list", "warm", "first_paint_s", "s", 2, paint),
        ("warm: peak RSS to first paint", "warm", "maxrss_mb", "MB", 0, rss),
        ("warm full: rescan time (open_path → done)", "warm-full", "ingest_s", "s", 2, ""),
        ("warm full: peak RSS", "warm-full", "maxrss_mb", "MB", 0, rss),
    ]
    rows = [
        (metric, spread(col(label, key), unit, digits), target)
        for metric, label, key, unit, digits, target in measured
    ]
    repeats = max((len(v) for v in runs.values()), default=0)
    print()
    print(
        f"open_folder: {total} messages, QT_QPA_PLATFORM={platform}, "
        f"median of {repeats} run(s) (min–max)"
    )
    print_table(rows, header=("metric", "value", "target"), right=(1,))
    full = runs.get("cold-full", [])
    if full:
        last = full[-1]
        print(
            f"full ingest: {last.get('handled')} files, {last.get('added')} new messages stored, "
            f"{last.get('known')} known, {last.get('problems')} problem(s); "
            f"{fmt(median(col('cold-full', 'messages_per_s')), 'messages/s', 0)}"
        )
        if last.get("list_is_current") is False:
            print(
                "note: after the full ingest the list's first row is not the folder's newest "
                "message (the rows loaded during the ingest were not reloaded)"
            )
    for label in ("cold", "warm"):
        if runs.get(label):
            print(f"\nwhere the time goes, {label} first paint (last run; s since Popen, step):")
            for name, at, step in runs[label][-1]["breakdown"]:
                print(f"  {name:<44} {at:7.3f}  (+{step:.3f})")
            traced = runs[label][-1].get("calls") or {}
            if traced:
                print("  calls finished before that paint (count, total s):")
                for name, (count, seconds) in sorted(traced.items(), key=lambda i: -i[1][1]):
                    print(f"    {name:<50} {count:5d}  {seconds:7.3f}")


def parent_main(args: argparse.Namespace) -> None:
    if args.xvfb and shutil.which("xvfb-run") is None:
        sys.exit("open_folder: --xvfb needs xvfb-run (apt-get install xvfb)")
    maildir = ensure_maildir(args.messages)
    platform = "xcb (xvfb-run -a)" if args.xvfb else "offscreen"
    runs: dict[str, list[dict[str, Any]]] = {}
    raw_runs: list[dict[str, Any]] = []
    profile_dir = OUT / "profiles"
    if args.profile:
        profile_dir.mkdir(parents=True, exist_ok=True)

    def measure(label: str, mode: str, home: Path, repeat: int) -> dict[str, Any]:
        os.sync()  # the previous step's dirty pages are not billed to this child's os.sync()
        profile = str(profile_dir / f"{label}-{repeat}") if args.profile else None
        print(f"  run {repeat + 1}/{args.repeat}: {label} …", end=" ", flush=True)
        marks = run_child(
            mode, maildir, home, xvfb=args.xvfb, timeout=args.timeout, profile=profile
        )
        figures = summarize_run(label, marks)
        runs.setdefault(label, []).append(figures)
        raw_runs.append({"label": label, "repeat": repeat, **marks})
        text = f"first paint {fmt(figures['first_paint_s'], 's')}"
        if "ingest_s" in figures:
            text += f", done in {fmt(figures['ingest_s'], 's')}"
        print(f"{text}, RSS {figures['maxrss_mb']:.0f} MB", flush=True)
        return figures

    only = set(args.only.split(","))
    unknown = only - set(MEASUREMENTS)
    if unknown:
        sys.exit(f"open_folder: unknown --only {sorted(unknown)}; choose from {MEASUREMENTS}")
    if only & {"warm", "warm-full"}:
        only.add("cold-full")  # the warm runs reopen the store the full ingest filled
    for repeat in range(args.repeat):
        if "cold" in only:
            cold_home = fresh_home("cold")
            measure("cold", "first-paint", cold_home, repeat)
            shutil.rmtree(cold_home, ignore_errors=True)
        if "cold-full" in only:
            full_home = fresh_home("full")
            measure("cold-full", "full", full_home, repeat)
            if "warm" in only:
                measure("warm", "first-paint", full_home, repeat)
            if "warm-full" in only:
                measure("warm-full", "full", full_home, repeat)
            if not args.keep_homes:
                shutil.rmtree(full_home, ignore_errors=True)

    print_results(runs, args.messages, platform)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kind = "xvfb" if args.xvfb else "offscreen"
    result = OUT / f"open_folder-{args.messages}-{kind}-{stamp}.json"
    result.write_text(
        json.dumps(
            {"messages": args.messages, "platform": platform, "summary": runs, "runs": raw_runs},
            indent=1,
            default=str,
        )
    )
    print(f"\nraw figures: {result.relative_to(ROOT)}")
    if args.profile:
        import pstats

        for path in sorted(profile_dir.glob("*.prof")):
            print(f"\n== {path.relative_to(ROOT)} (top 15 by cumulative time)")
            pstats.Stats(str(path), stream=sys.stdout).sort_stats("cumulative").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=100_000, help="size of the Maildir")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement")
    parser.add_argument("--xvfb", action="store_true", help="xcb under xvfb-run -a")
    parser.add_argument("--timeout", type=float, default=900, help="per child, seconds")
    parser.add_argument(
        "--only",
        default=",".join(MEASUREMENTS),
        help="comma-separated subset of " + ",".join(MEASUREMENTS) + " (default: all)",
    )
    parser.add_argument("--keep-homes", action="store_true", help="keep bench/out/homes/full")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the child's main thread and ingest worker"
    )
    parser.add_argument("--child", choices=("first-paint", "full"), help=argparse.SUPPRESS)
    parser.add_argument("--maildir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.maildir, args.home, args.timeout, args.profile_to)
    else:
        parent_main(args)


if __name__ == "__main__":
    main()
