"""A real bounce: Postfix refuses an unknown recipient and returns a DSN; Mailproof reads it."""

from __future__ import annotations

import email.policy
import time
from email.message import EmailMessage
from email.utils import make_msgid

from app.investigate.bounce import read_bounce
from tests.harness.mta import MailChain


def test_postfix_bounce_for_an_unknown_user_is_read_and_linked(mail_chain: MailChain) -> None:
    msgid = make_msgid(idstring="bounce", domain="example.test")
    message = EmailMessage()
    message["From"] = "Alice <alice@example.test>"
    message["To"] = "nosuchuser@example.test"
    message["Subject"] = "Discharge letter"
    message["Message-ID"] = msgid
    message.set_content("Please find the discharge letter.\n")
    before = {p.name.split(":", 1)[0] for p in mail_chain.inbox_files("alice")}
    mail_chain.send("alice@example.test", "nosuchuser@example.test", message.as_bytes(
        policy=email.policy.SMTP))  # fmt: skip

    deadline = time.monotonic() + 30
    found = None
    while found is None and time.monotonic() < deadline:
        for path in mail_chain.inbox_files("alice"):
            if path.name.split(":", 1)[0] in before:
                continue
            raw = path.read_bytes()
            if msgid.encode() in raw:
                found = raw
        time.sleep(0.2)
    assert found is not None, "Postfix sent no bounce within 30 s"

    bounce = read_bounce(found, known_addresses=["nosuchuser1@example.test", "bob@example.test"])
    assert bounce is not None and bounce.format == "rfc3464"
    assert bounce.original_message_id == msgid
    (recipient,) = bounce.recipients
    assert recipient.recipient == "nosuchuser@example.test"
    assert recipient.action == "failed" and recipient.permanent is True
    assert recipient.status is not None and recipient.status.startswith("5.1.1")
    assert "unknown user" in recipient.explanation
    assert recipient.suggestion == "nosuchuser1@example.test"
    assert bounce.reporting_mta and bounce.reporting_mta.endswith(".test")

    # The investigation of the sent message finds the real bounce and says "bounced".
    import tempfile
    from pathlib import Path

    from app.investigate.search import Query, investigate
    from app.sources import open_source
    from app.store.library import Library

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "Mail"
        for sub in ("cur", "new", "tmp"):
            (root / sub).mkdir(parents=True)
        (root / "cur" / "1:2,").write_bytes(found)
        library = Library(Path(scratch) / "home")
        library.ingest(open_source(root))
        result = investigate(library, Query(message_id=msgid))
        assert result.outcome == "bounced"
        assert "nosuchuser@example.test" in result.reasons[0]
        assert "unknown user" in result.reasons[0]
        library.close()
