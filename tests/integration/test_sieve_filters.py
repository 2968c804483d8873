"""Server filters, for real: Dovecot Pigeonhole runs a Sieve script at LMTP delivery and serves
it over ManageSieve (STARTTLS, certificate checked); `mailproof investigate --account` reads
it and says the message was filtered, naming the rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from app.imap.account import Account
from app.investigate.sieve import Facts, findings, read_scripts
from tests.harness.dovecot import Dovecot
from tests.harness.pki import Pki

MAILPROOF = Path(sys.executable).with_name("mailproof")
USER, PASSWORD = "dora", "dora-pw-3"
SCRIPT = """require ["fileinto", "reject", "envelope"];
if address :domain :is "from" "spam.example" { discard; stop; }
if header :contains "subject" "newsletter" { fileinto "Junk"; }
if envelope :is "to" "x@example.test" { redirect "archive@example.test"; }
if size :over 5M { reject "too large"; }
"""


@pytest.fixture
def server(harness_dir: Path, pki: Pki, request: pytest.FixtureRequest) -> Iterator[Dovecot]:
    with Dovecot(
        harness_dir / f"sieve-{request.node.name[:40]}", pki, users={USER: PASSWORD}, sieve=True
    ) as dovecot:
        home = dovecot.home(USER)
        (home / "sieve").mkdir(parents=True, exist_ok=True)
        (home / "sieve" / "rules.sieve").write_text(SCRIPT)
        (home / ".dovecot.sieve").symlink_to(home / "sieve" / "rules.sieve")
        if os.geteuid() == 0:
            for path in (home, home / "sieve", home / "sieve" / "rules.sieve"):
                os.chown(path, 65534, 65534, follow_symlinks=False)
            os.chown(home / ".dovecot.sieve", 65534, 65534, follow_symlinks=False)
        yield dovecot


def account(server: Dovecot) -> Account:
    return Account("ward", server.host, server.imaps_port, "tls", USER, str(server.ca_pem))


def mail(sender: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = f"{USER}@example.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@x.example>"
    message.set_content("Body.\n")
    return message.as_bytes()


def inbox_subjects(server: Dovecot) -> list[str]:
    found = []
    for sub in ("new", "cur"):
        folder = server.maildir(USER) / sub
        for path in folder.iterdir() if folder.is_dir() else []:
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("Subject: "):
                    found.append(line[9:])
    return found


def test_pigeonhole_discards_and_mailproof_names_the_rule(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    server.deliver_lmtp(f"{USER}@example.test", mail("Promo <deals@spam.example>", "Big sale"))
    server.deliver_lmtp(f"{USER}@example.test", mail("Lab <lab@hospital.example>", "Results"))
    assert inbox_subjects(server) == ["Results"]  # the real server discarded the other one

    scripts = read_scripts(account(server), PASSWORD, server.sieve_port)
    assert [(s.name, s.active) for s in scripts] == [("rules", True)]
    assert "discard" in scripts[0].text
    rules = findings(scripts, Facts(headers={"from": ["deals@spam.example"],
                                             "subject": ["Big sale"]}))  # fmt: skip
    by_action = {r.actions[0].split()[0]: r for r in rules}
    assert by_action["discard"].matches is True
    assert by_action["fileinto"].matches is False and by_action["fileinto"].actions == (
        "fileinto Junk",
    )
    assert by_action["redirect"].matches is None  # the envelope is not known
    assert by_action["reject"].matches is None  # the size is not known

    home = tmp_path / "home"
    env = {**os.environ, "MAILPROOF_HOME": str(home)}
    added = subprocess.run(
        [str(MAILPROOF), "account", "add", "ward", "--host", server.host, "--port",
         str(server.imaps_port), "--user", USER, "--ca-file", str(server.ca_pem),
         "--password-stdin"],
        input=PASSWORD + "\n", capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    result = subprocess.run(
        [str(MAILPROOF), "investigate", "--from", "deals@spam.example", "--subject", "Big sale",
         "--account", "ward", "--sieve-port", str(server.sieve_port), "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["outcome"] == "filtered"
    assert "address :domain :is" in report["reasons"][0] and "discard" in report["reasons"][0]
    assert any(f["actions"] == ["discard", "stop"] and f["matches"] for f in report["filters"])

    wrong_port = subprocess.run(
        [str(MAILPROOF), "investigate", "--subject", "Big sale", "--account", "ward",
         "--sieve-port", "1", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    unreadable = json.loads(wrong_port.stdout)
    assert unreadable["outcome"] == "not-found"
    assert any("filters could not be checked: ManageSieve at" in r for r in unreadable["reasons"])


def test_found_in_junk_by_a_real_rule_and_in_trash_after_a_move(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    import ssl

    from imapclient import IMAPClient

    server.deliver_lmtp(f"{USER}@example.test", mail("News <news@letters.example>",
                                                     "Weekly newsletter 7"))  # fmt: skip
    server.deliver_lmtp(f"{USER}@example.test", mail("Lab <lab@hospital.example>", "Potassium"))
    context = ssl.create_default_context(cafile=str(server.ca_pem))
    client = IMAPClient(server.host, port=server.imaps_port, ssl_context=context)
    client.login(USER, PASSWORD)
    client.select_folder("INBOX")
    uid = client.search(["SUBJECT", "Potassium"])[0]
    client.move([uid], "Trash")  # the user deleted it
    client.select_folder("Junk", readonly=True)
    assert len(client.search("ALL")) == 1  # Pigeonhole filed the newsletter into Junk
    client.logout()

    home = tmp_path / "home"
    env = {**os.environ, "MAILPROOF_HOME": str(home)}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(MAILPROOF), *args], input=stdin, capture_output=True,
                              text=True, env=env, timeout=120)  # fmt: skip

    assert run("account", "add", "ward", "--host", server.host, "--port",
               str(server.imaps_port), "--user", USER, "--ca-file", str(server.ca_pem),
               "--password-stdin", stdin=PASSWORD + "\n").returncode == 0  # fmt: skip
    assert run("sync", "ward").returncode == 0

    junk = json.loads(run("investigate", "--subject", "Weekly newsletter 7", "--account", "ward",
                          "--sieve-port", str(server.sieve_port), "--json").stdout)  # fmt: skip
    assert junk["outcome"] == "found"
    assert [h["folder"] for h in junk["hits"]] == ["Junk"]
    assert any("filed it" in r and "fileinto Junk" in r for r in junk["reasons"])

    trash = json.loads(run("investigate", "--from", "lab@hospital.example", "--subject",
                           "Potassium", "--json").stdout)  # fmt: skip
    assert trash["outcome"] == "found" and [h["folder"] for h in trash["hits"]] == ["Trash"]
    assert any("filters could not be checked" in r for r in trash["reasons"])
