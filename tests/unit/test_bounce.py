"""Bounces in the formats real servers write: RFC 3464 reports (Postfix, Exchange, Gmail) and
free-text ones (Exim, qmail), explained in words and linked to the original Message-ID."""

from __future__ import annotations

import random

from app.investigate.bounce import explain, read_bounce

POSTFIX_DSN = b"""\
From: MAILER-DAEMON@mx.clinic.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: alice@clinic.example
Date: Fri,  3 May 2024 09:15:07 +0000 (UTC)
Message-Id: <20240503091507.4VXk2t3Z5Qz9sPl@mx.clinic.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4VXk2t3Z5Qz9sPl.1714727707/mx.clinic.example"

This is a MIME-encapsulated message.

--4VXk2t3Z5Qz9sPl.1714727707/mx.clinic.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.clinic.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<dr.smiht@hospital.example>: host mail.hospital.example[192.0.2.25] said: 550
    5.1.1 <dr.smiht@hospital.example>: Recipient address rejected: User unknown
    in virtual mailbox table (in reply to RCPT TO command)

--4VXk2t3Z5Qz9sPl.1714727707/mx.clinic.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.clinic.example
X-Postfix-Queue-ID: 4VXk2t3Z5Qz9sPl
X-Postfix-Sender: rfc822; alice@clinic.example
Arrival-Date: Fri,  3 May 2024 09:15:04 +0000 (UTC)

Final-Recipient: rfc822; dr.smiht@hospital.example
Original-Recipient: rfc822;dr.smiht@hospital.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.hospital.example
Diagnostic-Code: smtp; 550 5.1.1 <dr.smiht@hospital.example>: Recipient address
    rejected: User unknown in virtual mailbox table

--4VXk2t3Z5Qz9sPl.1714727707/mx.clinic.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Received: by mx.clinic.example (Postfix, from userid 1000)
\tid 4VXk2t3Z5Qz9sPl; Fri,  3 May 2024 09:15:04 +0000 (UTC)
From: Alice <alice@clinic.example>
To: dr.smiht@hospital.example
Subject: Lab results for patient 4711
Message-Id: <lab-4711@clinic.example>
Date: Fri,  3 May 2024 09:15:03 +0000

--4VXk2t3Z5Qz9sPl.1714727707/mx.clinic.example--
"""


def dsn(status: str, diagnostic: str, action: str = "failed") -> bytes:
    return (
        POSTFIX_DSN.replace(b"Status: 5.1.1", f"Status: {status}".encode())
        .replace(b"Action: failed", f"Action: {action}".encode())
        .replace(
            b"Diagnostic-Code: smtp; 550 5.1.1 <dr.smiht@hospital.example>: Recipient address\n"
            b"    rejected: User unknown in virtual mailbox table",
            f"Diagnostic-Code: smtp; {diagnostic}".encode(),
        )
    )


def test_postfix_dsn_names_recipient_reason_original_and_a_near_miss() -> None:
    known = ["dr.smith@hospital.example", "bob@clinic.example"]
    bounce = read_bounce(POSTFIX_DSN, known)
    assert bounce is not None and bounce.format == "rfc3464"
    assert bounce.reporting_mta == "mx.clinic.example"
    assert bounce.original_message_id == "<lab-4711@clinic.example>"
    assert bounce.original_subject == "Lab results for patient 4711"
    (recipient,) = bounce.recipients
    assert recipient.recipient == "dr.smiht@hospital.example"
    assert (recipient.action, recipient.status, recipient.permanent) == ("failed", "5.1.1", True)
    assert recipient.remote_mta == "mail.hospital.example"
    assert recipient.diagnostic.startswith("550 5.1.1 <dr.smiht@hospital.example>")
    assert "does not exist (unknown user)" in recipient.explanation
    assert recipient.suggestion == "dr.smith@hospital.example"
    assert "did you mean dr.smith@hospital.example?" in recipient.explanation
    assert bounce.summary.startswith("not delivered to dr.smiht@hospital.example")


def test_status_codes_are_explained_in_words() -> None:
    full = read_bounce(dsn("5.2.2", "552 5.2.2 Mailbox full"))
    assert full is not None and "mailbox is full" in full.recipients[0].explanation
    assert full.recipients[0].suggestion is None  # only unknown users get a "did you mean"
    policy = read_bounce(dsn("5.7.1", "554 5.7.1 Message rejected as spam"))
    assert policy is not None and "by policy" in policy.recipients[0].explanation
    tls = read_bounce(dsn("5.7.10", "530 5.7.10 Must issue a STARTTLS command first"))
    assert tls is not None and "requires an encrypted (TLS)" in tls.recipients[0].explanation
    tls_hint = read_bounce(dsn("5.7.0", "530 5.7.0 Must issue a STARTTLS command first"))
    assert tls_hint is not None and "TLS" in tls_hint.recipients[0].explanation
    delayed = read_bounce(dsn("4.4.1", "connect to mail.hospital.example: timed out", "delayed"))
    assert delayed is not None
    assert delayed.recipients[0].permanent is False
    assert "temporary problem" in delayed.recipients[0].explanation
    assert delayed.summary.startswith("delayed for dr.smiht@hospital.example")
    assert explain("2.0.0")[0].startswith("delivered")


EXCHANGE_NDR = b"""\
From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@hospital.example>
To: <alice@clinic.example>
Subject: Undeliverable: Referral
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="B_EX"

--B_EX
Content-Type: text/plain; charset="us-ascii"

Your message to nurse@hospital.example couldn't be delivered.

--B_EX
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;mail.clinic.example
Arrival-Date: Mon, 6 May 2024 08:00:01 +0000

Final-Recipient: rfc822;nurse@hospital.example
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP
 address lookup
Remote-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com

--B_EX
Content-Type: message/rfc822

From: Alice <alice@clinic.example>
To: nurse@hospital.example
Subject: Referral
Message-ID: <referral-9@clinic.example>

Body.
--B_EX--
"""

EXIM_BOUNCE = b"""\
From: Mail Delivery System <Mailer-Daemon@mx.exim.example>
To: alice@clinic.example
Subject: Mail delivery failed: returning message to sender

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  colleague@exim.example
    mailbox is full: retry timeout exceeded

------ This is a copy of the message, including all the headers. ------

From: Alice <alice@clinic.example>
To: colleague@exim.example
Subject: Shift plan
Message-ID: <shift-plan@clinic.example>

Plan.
"""

QMAIL_BOUNCE = b"""\
From: MAILER-DAEMON@qmail.example
To: alice@clinic.example
Subject: failure notice

Hi. This is the qmail-send program at qmail.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<ghost@qmail.example>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

From: alice@clinic.example
To: ghost@qmail.example
Subject: hello
"""


def test_exchange_ndr_with_returned_message() -> None:
    bounce = read_bounce(EXCHANGE_NDR)
    assert bounce is not None and bounce.format == "rfc3464"
    assert bounce.original_message_id == "<referral-9@clinic.example>"
    (recipient,) = bounce.recipients
    assert recipient.status == "5.1.10" and recipient.permanent is True
    assert "RESOLVER.ADR.RecipientNotFound" in recipient.diagnostic


def test_free_text_bounces_are_read_with_a_warning() -> None:
    exim = read_bounce(EXIM_BOUNCE)
    assert exim is not None and exim.format == "heuristic"
    assert [r.recipient for r in exim.recipients] == ["colleague@exim.example"]
    assert "mailbox is full" in exim.recipients[0].explanation
    assert exim.warnings and "not a standard" in exim.warnings[0]
    qmail = read_bounce(QMAIL_BOUNCE, ["ghost@qmail.example", "host@qmail.example"])
    assert qmail is not None
    assert [r.recipient for r in qmail.recipients] == ["ghost@qmail.example"]
    assert qmail.recipients[0].permanent is True


def test_ordinary_mail_and_garbage_are_not_bounces() -> None:
    ordinary = b"From: bob@clinic.example\nSubject: Undelivered parcel\n\nThe parcel is late.\n"
    assert read_bounce(ordinary) is None
    rng = random.Random(7)
    for _ in range(300):
        blob = bytearray(POSTFIX_DSN)
        for _ in range(rng.randint(1, 40)):
            blob[rng.randrange(len(blob))] = rng.randrange(256)
        cut = bytes(blob[: rng.randrange(len(blob))])
        result = read_bounce(cut)  # never raises
        assert result is None or result.format in ("rfc3464", "heuristic")
