"""The Keys dialog imports, lists and removes keys through the real keyring, in a worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_keys import P12_PASS, identity  # noqa: F401 - the fixture
from ui.keys_dialog import KeysDialog

WAIT = 30000


@pytest.fixture
def dialog(qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KeysDialog:
    monkeypatch.setenv("MAILPROOF_HOME", str(tmp_path / "home"))
    keys_dialog = KeysDialog()
    qtbot.addWidget(keys_dialog)
    keys_dialog.show()
    return keys_dialog


def test_import_wrong_passphrase_then_right_then_remove(
    qtbot,
    dialog: KeysDialog,
    identity: dict[str, Path],  # noqa: F811
    secret_keyring,
) -> None:
    dialog.import_file(identity["p12"], "not the passphrase")
    assert dialog.busy()  # the keyring and the key file are handled in a worker
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT)
    assert "passphrase does not open" in dialog.status_label.text()
    assert dialog.ids() == []

    dialog.import_file(identity["p12"], P12_PASS)
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT)
    (key_id,) = dialog.ids()
    assert key_id.startswith("smime:") and dialog.selected() == key_id
    assert secret_keyring.get_password("mailproof-keys", key_id) is not None
    item = dialog.table.topLevelItem(0)
    assert item.text(2) == "alice@clinic.example" and item.text(3) == "RSA-2048"

    exported = identity["p12"].parent / "exported.pem"
    dialog.export_to(key_id, exported)
    assert exported.read_text().strip() == identity["cert"].read_text().strip()

    dialog.remove(confirm=False)
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT)
    assert dialog.ids() == []
    assert secret_keyring.get_password("mailproof-keys", key_id) is None
