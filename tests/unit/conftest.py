"""Builders for the unit tests: every message, Maildir and mbox is made at test time."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.builders import DEFAULT_DATE, make_maildir, make_message


@pytest.fixture
def mail() -> SimpleNamespace:
    """The builders, as a fixture, so tests need not import this conftest by name."""
    return SimpleNamespace(message=make_message, maildir=make_maildir, date=DEFAULT_DATE)
