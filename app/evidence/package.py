"""Delivery-evidence packages: a zip anyone can re-check without Mailproof's word for it.

Members: ``message.eml`` (the message in question), ``copies/NN.eml`` (every stored copy,
byte-exact), ``provenance.json`` (where each copy came from), ``report.pdf`` (readable),
``manifest.json`` (SHA-256 of every member, tool, time, user) and, when signed,
``manifest.json.p7s`` (a detached CMS signature over the manifest, DER).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from app import __version__, audit
from app.crypto import keys
from app.delivery.dkim import verify_dkim
from app.delivery.dns import Resolver, recorded_resolver
from app.delivery.locate import LocateResult, locate
from app.delivery.received import hops_of
from app.delivery.verdict import trace
from app.errors import BadInput, Exit, MailproofError
from app.evidence.report import render_report
from app.investigate.search import recorded
from app.mime.summary import summarize
from app.store.library import Library, now_iso

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.p7s"
MAX_MEMBER = 512 * 1024 * 1024  # per package, unpacked
MAX_MEMBERS = 10_000


class EvidenceError(MailproofError):
    """The package cannot be made or read (exit 2)."""

    exit_code = Exit.USAGE


@dataclass(frozen=True)
class ExportResult:
    path: str
    message_id: str | None
    sha256: str
    copies: int
    members: dict[str, str]  # name -> SHA-256
    signed_by: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _provenance(found: LocateResult, names: list[str]) -> list[dict[str, Any]]:
    records = []
    for name, copy in zip(names, found.copies, strict=True):
        server = copy.source_path if copy.kind == "imap" else None
        records.append(
            {
                "file": name,
                "sha256": copy.sha256,
                "account": copy.account,
                "server": server,
                "folder": copy.folder,
                "role": copy.role,
                "kind": copy.kind,
                "uid": copy.uid,
                "uidvalidity": copy.uidvalidity,
                "internaldate": copy.internaldate,
                "flags": copy.flags,
                "fetched_at": copy.fetched_at,
                "imported_at": copy.imported_at,
                "import_source": None if copy.kind == "imap" else copy.source_path,
                "source_offset": copy.source_offset,
                "expunged_at": copy.expunged_at,
                "remapped_from": copy.remapped_from,
            }
        )
    return records


def export_evidence(
    library: Library,
    out: Path,
    *,
    message_id: str | None = None,
    sha256: str | None = None,
    file: Path | None = None,
    sign: str | None = None,
    resolver: Resolver | None = None,
    offline: bool = False,
    clock: Callable[[], str] = now_iso,
) -> ExportResult:
    """Write the package for one message (by Message-ID, stored SHA-256 or a .eml file)."""
    if file is not None:
        raw = file.read_bytes()
        summary = summarize(raw)
        found = locate(library, message_id=summary.message_id, sha256=summary.sha256)
    else:
        found = locate(library, message_id=message_id, sha256=sha256)
        if not found.copies:
            raise BadInput(f"no stored message matches ({found.summary})")
        primary = next((c for c in found.copies if c.sha256 == sha256), found.copies[0])
        raw = library.raw(primary.sha256)
        summary = summarize(raw)
    identity = None
    if sign is not None:
        matches = [i for i in keys.smime_identities() if i.info.id.startswith(sign) or sign in
                   i.info.emails]  # fmt: skip
        if len(matches) != 1:
            raise BadInput(
                f"--sign {sign!r}: {'no' if not matches else len(matches)} S/MIME identity with "
                "that id or address (see `mailproof keys list`)"
            )
        identity = matches[0]

    members: dict[str, bytes] = {"message.eml": raw}
    names = [f"copies/{index:02d}.eml" for index in range(1, len(found.copies) + 1)]
    for name, copy in zip(names, found.copies, strict=True):
        members[name] = library.raw(copy.sha256)
    provenance = {
        "message": {"message_id": summary.message_id, "sha256": summary.sha256},
        "match": found.match,
        "note": found.note,
        "searched": list(found.searched),
        "copies": _provenance(found, names),
    }
    members["provenance.json"] = json.dumps(provenance, indent=2, ensure_ascii=False).encode()
    exported_at = clock()
    verdict = trace(raw, resolver=resolver, offline=offline, library=library)
    members["trace.json"] = json.dumps(verdict.to_json(), indent=2, ensure_ascii=False).encode()
    investigations = recorded(summary.message_id, summary.sha256)
    members["investigations.json"] = json.dumps(
        investigations, indent=2, ensure_ascii=False
    ).encode()
    members["report.pdf"] = render_report(
        summary, found, names, exported_at, __version__, verdict, investigations
    )
    manifest = {
        "tool": f"mailproof {__version__}",
        "exported_at": exported_at,
        "exported_by": audit.os_user(),
        "message": {"message_id": summary.message_id, "sha256": summary.sha256},
        "files": {name: _sha256(data) for name, data in members.items()},
        "signed": identity is not None,
    }
    manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    members[MANIFEST] = manifest_bytes
    if identity is not None:
        members[SIGNATURE] = (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(manifest_bytes)
            .add_signer(identity.certificate, identity.private_key, hashes.SHA256())
            .sign(
                serialization.Encoding.DER,
                [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
            )
        )
    _write_zip(out, members)
    result = ExportResult(
        path=str(out),
        message_id=summary.message_id,
        sha256=summary.sha256,
        copies=len(found.copies),
        members={name: _sha256(data) for name, data in members.items()},
        signed_by=identity.info.id if identity else None,
    )
    audit.record(
        "evidence exported",
        {"sha256": summary.sha256, "message_id": summary.message_id},
        file=str(out),
        manifest_sha256=_sha256(manifest_bytes),
        signed_by=result.signed_by,
    )
    return result


def _write_zip(out: Path, members: dict[str, bytes]) -> None:
    """All or nothing: a temporary file in the target folder, then an atomic rename."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".evidence-", suffix=".zip", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as stream, zipfile.ZipFile(stream, "w") as archive:
            for name, data in members.items():
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        with open(temporary, "rb") as synced:
            os.fsync(synced.fileno())
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class VerifyReport:
    path: str
    checks: tuple[Check, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "ok": self.ok, "checks": [c.to_json() for c in self.checks]}


def read_members(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = {}
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_MEMBER:
                raise EvidenceError(f"{path}: too many or too large members for a package")
            for info in infos:
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > MAX_MEMBER or (ratio > 1000 and info.file_size > 10**7):
                    raise EvidenceError(
                        f"{path}: member {info.filename} would unpack to {info.file_size:,} "
                        "bytes (a zip bomb?); refused"
                    )
                members[info.filename] = archive.read(info)
            return members
    except (zipfile.BadZipFile, OSError, zipfile.LargeZipFile) as err:
        raise EvidenceError(f"{path} is not a readable evidence package: {err}") from err


SignatureCheck = Callable[[bytes, bytes], Check]


def _trace_checks(members: dict[str, bytes], live: Resolver | None) -> list[Check]:
    """Re-parse the message's Received trail and re-check DKIM with the recorded DNS answers
    (and, given a live resolver, with today's DNS); compare with trace.json."""
    message, recorded = members.get("message.eml"), members.get("trace.json")
    if message is None or recorded is None:
        return [Check("trace", False, "message.eml or trace.json is missing")]
    try:
        saved = json.loads(recorded)
        saved_hops = [(h["by_host"], h["timestamp"], h["id"]) for h in saved["hops"]]
        saved_dkim = [(d["domain"], d["result"]) for d in saved["dkim"]]
        answers = saved.get("dns_answers", [])
    except (ValueError, KeyError, TypeError) as err:
        return [Check("trace", False, f"trace.json is unreadable: {err}")]
    checks = []
    hops = [(h.by_host, h.timestamp, h.id) for h in hops_of(message)]
    checks.append(
        Check(
            "received trail",
            hops == saved_hops,
            f"{len(hops)} hops re-read from message.eml match trace.json"
            if hops == saved_hops
            else "the hops re-read from message.eml differ from trace.json",
        )  # fmt: skip
    )
    if saved.get("offline"):
        checks.append(Check("dkim (recorded DNS)", True, "not checked at export (offline)"))
    else:
        again = [(d.domain, d.result) for d in verify_dkim(message, recorded_resolver(answers))]
        checks.append(
            Check(
                "dkim (recorded DNS)",
                again == saved_dkim,
                f"re-checked with the {len(answers)} recorded DNS answer(s): "
                + (", ".join(f"{d} {r}" for d, r in again) or "no signature"),
            )  # fmt: skip
        )
    if live is not None:
        today = [(d.domain, d.result) for d in verify_dkim(message, live)]
        same = [r for _, r in today] == [r for _, r in saved_dkim] or saved.get("offline")
        checks.append(
            Check("dkim (today's DNS)", bool(same),
                  "with today's DNS: " + (", ".join(f"{d} {r}" for d, r in today) or "none")
                  + ("" if same else " — differs from the export (key rotated or revoked?)"))
        )  # fmt: skip
    return checks


def verify_evidence(
    path: Path, signature_check: SignatureCheck | None = None, live: Resolver | None = None
) -> VerifyReport:
    """Recompute every hash against the manifest; each member altered, missing or added is
    named. ``signature_check(manifest, p7s)`` checks the manifest signature when present;
    the trail and DKIM are re-checked from the message itself."""
    members = read_members(path)
    checks: list[Check] = []
    manifest_bytes = members.get(MANIFEST)
    if manifest_bytes is None:
        return VerifyReport(str(path), (Check("manifest", False, "manifest.json is missing"),))
    try:
        manifest = json.loads(manifest_bytes)
        listed: dict[str, str] = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as err:
        return VerifyReport(str(path), (Check("manifest", False, f"unreadable: {err}"),))
    checks.append(
        Check("manifest", True, f"{len(listed)} files listed, made by {manifest.get('tool')}")
    )
    for name, expected in sorted(listed.items()):
        data = members.get(name)
        if data is None:
            checks.append(Check(f"file {name}", False, "listed in the manifest but missing"))
        elif _sha256(data) != expected:
            checks.append(Check(f"file {name}", False, "altered: its SHA-256 differs"))
        else:
            checks.append(Check(f"file {name}", True, f"SHA-256 {expected[:16]}… matches"))
    for name in sorted(set(members) - set(listed) - {MANIFEST, SIGNATURE}):
        checks.append(Check(f"file {name}", False, "not listed in the manifest (added)"))
    message = members.get("message.eml")
    if message is not None and isinstance(manifest.get("message"), dict):
        claimed = manifest["message"].get("sha256")
        checks.append(
            Check(
                "message identity",
                _sha256(message) == claimed,
                "message.eml is the message the manifest names"
                if _sha256(message) == claimed
                else "message.eml is not the message the manifest names",
            )
        )
    signature = members.get(SIGNATURE)
    if signature is not None:
        if signature_check is None:
            checks.append(Check("signature", False, "present but no verifier was given"))
        else:
            checks.append(signature_check(manifest_bytes, signature))
    elif manifest.get("signed"):
        checks.append(Check("signature", False, "the manifest says signed, the .p7s is missing"))
    checks.extend(_trace_checks(members, live))
    return VerifyReport(str(path), tuple(checks))
