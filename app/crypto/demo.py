"""The demo identity: Dr. Lena Hartmann's S/MIME and OpenPGP keys and a colleague's public key,
published in ``resources/demo-keys`` (they protect nothing), imported on the first demo run so
that a new user sees the demo's encrypted and signed samples open without any setup."""

from __future__ import annotations

from pathlib import Path

from app.config import data_home, resources_dir
from app.crypto import keys
from app.store.atomic import write_atomic

PASSPHRASE = "demo"  # noqa: S105 - a published demo key that protects nothing
FILES = ("lena-smime.p12", "lena-pgp-secret.asc", "katrin-pgp-public.asc")
CA_FILE = "demo-ca.pem"


def _marker() -> Path:
    return data_home() / "keys" / "demo-identity-imported"


def demo_keys_dir() -> Path:
    return resources_dir() / "demo-keys"


def ensure_demo_identity() -> list[str]:
    """Import the demo keys once (a user who removes them later is not overruled).

    Returns the ids imported now; raises the keyring's error when there is no keyring.
    """
    marker = _marker()
    folder = demo_keys_dir()
    if marker.exists() or not folder.is_dir():
        return []
    imported = []
    for name in FILES:
        path = folder / name
        passphrase = PASSPHRASE if "secret" in name or name.endswith(".p12") else None
        imported.append(keys.import_key_file(path, passphrase).id)
    keys.trust_ca(folder / CA_FILE)
    marker.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(marker, b"the demo identity was imported once; remove keys with `keys remove`\n")
    return imported
