"""The library: idempotent ingest, byte-exact blobs, threads, sorted pages, counts, lookups."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from app.errors import AmbiguousId, MessageNotFound, StoreError
from app.sources import open_source
from app.store.library import Library


@pytest.fixture
def library(tmp_path: Path):
    lib = Library(tmp_path / "home")
    yield lib
    lib.close()


def _row_counts(lib: Library) -> dict[str, int]:
    return {
        table: lib.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("messages", "copies", "folders")
    }


def _mail_tree(root: Path, mail) -> dict[str, bytes]:
    files = {
        "cur/1700000001.A.host:2,S": mail.message("read one", message_id="<r1@example.org>"),
        "cur/1700000002.B.host:2,FS": mail.message("flagged", message_id="<r2@example.org>"),
        "new/1700000003.C.host": mail.message("unread", message_id="<u1@example.org>"),
    }
    mail.maildir(root, files)
    sent = {"cur/1700000004.D.host:2,S": mail.message("sent one", message_id="<s1@example.org>")}
    mail.maildir(root / ".Sent", sent)
    junk = {"new/1700000005.E.host": mail.message("spam", message_id="<j1@example.org>")}
    mail.maildir(root / ".Junk", junk)
    backup = {"cur/1700000006.F.host:2,S": mail.message("old", message_id="<b1@example.org>")}
    mail.maildir(root / ".BACKUP", backup)
    return {
        **{str(root / k): v for k, v in files.items()},
        **{str(root / ".Sent" / k): v for k, v in sent.items()},
        **{str(root / ".Junk" / k): v for k, v in junk.items()},
        **{str(root / ".BACKUP" / k): v for k, v in backup.items()},
    }


def test_ingest_of_a_maildir_is_idempotent(tmp_path: Path, library: Library, mail) -> None:
    root = tmp_path / "Maildir"
    files = _mail_tree(root, mail)

    first = library.ingest(open_source(root))
    counts = _row_counts(library)
    second = library.ingest(open_source(root))

    assert first.added == 6
    assert first.problems == []
    assert counts == {"messages": 6, "copies": 6, "folders": 4}
    assert second.added == 0
    assert _row_counts(library) == counts
    paths = {r["source_path"] for r in library.db.execute("SELECT source_path FROM copies")}
    assert paths == set(files)


def test_reingest_reports_known_maildir_messages_as_already_stored(
    tmp_path: Path, library: Library, mail
) -> None:
    root = tmp_path / "Maildir"
    _mail_tree(root, mail)
    library.ingest(open_source(root))

    again = library.ingest(open_source(root))

    # The window shows "N new message(s), M already stored" from this report.
    assert (again.added, again.known) == (0, 6)


def test_reingest_of_mbox_and_eml_stores_nothing_twice(
    tmp_path: Path, library: Library, mail
) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.eml").write_bytes(mail.message("a"))
    (folder / "b.eml").write_bytes(mail.message("b"))
    (folder / "box.mbox").write_bytes(
        b"From x Mon Jan  1 00:00:00 2024\n" + mail.message("in mbox") + b"\n"
    )

    first = library.ingest(open_source(folder))
    counts = _row_counts(library)
    second = library.ingest(open_source(folder))

    assert first.added == 3
    assert (second.added, second.known) == (0, 3)
    assert _row_counts(library) == counts


def test_folders_get_special_use_totals_and_unread(tmp_path: Path, library: Library, mail) -> None:
    root = tmp_path / "Maildir"
    _mail_tree(root, mail)
    report = library.ingest(open_source(root))

    folders = {f.name: f for f in library.folders()}

    assert set(folders) == {"INBOX", "Sent", "Junk", "BACKUP"}
    assert {n: f.special_use for n, f in folders.items()} == {
        "INBOX": "\\Inbox",
        "Sent": "\\Sent",
        "Junk": "\\Junk",
        "BACKUP": "\\Backup",
    }
    assert {n: (f.total, f.unread) for n, f in folders.items()} == {
        "INBOX": (3, 1),
        "Sent": (1, 0),
        "Junk": (1, 1),
        "BACKUP": (1, 0),
    }
    assert sorted(report.folder_ids) == sorted(f.id for f in folders.values())
    flags = dict(library.db.execute("SELECT source_key, flags FROM copies").fetchall())
    assert flags["1700000002.B.host"] == "\\Flagged \\Seen"


def test_flags_changed_by_another_client_are_picked_up_on_reingest(
    tmp_path: Path, library: Library, mail
) -> None:
    root = mail.maildir(tmp_path / "md", {"new/1700000001.A.host": mail.message("fresh")})
    library.ingest(open_source(root))
    assert [(f.total, f.unread) for f in library.folders()] == [(1, 1)]
    # Another mail client reads the message: Maildir moves it to cur/ and adds the S flag.
    os.rename(root / "new" / "1700000001.A.host", root / "cur" / "1700000001.A.host:2,S")

    library.ingest(open_source(root))

    assert [(f.total, f.unread) for f in library.folders()] == [(1, 0)]
    row = library.db.execute("SELECT flags, source_path FROM copies").fetchone()
    assert row["flags"] == "\\Seen"
    assert row["source_path"] == str(root / "cur" / "1700000001.A.host:2,S")


def test_message_deleted_from_the_maildir_leaves_the_folder_list(
    tmp_path: Path, library: Library, mail
) -> None:
    root = mail.maildir(
        tmp_path / "md",
        {"cur/1.A.host:2,S": mail.message("keep"), "cur/2.B.host:2,S": mail.message("delete")},
    )
    library.ingest(open_source(root))
    folder_id = library.folders()[0].id
    (root / "cur" / "2.B.host:2,S").unlink()

    library.ingest(open_source(root))

    assert library.count(folder_id) == 1
    assert [r.subject for r in library.page(folder_id)] == ["keep"]


def test_blobs_are_byte_exact_copies_of_the_files(tmp_path: Path, library: Library, mail) -> None:
    odd = {
        "cur/1.crlf:2,S": mail.message("crlf").replace(b"\n", b"\r\n"),
        "cur/2.eightbit:2,S": b"From: x@example.org\nSubject: caf\xe9\n\n\xff\xfe\x00body",
        "new/3.plain": mail.message("plain"),
    }
    root = mail.maildir(tmp_path / "md", odd)
    library.ingest(open_source(root))

    for name, raw in odd.items():
        sha = hashlib.sha256(raw).hexdigest()
        assert library.raw(sha) == raw
        assert library.blobs.path(sha).read_bytes() == raw
        row = library.db.execute("SELECT size FROM messages WHERE sha256=?", (sha,)).fetchone()
        assert row["size"] == len(raw), name


def test_tampered_blob_raises_store_error(tmp_path: Path, library: Library, mail) -> None:
    raw = mail.message("precious")
    root = mail.maildir(tmp_path / "md", {"cur/1.A.host:2,S": raw})
    library.ingest(open_source(root))
    sha = hashlib.sha256(raw).hexdigest()
    blob = library.blobs.path(sha)
    blob.write_bytes(raw.replace(b"precious", b"forged!!"))

    with pytest.raises(StoreError, match="damaged"):
        library.raw(sha)
    assert StoreError("x").exit_code == 3


def test_missing_blob_raises_store_error(tmp_path: Path, library: Library, mail) -> None:
    raw = mail.message("vanishing")
    root = mail.maildir(tmp_path / "md", {"cur/1.A.host:2,S": raw})
    library.ingest(open_source(root))
    sha = hashlib.sha256(raw).hexdigest()
    library.blobs.path(sha).unlink()

    with pytest.raises(StoreError, match="missing"):
        library.raw(sha)


def test_same_message_in_two_folders_is_one_blob_and_two_copies(
    tmp_path: Path, library: Library, mail
) -> None:
    raw = mail.message("twice", message_id="<twice@example.org>")
    root = mail.maildir(tmp_path / "md", {"cur/1.A:2,S": raw})
    mail.maildir(root / ".Archive", {"cur/2.B:2,S": raw})

    report = library.ingest(open_source(root))

    assert report.added == 1
    assert _row_counts(library)["messages"] == 1
    assert _row_counts(library)["copies"] == 2
    blob_files = [p for p in (library.home / "blobs").rglob("*") if p.is_file()]
    assert len(blob_files) == 1


def _thread_messages(mail) -> dict[str, bytes]:
    return {
        "root": mail.message(
            "Plan", message_id="<root@example.org>", date="Mon, 01 Jan 2024 10:00:00 +0000"
        ),
        "child": mail.message(
            "Re: Plan",
            message_id="<child@example.org>",
            in_reply_to="<root@example.org>",
            references="<root@example.org>",
            date="Mon, 01 Jan 2024 11:00:00 +0000",
        ),
        "grandchild": mail.message(
            "Re: Re: Plan",
            message_id="<grandchild@example.org>",
            in_reply_to="<child@example.org>",
            references="<root@example.org> <child@example.org>",
            date="Mon, 01 Jan 2024 12:00:00 +0000",
        ),
        "only_irt": mail.message(
            "Re: Re: Re: Plan",
            message_id="<irt@example.org>",
            in_reply_to="<grandchild@example.org>",
            date="Mon, 01 Jan 2024 13:00:00 +0000",
        ),
        "other": mail.message(
            "Unrelated", message_id="<other@example.org>", date="Tue, 02 Jan 2024 09:00:00 +0000"
        ),
    }


@pytest.mark.parametrize(
    "order",
    [
        ("root", "child", "grandchild", "only_irt", "other"),
        ("only_irt", "grandchild", "child", "other", "root"),
        ("child", "root", "only_irt", "grandchild", "other"),
        ("grandchild", "only_irt", "other", "root", "child"),
    ],
)
def test_reply_thread_id_equals_its_roots_regardless_of_ingest_order(
    tmp_path: Path, library: Library, mail, order: tuple[str, ...]
) -> None:
    messages = _thread_messages(mail)
    for name in order:  # one source per message: the ingest order is exactly ``order``
        path = tmp_path / f"{name}.eml"
        path.write_bytes(messages[name])
        library.ingest(open_source(path))

    thread = {
        name: library.db.execute(
            "SELECT thread_id FROM messages WHERE sha256=?",
            (hashlib.sha256(raw).hexdigest(),),
        ).fetchone()["thread_id"]
        for name, raw in messages.items()
    }

    assert thread["root"] == "<root@example.org>"
    assert thread["child"] == thread["root"]
    assert thread["grandchild"] == thread["root"]
    assert thread["only_irt"] == thread["root"]
    assert thread["other"] != thread["root"]


def test_threaded_page_puts_a_conversation_together_oldest_first(
    tmp_path: Path, library: Library, mail
) -> None:
    messages = _thread_messages(mail)
    names = {"1.a": "child", "2.b": "root", "3.c": "other", "4.d": "grandchild"}
    root = mail.maildir(tmp_path / "md", {f"cur/{k}:2,S": messages[v] for k, v in names.items()})
    library.ingest(open_source(root))
    folder_id = library.folders()[0].id

    newest_first = library.page(folder_id, threaded=True)
    oldest_first = library.page(folder_id, threaded=True, descending=False)

    # conversations by their newest message; inside a conversation, oldest first
    assert [r.subject for r in newest_first] == ["Unrelated", "Plan", "Re: Plan", "Re: Re: Plan"]
    assert [r.subject for r in oldest_first] == ["Plan", "Re: Plan", "Re: Re: Plan", "Unrelated"]
    depth = {r.subject: r.depth for r in newest_first}
    assert depth["Unrelated"] == 0 and depth["Plan"] == 0
    assert 1 <= depth["Re: Plan"] < depth["Re: Re: Plan"]


@pytest.fixture
def sortable(tmp_path: Path, library: Library, mail) -> tuple[Library, int, list[dict]]:
    specs = [
        # date (day of Jan 2024), sender display name, subject, body length
        (5, "carol", "Invoice March", 300),
        (1, "Dave", "agenda", 50),
        (3, "alice", "Zebra facts", 900),
        (4, "Bob", "budget", 10),
        (2, "eve", "Invoice April", 600),
        (6, "Frank Invoices", "misc", 120),
    ]
    files: dict[str, bytes] = {}
    expected = []
    for i, (day, name, subject, length) in enumerate(specs):
        raw = mail.message(
            subject,
            sender=f"{name} <{name.split()[0].lower()}@example.org>",
            date=f"Tue, {day:02d} Jan 2024 10:00:00 +0000",
            body="x" * length + "\n",
        )
        files[f"cur/{1700000000 + i}.M{i}.host:2,S"] = raw
        expected.append({"day": day, "from": name, "subject": subject, "size": len(raw)})
    root = mail.maildir(tmp_path / "sortable", files)
    library.ingest(open_source(root))
    return library, library.folders()[0].id, expected


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(
    ("column", "key"),
    [
        ("date", lambda e: e["day"]),
        ("from", lambda e: e["from"].lower()),
        ("subject", lambda e: e["subject"].lower()),
        ("size", lambda e: e["size"]),
    ],
)
def test_page_sorts_by_each_column_both_ways(sortable, column, key, descending) -> None:
    library, folder_id, expected = sortable

    rows = library.page(folder_id, sort=column, descending=descending)

    want = [e["subject"] for e in sorted(expected, key=key, reverse=descending)]
    assert [r.subject for r in rows] == want
    if column == "size":
        assert [r.size for r in rows] == sorted((e["size"] for e in expected), reverse=descending)


def test_page_honours_offset_and_limit(sortable) -> None:
    library, folder_id, _ = sortable

    def subjects(**kwargs) -> list[str]:
        return [r.subject for r in library.page(folder_id, sort="date", descending=False, **kwargs)]

    full = subjects()
    assert len(full) == 6
    assert subjects(offset=1, limit=2) == full[1:3]
    assert subjects(offset=4, limit=10) == full[4:]
    assert subjects(limit=1) == full[:1]
    assert subjects(offset=6) == []
    assert subjects(limit=0) == []


def test_count_with_a_text_filter_matches_subject_and_sender(sortable) -> None:
    library, folder_id, _ = sortable

    assert library.count(folder_id) == 6
    assert library.count(folder_id, "invoice") == 3  # two subjects and one sender
    assert library.count(folder_id, "INVOICE") == 3
    assert library.count(folder_id, "alice") == 1
    assert library.count(folder_id, "no such words") == 0
    assert {r.subject for r in library.page(folder_id, text="invoice")} == {
        "Invoice March",
        "Invoice April",
        "misc",
    }
    assert library.count(folder_id, "100%") == 0  # a literal % is not a wildcard


def test_resolve_by_sha_prefix_and_message_id(tmp_path: Path, library: Library, mail) -> None:
    raws = [mail.message(f"m{i}", message_id=f"<id{i}@example.org>") for i in range(40)]
    root = mail.maildir(tmp_path / "md", {f"cur/{i}.x:2,S": raw for i, raw in enumerate(raws)})
    library.ingest(open_source(root))
    shas = [hashlib.sha256(raw).hexdigest() for raw in raws]

    assert library.resolve(shas[0]) == shas[0]
    assert library.resolve(shas[0][:12].upper()) == shas[0]
    assert library.resolve("<id7@example.org>") == shas[7]
    assert library.resolve("id7@example.org") == shas[7]
    with pytest.raises(MessageNotFound):
        library.resolve("<nobody@example.org>")
    assert "0" * 64 not in shas
    with pytest.raises(MessageNotFound):
        library.resolve("0" * 64)
    first_chars = [s[0] for s in shas]
    shared = next(c for c in first_chars if first_chars.count(c) > 1)  # 40 shas, 16 letters
    with pytest.raises(AmbiguousId):
        library.resolve(shared)
