"""indexer.whoosh_private reaches into one version of Whoosh: these fail when the installed
Whoosh is another version, or has lost an attribute or parameter the module relies on."""

from __future__ import annotations

import importlib.metadata
import inspect
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import whoosh
import whoosh.compat
import whoosh.reading
from whoosh import index as windex
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.filedb.filestore import RamStorage

from indexer import whoosh_private
from indexer.schema import SCHEMA, MailCodec

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_whoosh_is_the_version_the_module_was_written_against() -> None:
    assert importlib.metadata.version("whoosh-reloaded") == whoosh_private.WHOOSH_VERSION
    assert whoosh.versionstring() == whoosh_private.WHOOSH_VERSION


def test_the_project_pins_that_version() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'"whoosh-reloaded=={whoosh_private.WHOOSH_VERSION}"' in pyproject


def _live_objects(directory: Path) -> list[object]:
    """One object of each Whoosh class the module reaches into, made the way Mailproof makes
    them: a writer with its pool and per-document writer, a segment reader, a term's leaf
    matcher, a numeric column reader, a codec and a postings writer."""
    index = windex.create_in(str(directory), SCHEMA, indexname="t")
    writer = whoosh_private.open_writer(index, MailCodec())
    for number in range(300):  # more postings than a block holds: not inlined
        writer.add_document(
            sha256=f"{number:064x}",
            subject="hello",
            body=f"common words {number}",
            date=datetime(2024, 1, 1 + number % 28),
            size=number,
        )
    stored = writer.perdocwriter._colwriters["_stored"]
    live: list[object] = [writer, writer.pool, writer.perdocwriter, stored, stored._child]
    writer.commit()
    reader = index.reader()
    matcher = whoosh_private.term_matcher(reader, "body", "common")
    live += [reader, reader._terms, matcher, reader.column_reader("date", translate=False)]
    codec = MailCodec()
    postings = codec.postings_writer(RamStorage().create_file("postings"))
    postings.start_postings(SCHEMA["body"].format, W3TermInfo())
    live += [codec, postings]
    return live


def test_every_private_attribute_the_module_relies_on_still_exists(tmp_path: Path) -> None:
    live = _live_objects(tmp_path)
    for owner, attributes in whoosh_private.RELIES_ON.items():
        instances = [thing for thing in live if isinstance(thing, owner)]
        assert instances, f"no live {owner.__qualname__} to check: add one to _live_objects"
        for attribute in attributes:
            for thing in instances:
                assert hasattr(thing, attribute), f"{owner.__qualname__}.{attribute} is gone"


def test_every_parameter_the_module_passes_is_still_taken() -> None:
    for owner, names in whoosh_private.RELIES_ON_PARAMETERS.items():
        parameters = inspect.signature(owner).parameters
        for name in names:
            assert name in parameters, f"{owner.__qualname__}({name}=…) is no longer taken"


def test_whoosh_still_imports_what_the_stand_ins_replace() -> None:
    assert "from urllib.request import urlretrieve" in inspect.getsource(whoosh.compat)
    assert "from cached_property import cached_property" in inspect.getsource(whoosh.reading)


def test_importing_the_index_leaves_out_urllib_request_and_asyncio() -> None:
    code = (
        "import sys\nimport indexer.index\n"
        "print(sorted({'urllib.request', 'asyncio', 'cached_property'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
