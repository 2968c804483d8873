"""The Delivery tab: the delivery verdict of the shown message — summary, hop table, a
timeline, DKIM/ARC, the servers' claims, every stored copy and forgery hints — and
"Export evidence…". The trace (DNS lookups) and the export run in a worker."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.delivery.dns import live_resolver
from app.delivery.present import HOPS, delivery_lines, protection_badge
from app.delivery.verdict import DeliveryVerdict, trace
from app.evidence.package import ExportResult, export_evidence
from app.present import Tone
from app.store.library import Library
from app.tasks import CancelToken, Progress
from ui.qt import TONE_HEX
from ui.worker import JobSlot, Worker

TONE_COLORS = {tone: QColor(hex_colour) for tone, hex_colour in TONE_HEX.items()}
GOOD, BAD, UNKNOWN = TONE_COLORS[Tone.GOOD], TONE_COLORS[Tone.BAD], TONE_COLORS[Tone.WARN]


class Timeline(QWidget):
    """Each hop as a dot on a time line, spaced by when it happened; red = no TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.points: list[tuple[float, str, Any]] = []
        self.setMinimumHeight(54)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_verdict(self, verdict: DeliveryVerdict | None) -> None:
        self.points = []
        if verdict is not None:
            for hop in verdict.hops:
                if hop.timestamp:
                    moment = dt.datetime.fromisoformat(hop.timestamp.replace("Z", "+00:00"))
                    self.points.append((moment.timestamp(), hop.by_host or "?", hop.tls))
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        if not self.points:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        left, right, y = 20.0, float(self.width() - 20), 18.0
        painter.setPen(QPen(QColor("#888888"), 2))
        painter.drawLine(QPointF(left, y), QPointF(right, y))
        start, end = self.points[0][0], self.points[-1][0]
        span = max(end - start, 1.0)
        for index, (moment, name, tls) in enumerate(self.points):
            x = left + (right - left) * (moment - start) / span if end > start else left
            color = BAD if tls is False else UNKNOWN if tls is None else GOOD
            painter.setBrush(color)
            painter.setPen(QPen(color, 1))
            painter.drawEllipse(QPointF(x, y), 5.0, 5.0)
            painter.setPen(QPen(QColor("#333333"), 1))
            label = f"{index + 1}. {name}"
            box = min(max(x - 80.0, 0.0), float(self.width()) - 160.0)
            painter.drawText(QRectF(box, y + 8 + (index % 2) * 14, 160, 14),
                             int(Qt.AlignmentFlag.AlignCenter), label)  # fmt: skip
        painter.end()


class DeliveryView(QWidget):
    traced = Signal()  # a verdict (or an error) is on screen
    exported = Signal(object)  # ExportResult

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        self.raw: bytes | None = None
        self.verdict: DeliveryVerdict | None = None
        self._traces = JobSlot(self)
        self.offline = False
        self.dns_server: str | None = None  # HOST:PORT of the resolver; None: the system's
        self.summary_label = QLabel("Select a message to see how it was delivered.")
        self.summary_label.setWordWrap(True)
        self.summary_label.setObjectName("deliverySummary")
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.export_button = QPushButton("Export evidence…")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.ask_export)
        self.badge = QLabel()
        self.badge.setObjectName("protectionBadge")
        self.badge.hide()
        top = QHBoxLayout()
        top.addWidget(self.badge)
        top.addWidget(self.summary_label, 1)
        top.addWidget(self.export_button)
        self.timeline = Timeline()
        self.hops = QTreeWidget()
        self.hops.setHeaderLabels(
            ["#", "Time (UTC)", "Delay", "From", "IP", "By", "Protocol", "TLS", "Id"]
        )
        self.hops.setRootIsDecorated(False)
        self.hops.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.details = QTreeWidget()
        self.details.setHeaderLabels(["Check", "Result"])
        self.details.setRootIsDecorated(False)
        self.details.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.timeline)
        layout.addWidget(self.hops, 2)
        layout.addWidget(self.details, 2)

    # -- showing ----------------------------------------------------------------------------
    def set_message(self, raw: bytes | None) -> None:
        """Remember the message; the trace runs when ``refresh()`` is called (tab shown). A
        trace of the message shown before is dropped: its verdict must not appear for this one."""
        self._traces.cancel()
        self.raw = raw
        self.verdict = None
        self.hops.clear()
        self.details.clear()
        self.timeline.set_verdict(None)
        self.export_button.setEnabled(False)
        self.badge.hide()
        self.summary_label.setText("" if raw else "Select a message to see how it was delivered.")

    def refresh(self) -> None:
        if self.raw is None or self.verdict is not None:
            return
        raw, library, offline = self.raw, self.library, self.offline
        server = self.dns_server

        def job(_progress: Progress, _cancel: CancelToken) -> DeliveryVerdict:
            resolver = None if offline else live_resolver(server, timeout=3.0)
            return trace(raw, resolver=resolver, offline=offline, library=library)

        self.summary_label.setText("Reading the Received trail and checking DKIM…")
        self._traces.start(job, "Tracing delivery", self._shown, self._failed)

    def _failed(self, text: str) -> None:
        self.summary_label.setText(f"The delivery could not be traced: {text}")
        self.traced.emit()

    def _shown(self, verdict: DeliveryVerdict) -> None:
        self.verdict = verdict
        self.summary_label.setText(verdict.summary)
        if verdict.protection is not None:
            text, tone = protection_badge(verdict.protection)
            self.badge.setText(text)
            self.badge.setStyleSheet(
                f"QLabel {{ background: {TONE_HEX[tone]}; color: white; padding: 2px 6px; "
                "border-radius: 3px; }"
            )
            self.badge.setToolTip(verdict.protection.explanation)
            self.badge.show()
        self.timeline.set_verdict(verdict)
        for number, hop in enumerate(verdict.hops, start=1):
            item = QTreeWidgetItem(
                [
                    str(number),
                    (hop.timestamp or "no date").replace("T", " ").replace("Z", ""),
                    f"{hop.delay_seconds} s" if hop.delay_seconds is not None else "",
                    hop.from_host or ("(unreadable)" if not hop.parsed else ""),
                    hop.from_ip or "",
                    hop.by_host or "",
                    hop.protocol or "",
                    hop.tls_text,
                    hop.id or "",
                ]
            )
            item.setToolTip(0, hop.raw)
            if hop.tls is False:
                item.setForeground(7, BAD)
            if hop.warnings:
                item.setToolTip(3, "; ".join(hop.warnings))
            self.hops.addTopLevelItem(item)
        for line in delivery_lines(verdict):
            if line.section == HOPS:
                continue  # the hop table above shows them column by column
            item = QTreeWidgetItem([line.label, line.text])
            item.setToolTip(1, line.text)
            color = TONE_COLORS.get(line.tone)
            if color is not None:
                item.setForeground(1, color)
            self.details.addTopLevelItem(item)
        self.export_button.setEnabled(bool(verdict.locations))
        self.traced.emit()

    # -- evidence ---------------------------------------------------------------------------
    def ask_export(self) -> None:
        target, _ = QFileDialog.getSaveFileName(
            self, "Export delivery evidence", "evidence.zip", "Zip (*.zip)"
        )
        if target:
            self.export_to(Path(target))

    def export_to(self, target: Path, sign: str | None = None) -> None:
        if self.verdict is None or not self.verdict.locations:
            return
        sha256 = self.verdict.locations[0].sha256
        library, offline, server = self.library, self.offline, self.dns_server

        def job(_progress: Progress, _cancel: CancelToken) -> ExportResult:
            resolver = None if offline else live_resolver(server, timeout=3.0)
            return export_evidence(
                library, target, sha256=sha256, sign=sign, resolver=resolver, offline=offline
            )

        worker = Worker(job, "Exporting evidence")
        worker.signals.result.connect(self._exported)
        worker.signals.error.connect(
            lambda text: self.summary_label.setText(f"Not exported: {text}")
        )
        worker.start()

    def _exported(self, result: ExportResult) -> None:
        self.summary_label.setText(
            f"{self.verdict.summary if self.verdict else ''}\nEvidence written to {result.path}."
        )
        self.exported.emit(result)
