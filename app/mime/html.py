"""Sanitize mail HTML with nh3 and block every remote reference (images, CSS, fonts, frames)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

_REMOTE = re.compile(r"^\s*(?:https?:|ftp:|//|file:)", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]*)['\"]?\s*\)", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*['\"]?([^'\"\);\s]+)", re.IGNORECASE)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.DOTALL)
_LOADING_ATTRIBUTES = {
    "src",
    "href",
    "background",
    "data",
    "poster",
    "srcset",
    "xlink:href",
    "dynsrc",
    "lowsrc",
    "codebase",
    "archive",
}
_IMG_WITHOUT_SRC = re.compile(r"<img\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)

_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "center",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
}
_ATTRIBUTES = {
    "*": {
        "align",
        "valign",
        "width",
        "height",
        "style",
        "title",
        "dir",
        "lang",
        "bgcolor",
        "color",
    },
    "a": {"href", "name"},
    "img": {"src", "alt"},
    "font": {"face", "size"},
    "table": {"border", "cellpadding", "cellspacing"},
    "td": {"colspan", "rowspan", "nowrap"},
    "th": {"colspan", "rowspan", "nowrap"},
}


@dataclass(frozen=True)
class SafeHtml:
    html: str
    blocked: tuple[str, ...]  # every remote address the original would have loaded


def css_unescape(css: str) -> str:
    """Resolve CSS escapes: ``\\75 rl(`` is ``url(`` to a browser, so it must be to us."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return match.group(2)

    return _CSS_ESCAPE.sub(replace, css)


def _css_remote(css: str) -> list[str]:
    plain = css_unescape(css)
    found = [u for u in _CSS_URL.findall(plain) if _REMOTE.match(u)]
    found += [u for u in _CSS_IMPORT.findall(plain) if _REMOTE.match(u)]
    return found


class _RemoteFinder(HTMLParser):
    """Collects every address an HTML renderer would fetch without a click."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if not value:
                continue
            if name == "style":
                self.found.extend(_css_remote(value))
            elif name in _LOADING_ATTRIBUTES and tag != "a":
                candidates = (
                    [v.strip().split(" ")[0] for v in value.split(",")]
                    if name == "srcset"
                    else [value]
                )
                self.found.extend(v.strip() for v in candidates if _REMOTE.match(v))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found.extend(_css_remote(data))


def find_remote_references(html: str) -> list[str]:
    """Every address the HTML would fetch when shown: images, stylesheets, fonts, frames."""
    finder = _RemoteFinder()
    finder.feed(html)
    finder.close()
    return list(dict.fromkeys(finder.found))


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        # Inline parts (cid:) and embedded data images are local; everything else is remote.
        lowered = value.strip().lower()
        if lowered.startswith("cid:") or lowered.startswith("data:image/"):
            return value
        return None
    if attribute == "style":
        if css_unescape(value) != value:
            return None  # escapes only serve to hide url(), expression() or @import
        cleaned = _CSS_URL.sub("none", value)
        cleaned = re.sub(r"expression\s*\(|@import|behavior\s*:", "", cleaned, flags=re.IGNORECASE)
        return cleaned
    return value


def sanitize(html: str) -> SafeHtml:
    """Return HTML safe to show: no scripts, forms, frames, remote loads, or ``file:`` links."""
    blocked = find_remote_references(html)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid", "data"},
        attribute_filter=_filter_attribute,
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style", "title", "noscript", "template", "textarea"},
        strip_comments=True,
    )
    # An <img> whose source was removed would show as a broken-image box: drop it entirely.
    clean = _IMG_WITHOUT_SRC.sub("", clean)
    return SafeHtml(clean, tuple(blocked))


class _TextExtractor(HTMLParser):
    _BLOCK = {
        "p",
        "div",
        "br",
        "tr",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "blockquote",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body, for the CLI and for indexing."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = "".join(extractor.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
