"""Evidence packages: every copy byte-exact with provenance, a manifest of hashes signed with
the user's S/MIME identity from the real keyring — and `sha256sum` and `openssl cms -verify`
agree with `mailproof evidence verify`, which names any altered member."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import zipfile
from pathlib import Path

from app.sources import open_source
from app.store.library import Library
from tests.builders import make_maildir, make_message
from tests.integration.test_keys import P12_PASS, identity, run  # noqa: F401 - the fixture

MID = "<discharge-88@clinic.example>"


def rewrite_member(package: Path, name: str, change: bytes) -> Path:
    altered = package.with_name(f"altered-{name.replace('/', '-')}.zip")
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(altered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == name:
                data = data[:-2] + change
            target.writestr(info, data)
    return altered


def test_signed_package_verifies_by_hand_and_names_any_altered_member(
    tmp_path: Path,
    identity: dict[str, Path],  # noqa: F811
    secret_keyring,
) -> None:
    home = tmp_path / "home"
    original = make_message("Discharge letter", message_id=MID, body="Discharged 2024-05-03.\n")
    root = make_maildir(tmp_path / "Archive", {"cur/1:2,S": original})
    make_maildir(root / ".BACKUP", {"cur/2:2,S": original})
    make_maildir(root / ".Sent", {"cur/3:2,S": original.replace(b"Discharged", b"DISCHARGED")})
    library = Library(home)
    library.ingest(open_source(root))
    library.close()
    imported = run(
        home, "keys", "import", str(identity["p12"]), "--passphrase-stdin", stdin=P12_PASS + "\n"
    )
    assert imported.returncode == 0, imported.stderr

    asked = run(home, "investigate", "--message-id", MID, "--json")
    assert asked.returncode == 0 and json.loads(asked.stdout)["outcome"] == "found"
    package = tmp_path / "out" / "evidence.zip"
    exported = run(
        home, "evidence", "export", "--message-id", MID, "-o", str(package),
        "--sign", "alice@clinic.example", "--json", "--offline",
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    result = json.loads(exported.stdout)
    assert result["copies"] == 3 and result["signed_by"].startswith("smime:")

    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(package) as archive:
        names = sorted(archive.namelist())
        archive.extractall(unpacked)
    assert names == [
        "copies/01.eml", "copies/02.eml", "copies/03.eml", "investigations.json",
        "manifest.json", "manifest.json.p7s", "message.eml", "provenance.json", "report.pdf",
        "trace.json",
    ]  # fmt: skip
    stored = {hashlib.sha256((unpacked / n).read_bytes()).hexdigest() for n in names[:3]}
    investigations = json.loads((unpacked / "investigations.json").read_text())
    assert [i["outcome"] for i in investigations] == ["found"]  # the one made before export
    assert hashlib.sha256(original).hexdigest() in stored and len(stored) == 2
    provenance = json.loads((unpacked / "provenance.json").read_text())
    assert sorted(c["folder"] for c in provenance["copies"]) == ["BACKUP", "INBOX", "Sent"]
    assert all(c["import_source"] and c["kind"] == "maildir" for c in provenance["copies"])
    pdf = (unpacked / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")

    # by hand: sha256sum over the manifest, openssl cms -verify over the signature
    manifest = json.loads((unpacked / "manifest.json").read_text())
    checklist = "".join(f"{digest}  {name}\n" for name, digest in manifest["files"].items())
    by_hand = subprocess.run(
        ["sha256sum", "-c", "-"], input=checklist, cwd=unpacked, capture_output=True, text=True
    )
    assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr
    openssl = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "manifest.json.p7s",
        "-content", "manifest.json", "-CAfile", str(identity["ca"]), "-purpose", "any",
        "-out", os.devnull,
    ]  # fmt: skip
    assert subprocess.run(openssl, cwd=unpacked, capture_output=True).returncode == 0

    verified = run(home, "evidence", "verify", str(package), "--ca-file", str(identity["ca"]))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "ok    signature: valid signature by" in verified.stdout

    altered = rewrite_member(package, "copies/02.eml", b"X\n")
    broken = run(home, "evidence", "verify", str(altered), "--ca-file", str(identity["ca"]))
    assert broken.returncode == 1
    assert "mailproof: error: file copies/02.eml: altered" in broken.stderr

    forged = rewrite_member(package, "manifest.json", b"}\n")
    forged_check = run(
        home, "evidence", "verify", str(forged), "--ca-file", str(identity["ca"]), "--json"
    )
    assert forged_check.returncode == 1
    failed = [c for c in json.loads(forged_check.stdout)["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["signature"]
    assert "changed after it was signed" in failed[0]["detail"]
    with zipfile.ZipFile(forged) as archive:
        archive.extractall(tmp_path / "forged")
    assert subprocess.run(openssl, cwd=tmp_path / "forged", capture_output=True).returncode != 0

    deleted = tmp_path / "deleted.zip"
    added = tmp_path / "added.zip"
    with zipfile.ZipFile(package) as source:
        with zipfile.ZipFile(deleted, "w") as target:
            for name in source.namelist():
                if name != "provenance.json":
                    target.writestr(name, source.read(name))
        with zipfile.ZipFile(added, "w") as target:
            for name in source.namelist():
                target.writestr(name, source.read(name))
            target.writestr("../../etc/evil.eml", b"From: forged\n\nx\n")
    gone = run(home, "evidence", "verify", str(deleted), "--ca-file", str(identity["ca"]))
    assert gone.returncode == 1
    assert "file provenance.json: listed in the manifest but missing" in gone.stderr
    extra = run(home, "evidence", "verify", str(added), "--ca-file", str(identity["ca"]))
    assert extra.returncode == 1
    assert "file ../../etc/evil.eml: not listed in the manifest (added)" in extra.stderr
    assert not (tmp_path.parent / "etc" / "evil.eml").exists()  # nothing is ever extracted

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as target:
        target.writestr("manifest.json", b"{}")
        target.writestr("message.eml", b"\0" * 200_000_000)
    refused = run(home, "evidence", "verify", str(bomb))
    assert refused.returncode == 2 and "zip bomb" in refused.stderr

    untrusted = run(home, "evidence", "verify", str(package))
    assert untrusted.returncode == 1 and "no trust anchor" in untrusted.stderr

    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04 not really")
    bad = run(home, "evidence", "verify", str(garbage))
    assert bad.returncode == 2 and "not a readable evidence package" in bad.stderr
    assert "Traceback" not in bad.stderr

    audit = [json.loads(x) for x in run(home, "audit", "show", "--json").stdout.splitlines()]
    exports = [e for e in audit if e["action"] == "evidence exported"]
    assert exports and exports[-1]["detail"]["signed_by"] == result["signed_by"]
    assert (
        exports[-1]["detail"]["manifest_sha256"]
        == hashlib.sha256((unpacked / "manifest.json").read_bytes()).hexdigest()
    )


def test_package_of_a_delivered_synced_message_rechecks_dkim_from_the_recorded_dns(
    mail_chain, dovecot, tmp_path: Path, secret_keyring
) -> None:
    msgid, _delivered = mail_chain.deliver("Proof of delivery", "Delivered.\n", "evidence")
    home = tmp_path / "home"
    added = run(
        home, "account", "add", "evidence-alice", "--host", dovecot.host, "--port",
        str(dovecot.imaps_port), "--user", "alice", "--ca-file", str(dovecot.ca_pem),
        "--password-stdin", "--folder", "INBOX", stdin=dovecot.users["alice"] + "\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    synced = run(home, "sync", "evidence-alice")
    assert synced.returncode == 0, synced.stderr
    dns = f"127.0.0.1:{mail_chain.dns_port}"
    package = tmp_path / "dkim.zip"
    done = run(home, "evidence", "export", "--message-id", msgid, "-o", str(package),
               "--dns-server", dns)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(package) as archive:
        trace = json.loads(archive.read("trace.json"))
    assert trace["dkim"][0]["result"] == "pass" and trace["dns_answers"]
    assert trace["summary"].startswith("Delivered to mx.example.test")
    with zipfile.ZipFile(package) as archive:
        provenance = json.loads(archive.read("provenance.json"))
    (copy,) = provenance["copies"]
    assert copy["kind"] == "imap" and copy["folder"] == "INBOX" and copy["uid"]
    assert copy["uidvalidity"] and copy["internaldate"] and copy["fetched_at"]
    assert copy["server"] == f"imap://alice@{dovecot.host}:{dovecot.imaps_port}"

    checked = run(home, "evidence", "verify", str(package), "--json", "--live-dns",
                  "--dns-server", dns)  # fmt: skip
    checks = {c["name"]: c for c in json.loads(checked.stdout)["checks"]}
    assert (
        checks["dkim (recorded DNS)"]["ok"]
        and "sender.test pass" in (checks["dkim (recorded DNS)"]["detail"])
    )
    assert checks["dkim (today's DNS)"]["ok"] and checks["received trail"]["ok"]
    assert checked.returncode == 0, checked.stdout
    run(home, "account", "remove", "evidence-alice")
