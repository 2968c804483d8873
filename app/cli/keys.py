"""``mailproof keys …`` and ``keyring …``: your S/MIME and OpenPGP keys, and where passwords
and private keys are kept."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from app import secrets
from app.cli import command, group, json_flag
from app.cli.output import Record, Reply
from app.cli.prompt import read_secret
from app.crypto import keys
from app.errors import Exit

group("keys", "your S/MIME and OpenPGP keys (private parts only in the OS keyring)")
group("keyring", "where passwords are kept: the OS keyring or an encrypted file")


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file")
    parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the passphrase from standard input (else asked without echo)",
    )
    json_flag(parser)


@command(
    "keys import",
    "import a PKCS#12 (.p12/.pfx) identity or an OpenPGP secret key",
    _import_arguments,
)
def keys_import(args: argparse.Namespace) -> Reply:
    path = Path(args.file)
    passphrase = read_secret(
        f"Passphrase of {path.name} (empty if none): ",
        what="the passphrase",
        from_stdin=args.passphrase_stdin,
        option="--passphrase-stdin",
        required=False,
    )
    secrets.backend()  # no usable keyring: say so before anything else
    info = keys.import_key_file(path, passphrase)
    return Reply(
        document=info.to_json(),
        text=f"imported {info.id} ({info.subject}); its secret is in the keyring",
    )


@command("keys list", "the imported keys", json_flag)
def keys_list(_args: argparse.Namespace) -> Reply:
    return Reply(
        records=[
            Record(
                info.to_json(),
                f"{info.id}  {info.algorithm}  {', '.join(info.emails)}  until {info.not_after}",
            )
            for info in keys.list_keys()
        ]
    )


def _id_and_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id")
    json_flag(parser)


@command("keys remove", "forget a key and its secret", _id_and_json)
def keys_remove(args: argparse.Namespace) -> Reply:
    info = keys.remove_key(args.id)
    return Reply(
        document={"id": info.id, "removed": True},
        text=f"removed {info.id} and its secret from the keyring",
    )


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id")


@command(
    "keys export-public",
    "print the certificate (PEM) or public key (armored)",
    _export_arguments,
)
def keys_export_public(args: argparse.Namespace) -> Reply:
    return Reply(raw=keys.export_public(args.id))


def _trust_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ca", metavar="CA.pem")
    json_flag(parser)


@command("keys trust", "add a CA certificate as trust anchor", _trust_arguments)
def keys_trust(args: argparse.Namespace) -> Reply:
    subject = keys.trust_ca(Path(args.ca)).subject.rfc4514_string()
    return Reply(document={"trusted": subject}, text=f"trusting {subject} for S/MIME signatures")


# -- keyring --------------------------------------------------------------------------------
@command("keyring status", "which keyring holds the secrets", json_flag)
def keyring_status(_args: argparse.Namespace) -> Reply:
    result = secrets.describe()
    if result["usable"]:
        text = f"secrets are kept in {result.get('path') or result['backend']}"
    else:
        text = f"no usable keyring: {result['error']}"
    return Reply(document=result, text=text, exit=Exit.OK if result["usable"] else Exit.ENVIRONMENT)


def _use_file_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the master password from standard input (else asked twice without echo)",
    )
    json_flag(parser)


@command(
    "keyring use-file",
    "keep secrets in an encrypted file protected by a master password "
    "(when no OS keyring is usable)",
    _use_file_arguments,
)
def keyring_use_file(args: argparse.Namespace) -> Reply:
    is_new = not secrets.file_keyring_path().exists()  # else checked against the file
    master = read_secret(
        "Master password for Mailproof's encrypted keyring: ",
        what="the master password",
        from_stdin=args.password_stdin,
        confirm="The same again: " if is_new else None,
    )
    assert master is not None  # required
    path = secrets.use_file_keyring(master)
    result: dict[str, Any] = {"backend": "encrypted-file", "path": str(path)}
    return Reply(
        document=result,
        text=f"secrets are now kept in {path}, encrypted with the master password; it is asked "
        f"for when needed (or read from {secrets.ENV_MASTER}). Add the accounts' passwords "
        "again with `mailproof account add`",
    )


@command("keyring use-os", "go back to the OS keyring", json_flag)
def keyring_use_os(_args: argparse.Namespace) -> Reply:
    secrets.use_os_keyring()
    return Reply(
        document={"backend": "os"},
        text="secrets are kept in the OS keyring again (the encrypted file is left as it was)",
    )
