"""Tools → Find a missing message: the facts you know in, one outcome with its reasons, every
matching copy and the text to send your provider out (as `mailproof investigate`)."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.dates import parse_day
from app.delivery.locate import normalise_message_id
from app.errors import BadInput
from app.investigate.present import NEXT, OUTCOME, REASONS, investigation_lines
from app.investigate.search import Investigation, Query, investigate, recorded
from app.store.library import Library
from app.tasks import CancelToken, Progress
from ui.worker import Worker


class InvestigateDialog(QDialog):
    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.investigation: Investigation | None = None
        self._worker: Worker | None = None
        self.setWindowTitle("Find a missing message")
        self.setMinimumSize(820, 620)
        self.message_id = QLineEdit()
        self.message_id.setPlaceholderText("best: the Message-ID from the sender's copy")
        self.from_field = QLineEdit()
        self.recipient = QLineEdit()
        self.subject = QLineEdit()
        self.date = QLineEdit()
        self.date.setPlaceholderText("YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)")
        self.hours = QDoubleSpinBox()
        self.hours.setRange(0.5, 24 * 30)
        self.hours.setValue(24)
        self.hours.setSuffix(" h")
        form = QFormLayout()
        form.addRow("Message-ID:", self.message_id)
        form.addRow("From:", self.from_field)
        form.addRow("To:", self.recipient)
        form.addRow("Subject:", self.subject)
        form.addRow("Date:", self.date)
        form.addRow("± window:", self.hours)
        self.search_button = QPushButton("Search every folder")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)
        self.outcome = QLabel(
            "Give what you know and search: INBOX, Junk, Trash, BACKUP, archives and copies "
            "deleted on the server are all looked at."
        )
        self.outcome.setWordWrap(True)
        self.outcome.setObjectName("investigationOutcome")
        self.reasons = QLabel()
        self.reasons.setWordWrap(True)
        self.hits = QTreeWidget()
        self.hits.setHeaderLabels(["Score", "Folder", "Date", "Subject", "State", "Why"])
        self.hits.setRootIsDecorated(False)
        self.hits.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.request = QPlainTextEdit()
        self.request.setReadOnly(True)
        self.request.setPlaceholderText("The request for your provider appears here.")
        copy = QPushButton("Copy request")
        copy.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.request.toPlainText())
        )
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addStretch(1)
        buttons.addWidget(copy)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.outcome)
        layout.addWidget(self.reasons)
        layout.addWidget(self.hits, 2)
        layout.addWidget(self.request, 1)
        self.history = QTreeWidget()
        self.history.setHeaderLabels(["Earlier investigations (UTC)", "Outcome", "Asked for"])
        self.history.setRootIsDecorated(False)
        self.history.setMaximumHeight(120)
        layout.addWidget(self.history)
        self.reload_history()

    def busy(self) -> bool:
        return self._worker is not None

    def query(self) -> Query:
        when = parse_day(self.date.text(), "the date")
        message_id = self.message_id.text().strip()
        return Query(
            message_id=normalise_message_id(message_id) if message_id else None,
            from_addr=self.from_field.text().strip() or None,
            to_addr=self.recipient.text().strip() or None,
            subject=self.subject.text().strip() or None,
            date=when,
            window_hours=self.hours.value(),
        )

    def search(self) -> None:
        try:
            query = self.query()
        except BadInput as err:
            self.outcome.setText(str(err))
            return
        library = self.library

        def job(_progress: Progress, _cancel: CancelToken) -> Investigation:
            return investigate(library, query)

        worker = Worker(job, "Investigating")
        self._worker = worker
        worker.signals.result.connect(self._show)
        worker.signals.error.connect(lambda text: self.outcome.setText(text))
        worker.signals.finished.connect(self._finished)
        self.search_button.setEnabled(False)
        self.outcome.setText("Searching every folder and reading bounces…")
        worker.start()

    def _finished(self) -> None:
        self._worker = None
        self.search_button.setEnabled(True)

    def reload_history(self) -> None:
        self.history.clear()
        for record in recorded()[:50]:
            asked = ", ".join(f"{k} {v}" for k, v in record.get("query", {}).items() if v)
            self.history.addTopLevelItem(
                QTreeWidgetItem([str(record.get("investigated_at")), record["outcome"], asked])
            )

    def _show(self, result: Investigation) -> None:
        self.investigation = result
        self.reload_history()
        shown = investigation_lines(result)
        self.outcome.setText(next(line.text for line in shown if line.section == OUTCOME))
        lines = [f"• {line.text}" for line in shown if line.section == REASONS]
        lines += [f"→ {line.text}" for line in shown if line.section == NEXT]
        self.reasons.setText("\n".join(lines))
        self.hits.clear()
        for hit in result.hits:
            self.hits.addTopLevelItem(
                QTreeWidgetItem(
                    [
                        f"{hit.score:.2f}",
                        f"{hit.account}/{hit.folder}",
                        (hit.date_utc or "")[:16].replace("T", " "),
                        hit.subject,
                        hit.state,
                        ", ".join(hit.reasons),
                    ]
                )
            )
        self.request.setPlainText(result.provider_request)
