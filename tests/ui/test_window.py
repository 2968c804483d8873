"""The window on real local mail: three panes, lazy list, sorting, threads, blocking, bad input."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer

from app.store.library import Library
from tests.ui.conftest import make_message, open_and_wait
from ui.models import PAGE_SIZE
from ui.window import MainWindow


def folder_names(window: MainWindow) -> list[str]:
    names = []
    for i in range(window.folders.topLevelItemCount()):
        top = window.folders.topLevelItem(i)
        for j in range(top.childCount()):
            names.append(top.child(j).text(0).split("  ")[0])
    return names


def test_three_panes_are_filled_after_opening_a_maildir(qtbot, window, make_maildir) -> None:
    root = make_maildir([make_message(i) for i in range(30)], subfolders=("Sent", "BACKUP", "Junk"))
    open_and_wait(qtbot, window, root)
    assert folder_names(window) == ["INBOX", "Sent", "BACKUP", "Junk"]
    assert window.model.rowCount() == 30
    # newest first: the first row is the message with the highest index
    assert window.model.data(window.model.index(0, 0)) == "Message 00029"
    qtbot.waitUntil(lambda: window.reader.rendered is not None)
    assert window.reader.rendered.subject == "Message 00029"
    assert "Body of message 29" in window.reader.body.toPlainText()


def test_message_list_is_lazy_on_a_large_folder(qtbot, window, make_maildir) -> None:
    root = make_maildir([make_message(i) for i in range(PAGE_SIZE * 3 + 17)])
    open_and_wait(qtbot, window, root)
    qtbot.waitUntil(lambda: window.model.total == PAGE_SIZE * 3 + 17, timeout=20000)
    window.model.reload()
    assert window.model.rowCount() == PAGE_SIZE
    assert window.model.canFetchMore()
    window.model.fetchMore()
    assert window.model.rowCount() == PAGE_SIZE * 2
    while window.model.canFetchMore():
        window.model.fetchMore()
    assert window.model.rowCount() == PAGE_SIZE * 3 + 17
    shas = {window.model.sha256_at(r) for r in range(window.model.rowCount())}
    assert len(shas) == PAGE_SIZE * 3 + 17  # pages neither overlap nor skip


def test_columns_sort_both_ways(qtbot, window, make_maildir) -> None:
    messages = [make_message(i, subject=s) for i, s in enumerate(["bravo", "Alpha", "charlie"])]
    open_and_wait(qtbot, window, make_maildir(messages))
    window.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert [window.model.rows[r].subject for r in range(3)] == ["Alpha", "bravo", "charlie"]
    window.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert [window.model.rows[r].subject for r in range(3)] == ["charlie", "bravo", "Alpha"]
    window.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    assert [window.model.rows[r].subject for r in range(3)] == ["bravo", "Alpha", "charlie"]


def test_conversations_group_replies_under_their_root(qtbot, window, make_maildir) -> None:
    messages = [
        make_message(0, subject="Rota change"),
        make_message(1, subject="Unrelated"),
        make_message(2, subject="Re: Rota change", reply_to=0),
        make_message(3, subject="Another"),
        make_message(4, subject="Re: Re: Rota change", reply_to=2),
    ]
    open_and_wait(qtbot, window, make_maildir(messages))
    window.thread_action.setChecked(True)
    subjects = [window.model.rows[r].subject for r in range(window.model.rowCount())]
    start = subjects.index("Rota change")
    assert subjects[start : start + 3] == ["Rota change", "Re: Rota change", "Re: Re: Rota change"]
    assert window.model.rows[start + 1].depth >= 1
    assert window.model.rows[start].depth == 0


def test_filter_narrows_the_list_and_clears(qtbot, window, make_maildir) -> None:
    messages = [
        make_message(i, subject=f"Lab result {i}" if i % 2 else f"Rota {i}") for i in range(10)
    ]
    open_and_wait(qtbot, window, make_maildir(messages))
    window.filter_edit.setText("lab result")
    qtbot.waitUntil(lambda: window.model.total == 5)
    assert all("Lab result" in window.model.rows[r].subject for r in range(5))
    window.filter_edit.clear()
    qtbot.waitUntil(lambda: window.model.total == 10)


def test_remote_content_is_blocked_and_announced(qtbot, window, make_maildir) -> None:
    html = (
        '<html><head><link rel="stylesheet" href="https://cdn.example.net/s.css"></head>'
        '<body><p>See the chart</p><img src="https://tracker.example.com/pixel.gif">'
        '<div style="background:url(https://img.example.org/bg.png)">x</div></body></html>'
    )
    open_and_wait(qtbot, window, make_maildir([make_message(1, html=html)]))
    qtbot.waitUntil(lambda: window.reader.rendered is not None)
    assert window.reader.blocked_banner.isVisible()
    assert "3 item(s)" in window.reader.blocked_banner.text()
    shown = window.reader.body.toHtml()
    assert "tracker.example.com" not in shown and "cdn.example.net" not in shown
    assert "See the chart" in window.reader.body.toPlainText()


def test_all_headers_and_source_toggles(qtbot, window, make_maildir) -> None:
    root = make_maildir([make_message(7)])
    open_and_wait(qtbot, window, root)
    qtbot.waitUntil(lambda: window.reader.rendered is not None)
    window.reader.all_headers_button.setChecked(True)
    assert "Message-ID: <m7@clinic.example>" in window.reader.plain_view.toPlainText()
    window.reader.source_button.setChecked(True)
    assert not window.reader.all_headers_button.isChecked()
    raw = next((root / "new").iterdir()).read_bytes()
    assert window.reader.plain_view.toPlainText().strip() == raw.decode().strip()
    window.reader.source_button.setChecked(False)
    assert window.reader.stack.currentWidget() is window.reader.body


def test_attachments_are_listed_with_sanitized_names(qtbot, window, make_maildir) -> None:
    message = make_message(3, attachment=("../../etc/passwd", b"root:x:0:0"))
    open_and_wait(qtbot, window, make_maildir([message]))
    qtbot.waitUntil(lambda: window.reader.rendered is not None)
    assert window.reader.attachment_row.isVisible()
    assert window.reader.attachments.count() == 1
    text = window.reader.attachments.item(0).text()
    assert text.startswith("passwd  (application/octet-stream")
    assert ".." not in text


def test_an_attachment_saved_from_the_window_is_in_the_audit_log(
    qtbot, window, make_maildir, tmp_path
) -> None:
    import hashlib
    import json
    import os
    import subprocess
    import sys

    data = b"%PDF-1.4 lab result 4711"
    message = make_message(4, attachment=("result.pdf", data))
    open_and_wait(qtbot, window, make_maildir([message]))
    qtbot.waitUntil(lambda: window.reader.rendered is not None)
    attachment = window.reader.attachments.item(0).data(256)
    target = tmp_path / "chosen name.pdf"
    window.reader.save_to(attachment, target)
    assert target.read_bytes() == data
    from PySide6.QtWidgets import QApplication, QMessageBox

    warned: list[str] = []

    def close_warning() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            warned.append(box.text())
            box.close()
        else:
            QTimer.singleShot(50, close_warning)

    QTimer.singleShot(50, close_warning)
    window.reader.save_to(attachment, tmp_path / "no such folder" / "x.pdf")  # refused
    assert warned and "no such folder" in warned[0]
    shown = subprocess.run(
        [str(Path(sys.executable).with_name("mailproof")), "audit", "show", "--json"],
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    ).stdout
    saved = [e for e in map(json.loads, shown.splitlines()) if e["action"] == "attachment saved"]
    assert [e["object"]["file"] for e in saved] == [str(target)]
    assert saved[0]["detail"] == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def test_keyboard_j_and_k_move_through_the_list(qtbot, window, make_maildir) -> None:
    open_and_wait(qtbot, window, make_maildir([make_message(i) for i in range(5)]))
    window.table.setFocus()
    window.table.selectRow(0)
    qtbot.keyClick(window.table, Qt.Key.Key_J)
    assert window.table.currentIndex().row() == 1
    qtbot.keyClick(window.table, Qt.Key.Key_J)
    qtbot.keyClick(window.table, Qt.Key.Key_K)
    assert window.table.currentIndex().row() == 1
    qtbot.waitUntil(
        lambda: (
            window.reader.rendered is not None and window.reader.rendered.subject == "Message 00003"
        )
    )


def test_bad_path_shows_a_banner_and_the_window_keeps_working(
    qtbot, window, make_maildir, tmp_path: Path
) -> None:
    not_mail = tmp_path / "picture.png"
    not_mail.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with qtbot.waitSignal(window.ready, timeout=10000):
        window.navigation.open_path(not_mail)
    assert window.error_banner.isVisible()
    assert "is not mail" in window.error_banner.text()
    window.navigation._ready_sent = False
    open_and_wait(qtbot, window, make_maildir([make_message(1)]))
    assert window.model.rowCount() == 1


def test_missing_blob_shows_error_in_reader_not_crash(
    qtbot, window, make_maildir, library: Library
) -> None:
    open_and_wait(qtbot, window, make_maildir([make_message(1), make_message(2)]))
    sha256 = window.model.sha256_at(1)
    library.blobs.path(sha256).unlink()
    window.table.selectRow(1)
    qtbot.waitUntil(lambda: window.reader.warning_banner.isVisible())
    assert "missing from the store" in window.reader.warning_banner.text()
    window.table.selectRow(0)
    qtbot.waitUntil(lambda: window.reader.rendered is not None)


def test_cancel_keeps_what_was_read_and_store_stays_consistent(
    qtbot, window, make_maildir, library: Library
) -> None:
    root = make_maildir([make_message(i) for i in range(6000)])
    progressed: list[int] = []
    cancelled: list[bool] = []
    window.navigation.open_path(root)
    job = window.navigation.job
    assert job is not None
    job.signals.progress.connect(lambda done, _total: progressed.append(done))
    job.signals.cancelled.connect(lambda: cancelled.append(True))
    qtbot.waitUntil(lambda: any(d > 0 for d in progressed), timeout=20000)
    with qtbot.waitSignal(job.signals.finished, timeout=20000):
        window.navigation.cancel_job()
    assert cancelled == [True]
    assert window.progress.isHidden() and window.cancel_button.isHidden()
    stored = library.db.execute("SELECT COUNT(*) FROM copies").fetchone()[0]
    assert 0 < stored < 6000
    for (sha,) in library.db.execute("SELECT sha256 FROM copies"):
        assert library.blobs.has(sha)
    # opening again completes the rest without duplicates
    window.navigation._ready_sent = False
    open_and_wait(qtbot, window, root)
    assert library.db.execute("SELECT COUNT(*) FROM copies").fetchone()[0] == 6000


def test_opening_a_second_source_selects_its_inbox(qtbot, window, make_maildir) -> None:
    open_and_wait(qtbot, window, make_maildir([make_message(1)], name="first"))
    window.navigation._ready_sent = False
    open_and_wait(qtbot, window, make_maildir([make_message(2), make_message(3)], name="second"))
    assert window.folders.topLevelItemCount() == 2
    current = window.folders.currentItem()
    assert current.parent().text(0) == "second (local)"
    assert window.model.rowCount() == 2


def test_problems_in_a_source_show_a_banner_and_the_rest_is_listed(
    qtbot, window, tmp_path: Path
) -> None:
    good = make_message(1, subject="Readable one").as_bytes()
    broken = (
        b"From: x@clinic.example\nSubject: Broken MIME\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=NEVER\n\nno boundary ever appears\n"
    )
    truncated = b"From: y@clinic.example\nSubject: Cut off\nContent-Ty"
    mbox = tmp_path / "archive.mbox"
    mbox.write_bytes(
        b"From a@b Mon Jan  1 00:00:00 2024\n" + good + b"\n"
        b"From a@b Mon Jan  1 00:00:00 2024\n" + broken + b"\n"
        b"From a@b Mon Jan  1 00:00:00 2024\n" + truncated
    )
    open_and_wait(qtbot, window, mbox)
    assert window.model.rowCount() == 3
    assert window.error_banner.isVisible()
    assert "have problems" in window.error_banner.text()
    subjects = {window.model.rows[r].subject for r in range(3)}
    assert subjects == {"Readable one", "Broken MIME", "Cut off"}
    row = next(r for r in range(3) if window.model.rows[r].subject == "Broken MIME")
    window.table.selectRow(row)
    qtbot.waitUntil(
        lambda: (
            window.reader.rendered is not None and window.reader.rendered.subject == "Broken MIME"
        )
    )
    assert window.reader.warning_banner.isVisible()


def test_a_50_mb_attachment_opens_without_blocking_the_window(qtbot, window, make_maildir) -> None:
    big = bytes(range(256)) * (50 * 1024 * 1024 // 256)
    open_and_wait(qtbot, window, make_maildir([make_message(1, attachment=("scan.tif", big))]))
    qtbot.waitUntil(lambda: window.reader.rendered is not None, timeout=60000)
    assert window.reader.attachments.count() == 1
    assert "50.0 MB" in window.reader.attachments.item(0).text()
    # the event loop kept running: a queued call is served while nothing else is pending
    served: list[bool] = []
    QTimer.singleShot(0, lambda: served.append(True))
    qtbot.waitUntil(lambda: served == [True], timeout=1000)


def test_ten_thousand_recipients_keep_the_header_pane_short(qtbot, window, make_maildir) -> None:
    message = make_message(1)
    del message["To"]
    message["To"] = ", ".join(f"user{i}@ward.clinic.example" for i in range(10_000))
    open_and_wait(qtbot, window, make_maildir([message]))
    qtbot.waitUntil(lambda: window.reader.rendered is not None, timeout=30000)
    assert window.reader.rendered.to.count("@") == 10_000
    assert len(window.reader.header_label.text()) < 2000
    assert "chars)" in window.reader.header_label.text()


def test_closing_during_an_import_cancels_it_and_keeps_a_consistent_store(
    qtbot, window, make_maildir, library: Library
) -> None:
    root = make_maildir([make_message(i) for i in range(4000)])
    window.navigation.open_path(root)
    job = window.navigation.job
    assert job is not None
    qtbot.waitUntil(lambda: library.db.execute("SELECT COUNT(*) FROM copies").fetchone()[0] > 0)
    window.close()
    assert job.cancel_token.cancelled
    assert job not in type(job)._running  # the worker has ended, not left running
    stored = library.db.execute("SELECT COUNT(*) FROM copies").fetchone()[0]
    assert 0 < stored < 4000
    assert library.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_start_without_a_path_shows_what_the_store_has(
    qtbot, library: Library, make_maildir
) -> None:
    first = MainWindow(library)
    qtbot.addWidget(first)
    open_and_wait(qtbot, first, make_maildir([make_message(1), make_message(2)]))
    first.close()
    again = MainWindow(library)
    qtbot.addWidget(again)
    again.navigation.show_stored()
    assert again.folders.topLevelItemCount() == 1
    assert again.folders.currentItem() is not None
    assert again.model.rowCount() == 2


def test_viewing_is_audited_and_the_audit_viewer_verifies_the_chain(
    qtbot, window, make_maildir
) -> None:
    from app import audit

    root = make_maildir([make_message(i) for i in range(3)])
    open_and_wait(qtbot, window, root)
    qtbot.waitUntil(lambda: window.reader.rendered is not None)
    shown = window.model.rows[0].sha256
    viewed = [e for e in audit.entries() if e["action"] == "message viewed"]
    assert viewed and viewed[-1]["object"]["sha256"] == shown
    assert any(e["action"] == "archive imported" for e in audit.entries())

    dialog = window.open_audit()
    assert dialog.table.topLevelItemCount() == len(audit.entries())
    assert dialog.table.topLevelItem(0).text(3) == audit.entries()[-1]["action"]  # newest first
    assert dialog.check_label.text().startswith("Hash chain intact")

    lines = audit.log_path().read_bytes().splitlines()
    lines[0] = lines[0].replace(b"archive imported", b"archive ignored")
    audit.log_path().write_bytes(b"".join(line + b"\n" for line in lines))
    dialog.verify()
    assert dialog.check_label.text() == (
        "The audit log was altered: entry 1 was changed: entry 2 recorded another hash for it."
    )
    dialog.close()


def test_delivery_tab_shows_hops_timeline_checks_and_exports_evidence(
    qtbot, window, tmp_path
) -> None:
    import zipfile

    raw = (
        b"Received: from mx.example.com by mx.example.com with LMTP id kK3b for "
        b"<bob@example.com>; Fri, 03 May 2024 09:15:05 +0000\r\n"
        b"Received: from mail.example.org (mail.example.org [192.0.2.10]) (using TLSv1.3 with "
        b"cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by mx.example.com (Postfix) with "
        b"ESMTPS id 4VXk2t3Z5Qz9sPl for <bob@example.com>; Fri, 3 May 2024 09:15:04 +0000\r\n"
        b"Received: from [10.0.0.7] (unknown [198.51.100.20]) by smtp.example.org (Postfix) "
        b"with ESMTP id 4VXk2s0Ab for <bob@example.com>; Fri, 3 May 2024 09:15:02 +0000\r\n"
        b"From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: Traced\r\n"
        b"Date: Fri, 03 May 2024 09:15:00 +0000\r\nMessage-ID: <traced@example.org>\r\n\r\nHi\r\n"
    )
    root = tmp_path / "md"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "cur" / "1:2,S").write_bytes(raw)
    open_and_wait(qtbot, window, root)
    qtbot.waitUntil(lambda: window.reader.rendered is not None)
    window.delivery.offline = True  # no DNS from the test
    with qtbot.waitSignal(window.delivery.traced, timeout=15000):
        window.message_tabs.setCurrentWidget(window.delivery)
    view = window.delivery
    assert view.summary_label.text().startswith(
        "Delivered to mx.example.com at 2024-05-03 09:15:05 UTC via 3 hops, TLS on 1 of 3"
    )
    assert view.hops.topLevelItemCount() == 3
    first = view.hops.topLevelItem(0)
    assert (first.text(4), first.text(5), first.text(7)) == ("198.51.100.20", "smtp.example.org",
                                                              "no TLS")  # fmt: skip
    assert view.hops.topLevelItem(1).text(7) == "TLSv1.3 TLS_AES_256_GCM_SHA384"
    assert len(view.timeline.points) == 3
    assert view.badge.isVisible() and view.badge.text() == "TLS in transit"
    assert "stored unencrypted" in view.badge.toolTip()
    checks = [view.details.topLevelItem(i).text(0) for i in range(view.details.topLevelItemCount())]
    assert checks[:2] == ["DKIM", "ARC"] and "Copies" in checks
    copy_rows = [view.details.topLevelItem(i) for i in range(view.details.topLevelItemCount())]
    copy_row = next(r for r in copy_rows if r.text(0).startswith("Copy in "))
    assert "imported " in copy_row.text(1) and "SHA-256 " in copy_row.text(1)

    target = tmp_path / "evidence.zip"
    with qtbot.waitSignal(view.exported, timeout=30000):
        view.export_to(target)
    with zipfile.ZipFile(target) as archive:
        assert "trace.json" in archive.namelist() and "report.pdf" in archive.namelist()


def test_missing_message_wizard_ends_in_one_outcome_with_a_provider_request(
    qtbot, window, make_maildir
) -> None:
    root = make_maildir([make_message(i) for i in range(5)], subfolders=("Sent",))
    open_and_wait(qtbot, window, root)
    dialog = window.open_investigation()
    dialog.date.setText("not a date")
    dialog.search()
    assert "not YYYY-MM-DD" in dialog.outcome.text() and not dialog.busy()

    dialog.date.setText("")
    dialog.subject.setText("In Sent")
    dialog.from_field.setText(window.model.rows[0].from_display or "nobody@example.org")
    dialog.search()
    qtbot.waitUntil(lambda: dialog.investigation is not None, timeout=15000)
    assert dialog.investigation.outcome in ("sent-copy-only", "found", "not-found")
    assert dialog.outcome.text().startswith(
        {"sent-copy-only": "Only a Sent copy", "found": "Found", "not-found": "Not found"}[
            dialog.investigation.outcome
        ]
    )
    assert "Please check your mail logs" in dialog.request.toPlainText()

    dialog.subject.setText("")
    dialog.from_field.setText("")
    dialog.message_id.setText("<nothing-like-it@nowhere.example>")
    dialog.investigation = None
    dialog.search()
    qtbot.waitUntil(lambda: dialog.investigation is not None, timeout=15000)
    assert dialog.investigation.outcome == "not-found"
    assert dialog.hits.topLevelItemCount() == 0 and "→ " in dialog.reasons.text()
    assert dialog.history.topLevelItemCount() == 2  # every investigation is kept
    assert dialog.history.topLevelItem(0).text(1) == "not-found"
    dialog.close()


def test_the_window_locks_when_idle_and_unlocks_through_the_keyring(
    qtbot, window, make_maildir, tmp_path, monkeypatch
) -> None:
    from app import audit, secrets

    root = make_maildir([make_message(i) for i in range(3)])
    open_and_wait(qtbot, window, root)
    qtbot.waitUntil(lambda: window.reader.rendered is not None)
    secrets.use_file_keyring("Master-of-the-ward-1")
    try:
        window.locking.lock_timer.setInterval(300)  # instead of 15 minutes
        window.locking.lock_timer.start()
        qtbot.waitUntil(lambda: window.locking.locked, timeout=5000)
        assert window.reader.rendered is None  # what was shown is dropped
        assert secrets.is_locked() and not window.menuBar().isEnabled()
        assert window.lock_screen.password.isVisible()

        window.lock_screen.password.setText("wrong")
        window.lock_screen.try_unlock()
        qtbot.waitUntil(lambda: not window.lock_screen.busy(), timeout=30000)
        assert window.locking.locked and "Still locked" in window.lock_screen.error.text()

        window.lock_screen.password.setText("Master-of-the-ward-1")
        with qtbot.waitSignal(window.lock_screen.unlocked, timeout=30000):
            window.lock_screen.try_unlock()
        assert (
            not window.locking.locked and window.menuBar().isEnabled() and not secrets.is_locked()
        )
        qtbot.waitUntil(lambda: window.reader.rendered is not None, timeout=10000)
        actions = [(e["action"], e["result"]) for e in audit.entries()]
        assert ("app locked", "ok") in actions
        assert ("app unlocked", "failed") in actions and ("app unlocked", "ok") in actions
    finally:
        window.locking.lock_timer.stop()
        secrets.use_os_keyring()


def test_a_trace_of_the_message_shown_before_never_lands_on_the_next_one(qtbot, library) -> None:
    """The first message's trace waits for DNS (a port that never answers); the user moves on
    to a message that is not traced yet: the first verdict must not appear for it."""
    import time

    from tests.builders import own_domain_forgery
    from ui.delivery import DeliveryView

    view = DeliveryView(library)
    qtbot.addWidget(view)
    view.dns_server = "127.0.0.1:9"  # discard: no answer, the lookup times out after 3 s
    view.set_message(own_domain_forgery())
    view.refresh()
    view.set_message(b"From: b@example.org\r\nSubject: second\r\n\r\nno trail\r\n")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        qtbot.wait(100)
    assert view.verdict is None and view.details.topLevelItemCount() == 0
    assert view.summary_label.text() == ""
