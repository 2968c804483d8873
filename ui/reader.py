"""The message pane: headers, all-headers/source toggles, blocked-content banner, attachments."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QTextDocument
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.crypto.present import reading_badge, reading_lines
from app.crypto.verdict import SecureReading
from app.errors import MailproofError
from app.mime.attachments import save_as, save_into
from app.mime.render import AttachmentInfo, RenderedMessage, attachment_bytes
from app.present import Tone
from ui.models import human_size

SOURCE_LIMIT = 1_000_000
BADGE_COLOURS = {
    Tone.GOOD: "#cdebd3",
    Tone.BAD: "#f6c6c6",
    Tone.WARN: "#ffe8a3",
    Tone.PLAIN: "#e4e4e4",
}


class SafeBrowser(QTextBrowser):
    """A text browser that loads nothing but the message's own inline (``cid:``) parts."""

    def __init__(self) -> None:
        super().__init__()
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.inline_images: dict[str, bytes] = {}

    def loadResource(self, kind: int, url: QUrl | str) -> Any:
        address = url if isinstance(url, QUrl) else QUrl(url)
        if (
            kind == QTextDocument.ResourceType.ImageResource.value
            and address.scheme().lower() == "cid"
        ):
            data = self.inline_images.get(address.path())
            if data:
                image = QImage()
                if image.loadFromData(data):
                    return image
        return None  # remote, file: and everything else: never fetched


class Banner(QLabel):
    def __init__(self, color: str) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setStyleSheet(
            f"QLabel {{ background: {color}; color: #1a1a1a; padding: 4px 8px; "
            "border-radius: 3px; }"
        )
        self.hide()

    def show_text(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))


class MessageView(QWidget):
    status = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.raw = b""  # the stored bytes (the Source view shows these)
        self.content = b""  # what is displayed: decrypted/unwrapped in memory, else ``raw``
        self.rendered: RenderedMessage | None = None
        self.reading: SecureReading | None = None

        self.security_label = QLabel()
        self.security_label.setObjectName("securityBadge")
        self.security_label.setWordWrap(True)
        self.security_details = QPushButton("Details…")
        self.security_details.clicked.connect(self.show_security_details)
        self.security_row = QWidget()
        security_layout = QHBoxLayout(self.security_row)
        security_layout.setContentsMargins(0, 0, 0, 0)
        security_layout.addWidget(self.security_label, 1)
        security_layout.addWidget(self.security_details)
        self.security_row.hide()

        self.header_label = QLabel()
        self.header_label.setTextFormat(self.header_label.textFormat().RichText)
        self.header_label.setWordWrap(True)
        self.header_label.setObjectName("headers")
        self.all_headers_button = QPushButton("All headers")
        self.all_headers_button.setCheckable(True)
        self.source_button = QPushButton("Source")
        self.source_button.setCheckable(True)
        for button in (self.all_headers_button, self.source_button):
            button.toggled.connect(self._switch_view)

        header_row = QHBoxLayout()
        header_row.addWidget(self.header_label, 1)
        header_row.addWidget(self.all_headers_button)
        header_row.addWidget(self.source_button)

        self.blocked_banner = Banner("#ffe8a3")
        self.blocked_banner.setObjectName("blockedBanner")
        self.warning_banner = Banner("#f6c6c6")
        self.warning_banner.setObjectName("warningBanner")

        self.body = SafeBrowser()
        self.body.anchorClicked.connect(self._link_clicked)
        self.plain_view = QPlainTextEdit()
        self.plain_view.setReadOnly(True)
        self.plain_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.body)
        self.stack.addWidget(self.plain_view)

        self.attachments = QListWidget()
        self.attachments.setMaximumHeight(90)
        self.attachments.itemDoubleClicked.connect(self._save_item)
        self.save_button = QPushButton("Save as…")
        self.save_button.clicked.connect(self._save_selected)
        self.save_all_button = QPushButton("Save all…")
        self.save_all_button.clicked.connect(self._save_all)
        attachment_buttons = QVBoxLayout()
        attachment_buttons.addWidget(self.save_button)
        attachment_buttons.addWidget(self.save_all_button)
        attachment_buttons.addStretch()
        self.attachment_row = QWidget()
        row_layout = QHBoxLayout(self.attachment_row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.attachments, 1)
        row_layout.addLayout(attachment_buttons)
        self.attachment_row.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header_row)
        layout.addWidget(self.security_row)
        layout.addWidget(self.blocked_banner)
        layout.addWidget(self.warning_banner)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.attachment_row)
        self.clear()

    # -- content ----------------------------------------------------------------------
    def clear(self, text: str = "") -> None:
        self.raw = b""
        self.content = b""
        self.rendered = None
        self.reading = None
        self.security_row.hide()
        self.security_label.clear()
        self.header_label.setText(html.escape(text))
        self.blocked_banner.show_text("")
        self.warning_banner.show_text("")
        self.body.clear()
        self.plain_view.clear()
        self.attachments.clear()
        self.attachment_row.hide()
        self.stack.setCurrentWidget(self.body)

    def show_error(self, text: str) -> None:
        self.clear()
        self.warning_banner.show_text(text)

    def show_message(
        self,
        raw: bytes,
        rendered: RenderedMessage,
        inline: dict[str, bytes],
        reading: SecureReading | None = None,
    ) -> None:
        self.raw = raw
        self.content = reading.content if reading is not None else raw
        self.rendered = rendered
        self.reading = reading
        self._show_security(reading)
        rows = [
            ("From", rendered.from_),
            ("To", rendered.to),
            ("Cc", rendered.cc),
            ("Date", rendered.date),
        ]
        lines = [f"<b style='font-size:115%'>{html.escape(rendered.subject or '(no subject)')}</b>"]
        for name, value in rows:
            if value:
                shown = value if len(value) < 400 else value[:400] + f"… ({len(value)} chars)"
                lines.append(f"<span style='color:#555'>{name}:</span> {html.escape(shown)}")
        self.header_label.setText("<br>".join(lines))

        if rendered.blocked_remote:
            hosts = sorted({QUrl(u).host() or u for u in rendered.blocked_remote})
            self.blocked_banner.show_text(
                f"Remote content blocked: {len(rendered.blocked_remote)} item(s) "
                f"(images, style sheets or fonts from {', '.join(hosts[:4])}"
                f"{'…' if len(hosts) > 4 else ''}). Nothing was loaded from the network."
            )
        else:
            self.blocked_banner.show_text("")
        self.warning_banner.show_text("; ".join(rendered.warnings[:4]))

        self.body.inline_images = inline
        if rendered.html is not None:
            self.body.setHtml(rendered.html)
        else:
            self.body.setPlainText(rendered.text)

        self.attachments.clear()
        for attachment in rendered.attachments:
            size = human_size(attachment.size)
            item = QListWidgetItem(f"{attachment.safe_name}  ({attachment.content_type}, {size})")
            item.setData(256, attachment)
            item.setToolTip(f"sent as: {attachment.filename!r}" if attachment.filename else "")
            self.attachments.addItem(item)
        self.attachment_row.setVisible(bool(rendered.attachments))
        if self.attachments.count():
            self.attachments.setCurrentRow(0)
        self._switch_view()

    def _show_security(self, reading: SecureReading | None) -> None:
        if reading is None:
            self.security_row.hide()
            return
        self.security_label.setStyleSheet(
            f"QLabel#securityBadge {{ background: {BADGE_COLOURS[reading.tone]}; padding: 4px; }}"
        )
        first, *rest = reading_badge(reading)
        lines = [f"<b>{html.escape(first.text)}</b>"] + [html.escape(line.text) for line in rest]
        self.security_label.setText("<br>".join(lines))
        self.security_row.show()

    def security_text(self) -> str:
        """Every line of the verdict, as the Details… dialog shows it."""
        if self.reading is None:
            return ""
        first, *rest = reading_lines(self.reading)
        return "\n".join([first.text, ""] + [line.plain for line in rest])

    def show_security_details(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setWindowTitle("Encryption and signatures")
        box.setText(self.reading.badge if self.reading else "")
        box.setInformativeText(self.security_text())
        box.setModal(False)
        box.show()
        return box

    def _switch_view(self) -> None:
        sender = self.sender()
        if sender is self.all_headers_button and self.all_headers_button.isChecked():
            self.source_button.setChecked(False)
        elif sender is self.source_button and self.source_button.isChecked():
            self.all_headers_button.setChecked(False)
        if self.rendered is None:
            return
        if self.source_button.isChecked():
            text = self.raw[:SOURCE_LIMIT].decode("utf-8", errors="replace")
            if len(self.raw) > SOURCE_LIMIT:
                text += f"\n… ({len(self.raw) - SOURCE_LIMIT} more bytes not shown)"
            self.plain_view.setPlainText(text)
            self.stack.setCurrentWidget(self.plain_view)
        elif self.all_headers_button.isChecked():
            self.plain_view.setPlainText(
                "\n".join(f"{name}: {value}" for name, value in self.rendered.headers)
            )
            self.stack.setCurrentWidget(self.plain_view)
        else:
            self.stack.setCurrentWidget(self.body)

    # -- links and attachments ----------------------------------------------------------
    def _link_clicked(self, url: QUrl) -> None:
        if url.scheme() not in ("http", "https", "mailto"):
            self.status.emit(f"link not opened: {url.toString()}")
            return
        answer = QMessageBox.question(
            self, "Open link?", f"Open this address in your browser?\n\n{url.toString()}"
        )
        if answer == QMessageBox.StandardButton.Yes:
            QDesktopServices.openUrl(url)

    def _selected(self) -> AttachmentInfo | None:
        item = self.attachments.currentItem()
        return item.data(256) if item else None

    def _save_item(self, item: QListWidgetItem) -> None:
        self._save(item.data(256))

    def _save_selected(self) -> None:
        attachment = self._selected()
        if attachment is not None:
            self._save(attachment)

    def _save(self, attachment: AttachmentInfo) -> None:
        start = Path.home() / "Downloads"
        if not start.is_dir():
            start = Path.home()
        target, _ = QFileDialog.getSaveFileName(
            self, "Save attachment", str(start / attachment.safe_name)
        )
        if target:
            self.save_to(attachment, Path(target))

    def save_to(self, attachment: AttachmentInfo, target: Path) -> None:
        """Save one attachment where the user chose (audited, as every save is)."""
        try:
            save_as(target, attachment_bytes(self.content, attachment.index))
        except (OSError, MailproofError) as err:
            QMessageBox.warning(self, "Could not save", f"Could not save {target}: {err}")
            return
        self.status.emit(f"saved {target}")

    def _save_all(self) -> None:
        if self.rendered is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "Save all attachments into")
        if not folder:
            return
        try:
            saved = [
                save_into(Path(folder), a.safe_name, attachment_bytes(self.content, a.index))
                for a in self.rendered.attachments
            ]
        except (OSError, MailproofError) as err:
            QMessageBox.warning(self, "Could not save", f"Could not save into {folder}: {err}")
            return
        self.status.emit(f"saved {len(saved)} attachment(s) into {folder}")
