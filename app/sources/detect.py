"""Recognise what a path holds (Maildir tree, mbox file, .eml file or folder) and read it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.errors import NotMail, SourceUnreadable
from app.sources import emldir, maildir, mbox
from app.sources.base import FolderRef, RawMessage, unreadable

_HEAD_BYTES = 4096


@dataclass(frozen=True)
class MailSource:
    """A local mail source: its root path and its folders, in display order."""

    root: Path
    folders: tuple[FolderRef, ...]
    problems: tuple[str, ...] = ()  # parts of the source that could not be read

    def read(self, folder: FolderRef, errors: list[str] | None = None) -> Iterator[RawMessage]:
        """The folder's messages. Unreadable files go to ``errors``, or raise when it is None."""
        if folder.kind == "maildir":
            return maildir.read_folder(folder, errors=errors)
        if folder.kind == "mbox":
            return mbox.read_folder(folder, errors=errors)
        return emldir.read_folder(folder, errors=errors)

    def messages(self, errors: list[str] | None = None) -> Iterator[RawMessage]:
        if errors is not None:
            errors.extend(self.problems)
        for folder in self.folders:
            yield from self.read(folder, errors)


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_HEAD_BYTES)
    except OSError as err:
        raise SourceUnreadable(f"cannot read {path}: {err.strerror or err}") from err


def _file_folder(path: Path, name: str) -> FolderRef | None:
    """A folder for one file if it is mbox or a single message, else None."""
    head = _read_head(path)
    if mbox.looks_like_mbox(head):
        return FolderRef(name=name, kind="mbox", path=path)
    if emldir.looks_like_message(head):
        return FolderRef(name=name, kind="eml", path=path.parent, files=(path,))
    return None


def _maildir_tree(root: Path, name: str, problems: list[str]) -> list[FolderRef]:
    folders = [FolderRef(name=name, kind="maildir", path=root)]
    prefix = "" if name == "INBOX" else name + "/"
    for sub_name, sub_path in maildir.subfolders(root, problems):
        folders.append(FolderRef(name=prefix + sub_name, kind="maildir", path=sub_path))
    return folders


def _directory(root: Path, problems: list[str]) -> list[FolderRef]:
    if maildir.is_maildir(root):
        return _maildir_tree(root, "INBOX", problems)
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as err:
        raise SourceUnreadable(f"cannot read {root}: {err.strerror or err}") from err
    folders: list[FolderRef] = []
    loose_eml: list[Path] = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            folders.extend(_entry_folders(entry, path, loose_eml, problems))
        except OSError as err:
            unreadable(path, err, problems)
    if loose_eml:
        folders.insert(
            0, FolderRef(name=root.name or "Local", kind="eml", path=root, files=tuple(loose_eml))
        )
    return folders


def _entry_folders(
    entry: os.DirEntry[str], path: Path, loose_eml: list[Path], problems: list[str]
) -> list[FolderRef]:
    """The folders one directory entry contributes (``OSError`` when it cannot be read)."""
    folders: list[FolderRef] = []
    if entry.is_dir():
        if maildir.is_maildir(path):
            return _maildir_tree(path, entry.name, problems)
        emls = sorted(p for p in path.iterdir() if p.suffix.lower() == ".eml" and p.is_file())
        if emls:
            folders.append(FolderRef(name=entry.name, kind="eml", path=path, files=tuple(emls)))
    elif entry.is_file():
        if path.suffix.lower() == ".eml":
            loose_eml.append(path)
        elif entry.stat().st_size:
            with path.open("rb") as handle:
                head = handle.read(_HEAD_BYTES)
            if mbox.looks_like_mbox(head):
                folders.append(FolderRef(name=path.stem or path.name, kind="mbox", path=path))
    return folders


def open_source(path: str | os.PathLike[str]) -> MailSource:
    """Recognise ``path``; a :class:`BadInput` with one clear line if it holds no mail."""
    root = Path(path).expanduser()
    try:
        info = root.stat()
    except FileNotFoundError as err:
        raise SourceUnreadable(f"{root}: no such file or directory") from err
    except OSError as err:
        raise SourceUnreadable(f"cannot read {root}: {err.strerror or err}") from err
    root = root.resolve()
    if root.is_dir():
        if not os.access(root, os.R_OK | os.X_OK):
            raise SourceUnreadable(f"cannot read {root}: permission denied")
        problems: list[str] = []
        folders = _directory(root, problems)
        if not folders:
            if problems:
                raise SourceUnreadable(problems[0])
            raise NotMail(f"{root} holds no Maildir, mbox file or .eml files")
        return MailSource(root, tuple(folders), tuple(problems))
    if info.st_size == 0:
        raise NotMail(f"{root} is empty (0 bytes): there is no message in it")
    folder = _file_folder(root, root.stem or root.name)
    if folder is None:
        raise NotMail(
            f"{root} is not mail: it starts neither with a 'From ' line (mbox) "
            "nor with a header line (.eml)"
        )
    return MailSource(root, (folder,))
