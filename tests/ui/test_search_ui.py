"""The search bar: every folder at once, results as you type, highlighted snippets, the
folders of each hit, sort, open, all copies; a newer query cancels the older one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.ui.conftest import make_message, open_and_wait
from ui.window import MainWindow


def searched(qtbot, window: MainWindow, text: str) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.searched, timeout=20000):
        window.search_edit.setText(text)


def test_search_bar_finds_mail_in_every_folder_with_snippets(qtbot, window, make_maildir) -> None:
    messages = [make_message(i) for i in range(12)]
    messages[4].set_content("The biopsy results are attached for review.\n")
    messages[9].set_content("No biopsy was needed after all.\n")
    root = make_maildir(messages, subfolders=("BACKUP", "Sent"))
    with qtbot.waitSignal(window.indexed, timeout=30000):
        open_and_wait(qtbot, window, root)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search_edit.hasFocus()
    searched(qtbot, window, "biopsy")
    panel = window.search_panel
    assert window.list_stack.currentWidget() is panel
    assert {h.subject for h in panel.hits} == {"Message 00004", "Message 00009"}
    assert panel.results.count() == 2
    assert "<b>biopsy</b>" in panel.results.itemWidget(panel.results.item(0)).text()
    assert "2 messages" in panel.status.text()

    searched(qtbot, window, "folder:BACKUP")
    assert [h.subject for h in panel.hits] == ["In BACKUP"]
    assert panel.hits[0].folders == ("BACKUP",)

    # Selecting a hit opens it in the reader.
    panel.results.setCurrentRow(0)
    qtbot.waitUntil(
        lambda: (
            window.reader.rendered is not None and window.reader.rendered.subject == "In BACKUP"
        ),
        timeout=10000,
    )
    box = window.search.show_copies(panel.hits[0].sha256)
    assert "BACKUP" in box.informativeText() and isinstance(box, QMessageBox)
    box.close()

    # A syntax error is shown in the pane, with its position; the window keeps working.
    searched(qtbot, window, '"never closed')
    assert "position 1" in panel.status.text() and panel.results.count() == 0

    # Escape returns to the folder list.
    qtbot.keyClick(window.search_edit, Qt.Key.Key_Escape)
    assert window.list_stack.currentWidget() is window.table


def test_sort_by_relevance_and_newer_query_wins(qtbot, window, make_maildir) -> None:
    messages = [make_message(i) for i in range(6)]
    messages[1].set_content("kidney kidney kidney kidney\n")
    messages[5].set_content("one kidney mention\n")
    with qtbot.waitSignal(window.indexed, timeout=30000):
        open_and_wait(qtbot, window, make_maildir(messages))
    searched(qtbot, window, "kidney")
    by_date = [h.subject for h in window.search_panel.hits]
    assert by_date == ["Message 00005", "Message 00001"]
    with qtbot.waitSignal(window.searched, timeout=20000):
        window.search_panel.sort.setCurrentIndex(1)  # Best match
    assert [h.subject for h in window.search_panel.hits] == ["Message 00001", "Message 00005"]
    # Typing on: only the last query's answer is shown.
    window.search_edit.setText("kidney")
    window.search_edit.setText("mention")
    qtbot.waitUntil(lambda: window.search_panel.status.text().startswith("1 "), timeout=20000)
    assert [h.subject for h in window.search_panel.hits] == ["Message 00005"]
