"""The project's docs/*.md, rendered for the admin so that every docs reference there is a link."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from markdown_it import MarkdownIt

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,60}")
# Links between the docs ("segments.md#rules", "docs/segments.md") lead to their admin pages.
_DOC_LINK = re.compile(r'href="(?:\.?/)?(?:docs/)?([a-z0-9-]+)\.md(#[^"]*)?"')
_HEADING = re.compile(r"^#\s+(.+)$", re.M)


def doc_names() -> list[str]:
    """Return the names of the docs there are (without ".md"), alphabetically."""
    if not DOCS_DIR.is_dir():
        return []
    return sorted(p.stem for p in DOCS_DIR.glob("*.md") if _NAME.fullmatch(p.stem))


def render(name: str, link_prefix: str) -> tuple[str, str] | None:
    """Return (title, HTML) of doc ``name``, its links to other docs pointing under ``link_prefix``; None if none.

    Raw HTML in the Markdown is escaped, not passed through.
    """
    if not _NAME.fullmatch(name) or name not in doc_names():
        return None
    text = (DOCS_DIR / f"{name}.md").read_text(encoding="utf-8")
    heading = _HEADING.search(text)
    title = heading.group(1).strip() if heading else name.replace("-", " ").capitalize()
    # A code block wider than the page scrolls: it takes keyboard focus so that it can be scrolled without a mouse.
    html = _markdown().render(text).replace("<pre>", '<pre tabindex="0">')
    return title, _DOC_LINK.sub(lambda m: f'href="{link_prefix}{m.group(1)}{m.group(2) or ""}"', html)


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
