"""First demo run: the demo identity goes into the real keyring, and the demo's encrypted and
signed samples (made by openssl and gpg) open in the window with honest badges."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QTreeWidgetItem

from app.config import demo_archive
from app.crypto import keys
from app.crypto.present import reading_lines
from app.store.library import Library
from ui.window import MainWindow

WAIT = 60000


def folder_item(window: MainWindow, name: str) -> QTreeWidgetItem:
    for i in range(window.folders.topLevelItemCount()):
        top = window.folders.topLevelItem(i)
        for j in range(top.childCount()):
            if top.child(j).text(0).split("  ")[0] == name:
                return top.child(j)
    raise AssertionError(f"no folder {name}")


def open_subject(qtbot, window: MainWindow, words: str) -> None:  # type: ignore[no-untyped-def]
    row = next(r for r in range(window.model.rowCount()) if words in window.model.rows[r].subject)
    window.table.selectRow(row)
    qtbot.waitUntil(
        lambda: (
            window.reader.rendered is not None
            and words in window.reader.rendered.subject
            and window.reader.reading is not None
        ),
        timeout=WAIT,
    )


def test_demo_samples_decrypt_and_verify_in_the_window(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret_keyring
) -> None:
    monkeypatch.setenv("MAILPROOF_HOME", str(tmp_path / "home"))
    window = MainWindow(Library(tmp_path / "home"))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    with qtbot.waitSignal(window.private_indexed, timeout=WAIT) as indexed:
        window.navigation.open_path(demo_archive())
        window.locking.prepare_demo_identity()
    assert indexed.args == [2]  # the two encrypted samples, decrypted into memory
    qtbot.waitUntil(
        lambda: window.navigation.job is None and window.search._index_worker is None, timeout=WAIT
    )
    ids = {info.id.split(":")[0] for info in keys.list_keys()}
    assert ids == {"smime", "pgp"}
    secret = [k for k in keys.list_keys() if k.has_secret]
    assert len(secret) == 2
    assert all(secret_keyring.get_password("mailproof-keys", k.id) for k in secret)
    window.folders.setCurrentItem(folder_item(window, "Secure"))
    qtbot.waitUntil(lambda: window.model.rowCount() == 5, timeout=WAIT)

    open_subject(qtbot, window, "Befund Keller")
    reader = window.reader
    assert reader.reading.badge == (
        "Decrypted (S/MIME) · Signature valid — m.olsen@lindenhof-praxis.example"
    )
    assert reader.reading.tone == "good"
    assert "HbA1c 8,9" in reader.body.toPlainText()
    assert reader.security_row.isVisible()
    details = reader.show_security_details()
    assert "aes-256-gcm" in details.informativeText() and "smime:" in details.informativeText()
    first, *rest = reading_lines(reader.reading)  # the presenter `mailproof decrypt` prints too
    assert details.informativeText().splitlines() == [first.text, ""] + [r.plain for r in rest]
    details.close()

    open_subject(qtbot, window, "Terminänderung")
    assert reader.reading.signature.status == "invalid"
    assert reader.reading.tone == "bad" and "INVALID" in reader.security_label.text()
    if os.environ.get("MAILPROOF_SHOT"):
        window.grab().save(os.environ["MAILPROOF_SHOT"] + "-invalid.png")

    open_subject(qtbot, window, "Rufbereitschaft")
    assert reader.reading.badge == (
        "Decrypted (OpenPGP) · Signature valid — katrin.vogel@clinic.example"
    )
    assert "0151 2345 678" in reader.body.toPlainText()

    open_subject(qtbot, window, "Fortbildung")
    assert reader.reading.signature.status == "valid"
    assert reader.reading.encryption.status == "none"

    open_subject(qtbot, window, "Befund Keller")
    if os.environ.get("MAILPROOF_SHOT"):
        window.grab().save(os.environ["MAILPROOF_SHOT"] + ".png")

    # Search finds words inside encrypted mail (the in-memory index) — never in the disk index.
    with qtbot.waitSignal(window.searched, timeout=WAIT):
        window.search_edit.setText("Telefonnummern")
    assert [h.subject for h in window.search_panel.hits] == ["Rufbereitschaft Juli (verschlüsselt)"]
    assert (
        "<b>Telefonnummern</b>"
        in window.search_panel.results.itemWidget(window.search_panel.results.item(0)).text()
    )
    if os.environ.get("MAILPROOF_SHOT"):
        with qtbot.waitSignal(window.searched, timeout=WAIT):
            window.search_edit.setText("from:clinic.example Befund OR Dienstplan OR Termin")
        window.grab().save(os.environ["MAILPROOF_SHOT"] + "-search.png")
        with qtbot.waitSignal(window.searched, timeout=WAIT):
            window.search_edit.setText("Telefonnummern")
    with window.search.index.searcher() as searcher:
        on_disk = {t.decode() for t in searcher.lexicon("body")}
    assert "telefonnummern" not in on_disk and "8765" not in on_disk
    assert len(on_disk) > 1000  # the disk index does hold the clear mail

    # Locking drops the decrypted text and the in-memory index.
    window.locking.lock("manual")
    assert reader.reading is None and reader.content == b""
    assert "HbA1c" not in reader.body.toPlainText()
    assert window.search.index.private is None
    assert window.search.index.find("Telefonnummern")[1] == 0
