"""Tools → Settings…: the idle lock delay is changed in the window, kept and applied at once."""

from __future__ import annotations

import pytest

from app import settings
from ui.window import MainWindow


def test_settings_dialog_changes_the_lock_delay(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.delenv("MAILPROOF_LOCK_MINUTES", raising=False)
    monkeypatch.setenv("MAILPROOF_HOME", str(tmp_path / "settings-home"))
    dialog = window.open_settings()
    dialog.lock_minutes.setValue(3)
    dialog.save()
    assert settings.get("lock-minutes") == 3
    assert (
        window.locking.lock_timer.interval() == 3 * 60_000 and window.locking.lock_timer.isActive()
    )
    dialog = window.open_settings()
    assert dialog.lock_minutes.value() == 3
    dialog.lock_minutes.setValue(0)  # never
    dialog.save()
    assert not window.locking.lock_timer.isActive()
