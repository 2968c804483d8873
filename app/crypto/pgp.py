"""OpenPGP through python-gnupg: decrypt, and check detached, inline and clear-signed
signatures, each call in a throwaway GnuPG home (``ephemeral_gpg``) holding only the keys
passed in. Pure functions of bytes to frozen values.

python-gnupg raises nothing and its summaries are lossy, so every verdict here is read from
gpg's own ``--status-fd`` lines (``result.stderr``), per signature (``NEWSIG`` blocks).
Decryption failures are results, never exceptions; only a missing or broken gpg raises
``PgpError``.

"untrusted" is never produced for OpenPGP: the only keys gpg ever sees are the ones the user
imported into Mailproof, so a good signature by one of them is exactly as trusted as that
import (gpg's own web-of-trust level is ignored). Plaintext stays in memory: it goes to gpg
through a pipe and comes back through one; only a detached signature (never content) is
written to a file, inside the throwaway home.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from app.crypto.gpg import ephemeral_gpg
from app.crypto.gpg_status import (
    codes_of,
    error_codes,
    signature_blocks,
    status_lines,
    unescape,
)
from app.crypto.verdict import SignatureStatus
from app.errors import EnvironmentUnavailable, Exit, MailproofError

MAX_INPUT = 64 * 1024 * 1024  # refuse larger inputs outright
MAX_OUTPUT = 256 * 1024 * 1024  # gpg --max-output: caps decompression bombs
TIMEOUT_SECONDS = 60.0  # each gpg process is killed after this long
# RFC 4880 / 9580 symmetric algorithm ids, as in gpg's DECRYPTION_INFO status line
CIPHERS = {
    "1": "IDEA", "2": "3DES", "3": "CAST5", "4": "BLOWFISH", "7": "AES128", "8": "AES192",
    "9": "AES256", "10": "TWOFISH", "11": "CAMELLIA128", "12": "CAMELLIA192", "13": "CAMELLIA256",
}  # fmt: skip
GPG_ERR_BAD_PASSPHRASE = 11
GPG_ERR_NO_SECKEY = 17
GPG_ERR_NO_PASSPHRASE = 177
GPG_ERR_NO_PUBKEY = 9
HIDDEN_RECIPIENT = "0000000000000000"
# worst first: the verdict of a message with several signatures is its worst one
_BADNESS: dict[str, int] = {
    "invalid": 0, "unknown-key": 1, "expired": 2, "signer-mismatch": 3, "untrusted": 4,
    "valid": 5, "none": 6,
}  # fmt: skip
_OUTPUT_FAILURES = ("handle plaintext failed", "max-output", "multiple plaintexts")


class PgpError(MailproofError):
    """GnuPG is missing or cannot run (exit 1)."""

    exit_code = Exit.PROBLEMS


@dataclass(frozen=True)
class PgpSignature:
    status: SignatureStatus = SignatureStatus.NONE
    explanation: str = "This part is not signed."
    signer: str | None = None  # the user id, e.g. "Alice <alice@clinic.example>"
    signer_email: str | None = None
    fingerprint: str | None = None  # primary key fingerprint (or the key id when unknown)
    signing_time: str | None = None  # ISO 8601 UTC


@dataclass(frozen=True)
class PgpDecryption:
    ok: bool
    content: bytes | None = None
    algorithm: str | None = None
    key_used: str | None = None  # primary fingerprint of the secret key that decrypted
    error: str | None = None
    signature: PgpSignature = field(default_factory=PgpSignature)


# ---- the gpg session -------------------------------------------------------------------------

# gpg's stderr is decoded by python-gnupg with a strict codec in a reader thread: one stray byte
# (a mangled armor header echoed back) would kill the thread and lose every status line.
_CODEC = "mailproof-utf8-replace"


class _LenientReader(codecs.StreamReader):
    def __init__(self, stream: Any, errors: str = "replace") -> None:
        super().__init__(stream, "replace")

    def decode(self, data: bytes, errors: str = "replace") -> tuple[str, int]:
        return codecs.utf_8_decode(data, "replace", False)


def _find_codec(name: str) -> codecs.CodecInfo | None:
    if name.replace("_", "-") != _CODEC:
        return None
    utf8 = codecs.lookup("utf-8")
    return codecs.CodecInfo(
        name=_CODEC,
        encode=utf8.encode,
        decode=lambda data, errors="replace": utf8.decode(data, "replace"),
        streamreader=_LenientReader,
        streamwriter=utf8.streamwriter,
    )


codecs.register(_find_codec)


@dataclass
class _Session:
    gpg: Any
    home: str
    timed_out: list[bool] = field(default_factory=list)
    # key id (16 hex, primary or sub) -> primary fingerprint; fingerprint -> user ids
    owner: dict[str, str] = field(default_factory=dict)
    uids: dict[str, list[str]] = field(default_factory=dict)
    # primary fingerprint -> index of the secret key (as passed in) that holds it
    secret_of: dict[str, list[int]] = field(default_factory=dict)


@contextlib.contextmanager
def _session() -> Iterator[_Session]:
    """``ephemeral_gpg`` with a per-process kill timer, no network, an output cap and a
    lenient stderr decoder; a missing gpg becomes ``PgpError``."""
    timers: list[threading.Timer] = []
    try:
        with ephemeral_gpg() as gpg:
            session = _Session(gpg, str(gpg.gnupghome))
            gpg.encoding = _CODEC
            gpg.decode_errors = "replace"
            # untranslated messages: a few failures are only told in gpg's log lines
            env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LANGUAGE")}
            gpg.env = {**env, "LC_MESSAGES": "C", "LANGUAGE": "C"}
            gpg.options = [
                "--no-auto-key-retrieve",
                "--no-auto-key-locate",
                "--max-output",
                str(MAX_OUTPUT),
            ]
            original = gpg._open_subprocess

            def opened(args: Any, passphrase: Any = False) -> Any:
                process = original(args, passphrase)
                timer = threading.Timer(TIMEOUT_SECONDS, _kill, (process, session))
                timer.daemon = True
                timer.start()
                timers.append(timer)
                return process

            gpg._open_subprocess = opened
            handle_io = gpg._handle_io

            def handled(
                args: Any, stream: Any, result: Any, passphrase: Any = None, binary: Any = False
            ) -> Any:
                # gpg that stops reading early (garbage, a huge input) breaks the pipe our
                # writer feeds; python-gnupg re-raises that after collecting everything
                try:
                    return handle_io(args, stream, result, passphrase, binary)
                except (OSError, ValueError):
                    if getattr(result, "returncode", None) in (0, None):
                        result.returncode = 2
                    return result

            gpg._handle_io = handled
            try:
                yield session
            finally:
                for timer in timers:
                    timer.cancel()
    except EnvironmentUnavailable as err:
        raise PgpError(str(err)) from err
    except OSError as err:
        # gnupg.GPG() raises this when the binary cannot run at all
        raise PgpError(f"GnuPG cannot run: {err}") from err
    except ValueError as err:
        if "invoking gpg" not in str(err):
            raise
        raise PgpError(f"GnuPG cannot run: {err}") from err


def _kill(process: subprocess.Popen[bytes], session: _Session) -> None:
    if process.poll() is None:
        session.timed_out.append(True)
        with contextlib.suppress(OSError):
            process.kill()


def _import(session: _Session, armored: Sequence[str], *, secret: bool) -> None:
    """Import keys; failures are silent here (a key that does not import simply is not
    there, and the verdict says the key is unknown)."""
    gpg = session.gpg
    for index, key in enumerate(armored):
        if not isinstance(key, str | bytes) or not key.strip() or len(key) > MAX_INPUT:
            continue
        result = gpg.import_keys(key)
        if secret:
            for fingerprint in getattr(result, "fingerprints", None) or []:
                holders = session.secret_of.setdefault(str(fingerprint).upper(), [])
                if index not in holders:
                    holders.append(index)


def _index_keys(session: _Session) -> None:
    for listed in session.gpg.list_keys():
        primary = str(listed.get("fingerprint") or "").upper()
        if not primary:
            continue
        session.uids[primary] = [str(u) for u in listed.get("uids", ())]
        session.owner[primary[-16:]] = primary
        keyid = str(listed.get("keyid") or "").upper()
        if keyid:
            session.owner[keyid] = primary
        for sub in listed.get("subkeys", ()) or ():
            if sub and sub[0]:
                session.owner[str(sub[0]).upper()] = primary
            if len(sub) > 2 and sub[2]:
                session.owner[str(sub[2]).upper()[-16:]] = primary


def _primary(session: _Session, key_id: str | None) -> str | None:
    if not key_id:
        return None
    return session.owner.get(key_id.upper()[-16:])


def _email(uid: str | None) -> str | None:
    if not uid:
        return None
    match = re.search(r"<([^<>\s]+@[^<>\s]+)>", uid)
    if match:
        return match.group(1).lower()
    bare = uid.strip()
    return bare.lower() if re.fullmatch(r"[^\s<>@]+@[^\s<>@]+", bare) else None


def _sender(from_address: str | None) -> str | None:
    if not from_address:
        return None
    address = parseaddr(from_address)[1] or from_address
    return address.strip().lower() or None


def _iso(stamp: str | None) -> str | None:
    if not stamp:
        return None
    try:
        if stamp.isdigit():
            moment = dt.datetime.fromtimestamp(int(stamp), dt.UTC)
        else:
            moment = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _verdict(
    block: dict[str, list[str]], session: _Session, from_address: str | None
) -> PgpSignature:
    validsig = block.get("VALIDSIG", [])
    primary_fpr = (validsig[9] if len(validsig) > 9 else validsig[0] if validsig else "") or None
    signed_at = _iso(validsig[2] if len(validsig) > 2 else None)
    for code in ("BADSIG", "REVKEYSIG", "EXPKEYSIG", "EXPSIG", "GOODSIG"):
        if code not in block:
            continue
        words = block[code]
        key_id = words[0].upper() if words else None
        uid = unescape(" ".join(words[1:])) or None
        fingerprint = (primary_fpr or "").upper() or _primary(session, key_id) or key_id
        names = session.uids.get(fingerprint or "", [])
        who = uid or (f"key {key_id}" if key_id else "an unknown key")
        base: dict[str, Any] = {
            "signer": uid,
            "signer_email": _email(uid),
            "fingerprint": fingerprint,
            "signing_time": signed_at,
        }
        if code == "BADSIG":
            return PgpSignature(
                SignatureStatus.INVALID,
                f"INVALID: the content was altered after {who} signed it.",
                **base,
            )
        if code == "REVKEYSIG":
            return PgpSignature(
                SignatureStatus.INVALID,
                f"The signature by {who} matches, but the key was revoked.",
                **base,
            )
        if code in ("EXPKEYSIG", "EXPSIG"):
            what = "key" if code == "EXPKEYSIG" else "signature"
            return PgpSignature(
                SignatureStatus.EXPIRED,
                f"The signature by {who} matches, but the {what} has expired.",
                **base,
            )
        if not validsig:
            return PgpSignature(
                SignatureStatus.INVALID, f"GnuPG did not confirm the signature by {who}.", **base
            )
        sender = _sender(from_address)
        emails = [e for e in (_email(n) for n in names) if e] or (
            [base["signer_email"]] if base["signer_email"] else []
        )
        if sender:
            matching = [n for n in names if _email(n) == sender]
            if not matching:
                return PgpSignature(
                    SignatureStatus.SIGNER_MISMATCH,
                    f"Validly signed by {who}, but the message says it is from {sender}, "
                    f"which is not an address of that key ({', '.join(emails) or 'none'}).",
                    **base,
                )
            base["signer"] = matching[0]
            base["signer_email"] = sender
            who = matching[0]
        return PgpSignature(SignatureStatus.VALID, f"Signed by {who}.", **base)
    if "ERRSIG" in block or "NO_PUBKEY" in block:
        errsig = block.get("ERRSIG", [])
        key_id = (errsig or block.get("NO_PUBKEY") or ["?"])[0].upper()
        issuer = errsig[6].upper() if len(errsig) > 6 and errsig[6] not in ("", "-") else None
        rc = int(errsig[5]) if len(errsig) > 5 and errsig[5].isdigit() else None
        if rc is not None and rc != GPG_ERR_NO_PUBKEY and "NO_PUBKEY" not in block:
            return PgpSignature(
                SignatureStatus.INVALID,
                f"The signature by key {key_id} cannot be checked (GnuPG error {rc}: "
                "unsupported algorithm or damaged signature).",
                fingerprint=issuer or key_id,
                signing_time=_iso(errsig[4] if len(errsig) > 4 else None),
            )
        return PgpSignature(
            SignatureStatus.UNKNOWN_KEY,
            f"Signed with key {key_id}, which is not among your imported keys; not checked.",
            fingerprint=issuer or key_id,
            signing_time=_iso(errsig[4] if len(errsig) > 4 else None),
        )
    return PgpSignature()


def _signature_of(
    lines: list[tuple[str, list[str]]], session: _Session, from_address: str | None
) -> PgpSignature:
    verdicts = [_verdict(b, session, from_address) for b in signature_blocks(lines)]
    verdicts = [v for v in verdicts if v.status != "none"]
    if not verdicts:
        return PgpSignature()
    worst = min(verdicts, key=lambda v: _BADNESS[v.status])
    if len(verdicts) > 1 and worst.status != "valid":
        return PgpSignature(
            worst.status,
            f"{worst.explanation} (one of {len(verdicts)} signatures)",
            worst.signer,
            worst.signer_email,
            worst.fingerprint,
            worst.signing_time,
        )
    return worst


def _checked(
    verdict: PgpSignature, result: Any, lines: list[tuple[str, list[str]]]
) -> PgpSignature:
    """A good signature from a gpg run that failed (several plaintexts, a damaged trailer…)
    is not trusted."""
    failed = getattr(result, "returncode", 0) not in (0, None) or any(
        code == "ERROR" and words and words[0].startswith("proc_pkt") for code, words in lines
    )
    if verdict.status in ("valid", "signer-mismatch") and failed:
        return PgpSignature(
            SignatureStatus.INVALID,
            "GnuPG reported an error around the signature (extra or damaged data); not trusted.",
            verdict.signer,
            verdict.signer_email,
            verdict.fingerprint,
            verdict.signing_time,
        )
    return verdict


def _looks_like_openpgp(data: bytes) -> bool:
    if b"-----BEGIN PGP " in data[: 1024 * 1024]:
        return True
    return bool(data[:1]) and bool(data[0] & 0x80)


def _armored(data: bytes) -> bool:
    return b"-----BEGIN PGP " in data[: 1024 * 1024]


# ---- decryption --------------------------------------------------------------------------------


def _recipients(session: _Session, data: bytes) -> tuple[list[str], bool]:
    """(key ids from the PKESK packets, whether there is a password-encrypted session key)."""
    result = session.gpg.decrypt(data, extra_args=["--list-only"])
    lines = status_lines(result)
    found = [w[0].upper() for c, w in lines if c == "ENC_TO" and w]
    symmetric = any(c in ("NEED_PASSPHRASE_SYM", "SYM_ENCRYPTED") for c, _ in lines) or (
        "encrypted with 1 passphrase" in str(getattr(result, "stderr", "") or "")
    )
    return list(dict.fromkeys(found)), symmetric


def _candidates(session: _Session, recipients: list[str], count: int) -> list[int]:
    if HIDDEN_RECIPIENT in recipients:
        return list(range(count))
    wanted: list[int] = []
    for recipient in recipients:
        primary = _primary(session, recipient)
        for index in session.secret_of.get(primary or "", []):
            if index not in wanted:
                wanted.append(index)
    return wanted


def _failure(session: _Session, data: bytes, lines: list[tuple[str, list[str]]], text: str) -> str:
    codes = codes_of(lines)
    errors = error_codes(lines)
    if session.timed_out:
        return f"GnuPG took longer than {TIMEOUT_SECONDS:.0f} s and was stopped"
    if GPG_ERR_BAD_PASSPHRASE in errors or "BAD_PASSPHRASE" in codes or "Bad passphrase" in text:
        return "wrong passphrase for the secret key"
    if GPG_ERR_NO_PASSPHRASE in errors or "can't get input" in text:
        return "wrong passphrase for the secret key (none was given, but the key is protected)"
    if "BADMDC" in codes or ("DECRYPTION_INFO" in codes and "DECRYPTION_FAILED" in codes):
        return "the message is damaged or was altered (integrity check failed)"
    if "max-output" in text or "exceeds" in text.lower():
        return "the message is damaged or too large (its plaintext exceeds the size limit)"
    if "NO_SECKEY" in codes or GPG_ERR_NO_SECKEY in errors:
        return _no_secret(list(dict.fromkeys(w[0] for c, w in lines if c == "ENC_TO" and w)))
    if "NODATA" in codes or "no valid OpenPGP data" in text:
        if _armored(data):
            return "the message is damaged (no valid OpenPGP data inside the armor)"
        return "not OpenPGP data"
    if "CRC error" in text or "invalid packet" in text or "DECRYPTION_FAILED" in codes:
        return "the message is damaged; decryption failed"
    return "the message is damaged or not an encrypted OpenPGP message; decryption failed"


def _no_secret(recipients: list[str]) -> str:
    shown = (
        ", ".join("a hidden recipient" if r == HIDDEN_RECIPIENT else r for r in recipients)
        or "no key listed"
    )
    return f"no secret key for this message (encrypted to {shown})"


def decrypt(
    data: bytes,
    secret_keys: Sequence[tuple[str, str]],
    public_keys: Sequence[str],
    from_address: str | None,
) -> PgpDecryption:
    """Decrypt an OpenPGP message in memory and check a signature inside it.

    ``secret_keys``: (armored secret key, passphrase); ``public_keys``: armored keys the user
    trusts for an inner signature (the secret keys count too)."""
    if not isinstance(data, bytes | bytearray) or not data.strip():
        return PgpDecryption(False, error="not OpenPGP data (the input is empty)")
    data = bytes(data)
    if len(data) > MAX_INPUT:
        return PgpDecryption(False, error=f"the message is larger than {MAX_INPUT >> 20} MiB")
    if not _looks_like_openpgp(data):
        return PgpDecryption(False, error="not OpenPGP data")
    with _session() as session:
        secrets = list(secret_keys)
        _import(session, [k for k, _p in secrets], secret=True)
        _import(session, public_keys, secret=False)
        _index_keys(session)
        recipients, symmetric = _recipients(session, data)
        if not recipients:
            if symmetric:
                return PgpDecryption(
                    False, error="encrypted with a password rather than to a key: not supported"
                )
            return PgpDecryption(False, error=_probe_error(session, data))
        candidates = _candidates(session, recipients, len(secrets))
        if not candidates:
            return PgpDecryption(False, error=_no_secret(recipients))
        error = "decryption failed"
        for index in candidates:
            passphrase = secrets[index][1]
            if not isinstance(passphrase, str) or re.search(r"[\r\n\x00]", passphrase):
                error = "wrong passphrase for the secret key (it holds a line break)"
                continue
            session.timed_out.clear()
            if passphrase:
                result = session.gpg.decrypt(data, passphrase=passphrase)
            else:  # python-gnupg would read an empty passphrase from the message itself
                result = session.gpg.decrypt(data, extra_args=["--passphrase", ""])
            outcome = _decrypted(session, data, result, from_address)
            if outcome.ok:
                return outcome
            error = outcome.error or error
        return PgpDecryption(False, error=error)


def _probe_error(session: _Session, data: bytes) -> str:
    """Why a message with no recipients cannot be decrypted."""
    result = session.gpg.decrypt(data)
    lines = status_lines(result)
    codes = codes_of(lines)
    if "PLAINTEXT" in codes and "BEGIN_DECRYPTION" not in codes:
        return "not an encrypted message (it is only signed or plain OpenPGP data)"
    return _failure(session, data, lines, str(getattr(result, "stderr", "") or ""))


def _decrypted(
    session: _Session, data: bytes, result: Any, from_address: str | None
) -> PgpDecryption:
    lines = status_lines(result)
    codes = codes_of(lines)
    text = str(getattr(result, "stderr", "") or "")
    info = codes.get("DECRYPTION_INFO", [])
    protected = "GOODMDC" in codes or (len(info) > 2 and info[2] not in ("", "0"))
    plaintexts = sum(1 for c, _ in lines if c == "PLAINTEXT")
    signature = _signature_of(lines, session, from_address)
    # gpg says DECRYPTION_OKAY and GOODMDC even when it cut the plaintext short (--max-output)
    # and exits 2; exit 2 is also how it reports an unverifiable inner signature
    output_failed = any(marker in text for marker in _OUTPUT_FAILURES)
    exit_explained = signature.status not in ("none", "valid", "signer-mismatch")
    ok = (
        not output_failed
        and (getattr(result, "returncode", 0) in (0, None) or exit_explained)
        and "DECRYPTION_OKAY" in codes
        and "END_DECRYPTION" in codes
        and "DECRYPTION_FAILED" not in codes
        and "BADMDC" not in codes
        and protected
        and plaintexts <= 1
        and not session.timed_out
        and getattr(result, "data", None) is not None
        and len(result.data) < MAX_OUTPUT
    )
    if not ok:
        if output_failed and "max-output" in text:
            return PgpDecryption(
                False,
                error="the message is damaged or too large (its plaintext exceeds "
                f"{MAX_OUTPUT >> 20} MiB)",
            )
        if "DECRYPTION_OKAY" in codes and plaintexts > 1:
            return PgpDecryption(False, error="the message is damaged (several plaintexts)")
        return PgpDecryption(False, error=_failure(session, data, lines, text))
    algorithm = CIPHERS.get(info[1], f"algorithm {info[1]}") if len(info) > 1 else None
    key = codes.get("DECRYPTION_KEY", [])
    key_used = (key[1] if len(key) > 1 else key[0] if key else None) or None
    if key_used is None and "ENC_TO" in codes:
        key_used = _primary(session, codes["ENC_TO"][0]) or codes["ENC_TO"][0]
    signature = _checked(signature, result, lines)
    return PgpDecryption(True, bytes(result.data), algorithm, key_used, None, signature)


def recipients_of(data: bytes) -> list[str]:
    """The key ids (16 hex digits; all zeros for a hidden recipient) an OpenPGP message is
    encrypted to; empty for anything else."""
    if not isinstance(data, bytes | bytearray) or not data.strip() or len(data) > MAX_INPUT:
        return []
    if not _looks_like_openpgp(bytes(data)):
        return []
    with _session() as session:
        return _recipients(session, bytes(data))[0]


# ---- signatures --------------------------------------------------------------------------------


def _crlf(content: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", content)


def verify_detached(
    content: bytes, signature: bytes, public_keys: Sequence[str], from_address: str | None
) -> PgpSignature:
    """Check a PGP/MIME (RFC 3156) detached signature over the signed part's raw bytes; the
    content goes through gpg's stdin, only the signature is written (inside the throwaway
    home). Retried on the CRLF-canonical form when the bytes as given do not verify."""
    if not isinstance(content, bytes | bytearray) or not isinstance(signature, bytes | bytearray):
        return PgpSignature("invalid", "The signature or the signed content is missing.")
    content, signature = bytes(content), bytes(signature)
    if len(content) > MAX_INPUT or len(signature) > MAX_INPUT:
        return PgpSignature(SignatureStatus.INVALID, "The signed message is too large to check.")
    if not signature.strip() or not _looks_like_openpgp(signature):
        return PgpSignature(
            SignatureStatus.INVALID, "The signature part holds no OpenPGP signature."
        )
    with _session() as session:
        _import(session, public_keys, secret=False)
        _index_keys(session)
        handle, sig_path = tempfile.mkstemp(dir=session.home, suffix=".sig")
        with os.fdopen(handle, "wb") as out:
            out.write(signature)
        verdict = PgpSignature(SignatureStatus.INVALID, "GnuPG could not check the signature.")
        for candidate in dict.fromkeys([content, _crlf(content)]):
            session.timed_out.clear()
            result = session.gpg.verify_data(sig_path, candidate)
            lines = status_lines(result)
            verdict = _detached_verdict(session, result, lines, from_address)
            if verdict.status != "invalid" or "BADSIG" not in codes_of(lines):
                return verdict
        return verdict


def _detached_verdict(
    session: _Session, result: Any, lines: list[tuple[str, list[str]]], from_address: str | None
) -> PgpSignature:
    codes = codes_of(lines)
    if session.timed_out:
        return PgpSignature(SignatureStatus.INVALID, "GnuPG took too long checking the signature.")
    if "PLAINTEXT" in codes:
        # an opaque signed message in the signature slot: what it signs is not this content
        return PgpSignature(
            SignatureStatus.INVALID, "The signature part is not a detached signature."
        )
    verdict = _signature_of(lines, session, from_address)
    if verdict.status == "none":
        return PgpSignature(
            SignatureStatus.INVALID, "The signature cannot be read (damaged or not OpenPGP)."
        )
    return _checked(verdict, result, lines)


def verify_inline(
    data: bytes, public_keys: Sequence[str], from_address: str | None
) -> tuple[PgpSignature, bytes | None]:
    """Check clear-signed text (or an opaque signed message); returns the verdict and the
    signed text as gpg extracted it (None when nothing signed could be read)."""
    if not isinstance(data, bytes | bytearray) or not data.strip():
        return PgpSignature(
            SignatureStatus.INVALID, "There is no signed text (the input is empty)."
        ), None
    data = bytes(data)
    if len(data) > MAX_INPUT:
        return PgpSignature(
            SignatureStatus.INVALID, "The signed message is too large to check."
        ), None
    if not _looks_like_openpgp(data):
        return PgpSignature(SignatureStatus.INVALID, "This is not OpenPGP signed text."), None
    with _session() as session:
        _import(session, public_keys, secret=False)
        _index_keys(session)
        # no passphrase and no secret keys: an encrypted message cannot be opened here
        result = session.gpg.decrypt(data)
        lines = status_lines(result)
        codes = codes_of(lines)
        if session.timed_out:
            return PgpSignature(
                SignatureStatus.INVALID, "GnuPG took too long checking the signature."
            ), None
        if "BEGIN_DECRYPTION" in codes or "ENC_TO" in codes:
            return PgpSignature(
                SignatureStatus.INVALID, "This is an encrypted message, not signed text."
            ), None
        verdict = _signature_of(lines, session, from_address)
        raw = getattr(result, "data", None)
        text = bytes(raw) if raw and len(raw) < MAX_OUTPUT else None
        if verdict.status == "none":
            return PgpSignature(
                SignatureStatus.INVALID,
                "The signed text carries no readable signature or was damaged.",
            ), None
        if sum(1 for c, _ in lines if c == "PLAINTEXT") > 1:
            return PgpSignature(
                SignatureStatus.INVALID, "The block holds several messages; not checked as one."
            ), text
        return _checked(verdict, result, lines), text
