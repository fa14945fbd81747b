"""Small text helpers shared by several domains."""

from __future__ import annotations

import datetime as dt
import re

from markupsafe import Markup, escape

# Bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069): they reorder
# how the text around them reads ("Cykel\u202eställ" shows as "Cykel lläts"), so text typed
# into pb may not carry them (pb.forms refuses them in every text field; files of people
# for letters refuse them per line). The direction marks (U+200E, U+200F, U+061C), which
# right-to-left writing needs, are allowed there.
DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u", "æ": "ae", "ø": "o"})


def slugify(text: str, max_length: int = 80) -> str:
    """'Norra Fäladen' -> 'norra-faladen'."""
    text = text.lower().translate(_FOLD)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:max_length].strip("-") or "x"


_URL_RE = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)]", re.IGNORECASE)


def paragraphs(text: str | None) -> Markup:
    """Plain text as HTML paragraphs: everything escaped, blank lines split paragraphs,
    single newlines become <br>, and http(s) links become safe links."""
    if not text:
        return Markup("")
    out = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        pieces = []
        pos = 0
        for m in _URL_RE.finditer(block):
            pieces.append(escape(block[pos : m.start()]))
            url = m.group(0)
            pieces.append(
                Markup('<a href="{0}" rel="nofollow ugc noopener" target="_blank">{0}</a>').format(
                    url
                )
            )
            pos = m.end()
        pieces.append(escape(block[pos:]))
        html = Markup("").join(pieces).replace("\n", Markup("<br>\n"))
        out.append(Markup("<p>{}</p>").format(html))
    return Markup("\n").join(out)


def last_day(end: dt.datetime) -> tuple[dt.date, dt.time | None]:
    """The last day of a period that ends at ``end`` (a local time, exclusive, as pb keeps a
    phase's end), and the closing time when it is not midnight: a period that ends at
    midnight before 6 December has 5 December as its last day, (5 Dec, None); one that ends
    at 20:00 on 6 December closes that day at 20:00, (6 Dec, 20:00). Letters, cards and the
    pages all say the last day through this one rule."""
    if end.time() == dt.time(0, 0):
        return end.date() - dt.timedelta(days=1), None
    return end.date(), end.time()
