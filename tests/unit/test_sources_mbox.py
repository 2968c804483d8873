"""mbox reading: splitting on ``From `` lines, ``>From`` unquoting, CRLF files, byte offsets."""

from __future__ import annotations

import mailbox
import re
from pathlib import Path

from app.sources import open_source


def _from_line_offsets(data: bytes) -> list[int]:
    """Offsets of the separator lines: a ``From `` line at the start or after a blank line."""
    return [m.start(1) for m in re.finditer(rb"(?:^|\r?\n\r?\n)(From )", data)]


def _write_mbox(path: Path, messages: list[bytes], newline: bytes = b"\n") -> bytes:
    data = b""
    for index, raw in enumerate(messages):
        data += b"From sender%d@example.org Mon Jan  1 10:00:00 2024" % index + newline
        data += raw + newline
    path.write_bytes(data)
    return data


def test_mbox_written_by_stdlib_yields_every_message_in_order(tmp_path: Path, mail) -> None:
    path = tmp_path / "archive.mbox"
    box = mailbox.mbox(str(path))
    for i in range(5):
        box.add(mail.message(f"message {i}", body=f"Body number {i}.\n"))
    box.flush()
    box.close()

    source = open_source(path)
    messages = list(source.messages())

    assert [f.name for f in source.folders] == ["archive"]
    assert [f.kind for f in source.folders] == ["mbox"]
    assert len(messages) == 5
    for i, message in enumerate(messages):
        assert f"Subject: message {i}\n".encode() in message.raw
        assert f"Body number {i}.".encode() in message.raw
        assert not message.raw.startswith(b"From ")  # the separator is not part of the message
        assert message.problems == ()


def test_mbox_from_quoting_is_removed_from_the_output(tmp_path: Path, mail) -> None:
    body = "Dear all,\n\nFrom the start it was clear.\n>From quoted already\nThanks\n"
    path = tmp_path / "quoted.mbox"
    box = mailbox.mbox(str(path))
    box.add(mail.message("first", body=body))
    box.add(mail.message("second"))
    box.flush()
    box.close()
    assert b"\n>From the start" in path.read_bytes()  # the stdlib quoted it on write

    messages = list(open_source(path).messages())

    assert len(messages) == 2  # the quoted line did not split the message
    assert b"\nFrom the start it was clear.\n" in messages[0].raw
    assert b">From the start" not in messages[0].raw


def test_mboxrd_quoting_loses_exactly_one_level(tmp_path: Path, mail) -> None:
    quoted = (
        b"From: a@example.org\nSubject: rd\n\n"
        b"line\n>From one level\n>>From two levels\n>>>From three levels\n"
    )
    expected = (
        b"From: a@example.org\nSubject: rd\n\n"
        b"line\nFrom one level\n>From two levels\n>>From three levels\n"
    )
    path = tmp_path / "rd.mbox"
    _write_mbox(path, [quoted, mail.message("after")])

    messages = list(open_source(path).messages())

    assert len(messages) == 2
    assert messages[0].raw == expected


def test_mbox_raw_messages_are_byte_exact_and_offsets_point_at_from_lines(
    tmp_path: Path, mail
) -> None:
    originals = [
        mail.message(f"exact {i}", body="x" * (i * 37) + "\nend\n\n" * (i % 2)) for i in range(6)
    ]
    path = tmp_path / "exact"
    data = _write_mbox(path, originals)

    messages = list(open_source(path).messages())

    assert len(messages) == 6
    # (the last message is checked on its own in test_last_mbox_message_...)
    assert [m.raw for m in messages[:-1]] == originals[:-1]
    offsets = [m.provenance.source_offset for m in messages]
    assert offsets == _from_line_offsets(data)
    assert len(set(offsets)) == 6
    with path.open("rb") as handle:
        for message in messages:
            handle.seek(message.provenance.source_offset)
            line = handle.readline()
            assert line.startswith(b"From sender")
            # the message's own bytes follow its separator line directly
            assert handle.read(len(message.raw)).startswith(message.raw.rstrip(b"\n"))
            assert message.provenance.source_key == str(message.provenance.source_offset)


def test_crlf_mbox_is_split_and_offsets_count_the_carriage_returns(tmp_path: Path, mail) -> None:
    originals = [
        mail.message(f"crlf {i}", body=f"line {i}\n").replace(b"\n", b"\r\n") for i in range(4)
    ]
    path = tmp_path / "windows.mbox"
    data = _write_mbox(path, originals, newline=b"\r\n")

    messages = list(open_source(path).messages())

    assert len(messages) == 4
    assert [m.raw for m in messages[:-1]] == originals[:-1]
    assert [m.provenance.source_offset for m in messages] == _from_line_offsets(data)
    for message in messages:
        assert data[message.provenance.source_offset :].startswith(b"From sender")
        assert message.problems == ()


def test_mbox_cut_off_mid_headers_reports_truncation(tmp_path: Path, mail) -> None:
    path = tmp_path / "cut.mbox"
    whole = mail.message("complete")
    _write_mbox(path, [whole])
    with path.open("ab") as handle:
        handle.write(
            b"From sender9@example.org Mon Jan  1 10:00:00 2024\nFrom: b@example.org\nSubj"
        )

    messages = list(open_source(path).messages())

    assert len(messages) == 2
    assert messages[0].raw == whole
    assert messages[0].problems == ()
    problems = " ".join(messages[1].problems)
    assert "truncated" in problems
    assert "no blank line after its headers" in problems


def test_last_mbox_message_loses_the_separator_blank_line_like_the_others(
    tmp_path: Path, mail
) -> None:
    """Every message in an mbox is followed by one blank separator line, the last one too.

    The same message must come out with the same bytes (and so the same SHA-256) wherever it
    sits in the file; the stdlib's ``mailbox.mbox`` is the reference.
    """
    same = mail.message("identical", body="same body\n")
    path = tmp_path / "twice.mbox"
    box = mailbox.mbox(str(path))
    box.add(same)
    box.add(same)
    box.flush()
    reference = [box.get_bytes(key) for key in sorted(box.iterkeys())]
    box.close()

    messages = list(open_source(path).messages())

    assert reference == [same, same]
    assert [m.raw for m in messages] == [same, same]


def test_last_crlf_mbox_message_is_byte_exact(tmp_path: Path, mail) -> None:
    originals = [mail.message(f"crlf {i}").replace(b"\n", b"\r\n") for i in range(2)]
    path = tmp_path / "windows.mbox"
    _write_mbox(path, originals, newline=b"\r\n")

    messages = list(open_source(path).messages())

    assert messages[-1].raw == originals[-1]
