"""Folded text for search, and "is this already proposed?" by simple text similarity.

Titles are compared by their character trigrams (Jaccard) plus shared words, after folding
case and Swedish letters, which is enough to catch "Ny lekplats i Norra Fäladen" against
"Lekplatsen på Norra faladen". Candidates come from the database by a LIKE on any
significant word, so the comparison in Python never sees more than a few hundred titles.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pb.proposals.models import PUBLIC_STATUSES, Proposal

STOPWORDS = frozenset(
    (
        "och",
        "att",
        "det",
        "som",
        "for",
        "med",
        "till",
        "pa",
        "av",
        "en",
        "ett",
        "den",
        "de",
        "i",
        "vid",
        "om",
        "fran",
        "har",
        "vi",
        "kan",
        "ny",
        "nya",
        "mer",
        "battre",
        "the",
        "a",
        "an",
        "and",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "new",
        "more",
        "better",
    )
)
_WORD = re.compile(r"[a-z0-9]+")


def fold(*parts: str | None) -> str:
    """Lower case, accents and Swedish letters folded, whitespace collapsed."""
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.replace("æ", "ae").replace("ø", "o").split())


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(fold(text)) if len(w) > 2 and w not in STOPWORDS]


def _trigrams(text: str) -> set[str]:
    padded = f"  {' '.join(_WORD.findall(fold(text)))} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def score(a: str, b: str) -> float:
    """0..1: how alike two titles are."""
    ta, tb = _trigrams(a), _trigrams(b)
    if not ta or not tb:
        return 0.0
    tri = len(ta & tb) / len(ta | tb)
    wa, wb = set(words(a)), set(words(b))
    shared = len(wa & wb) / max(1, min(len(wa), len(wb)))
    return round(0.6 * tri + 0.4 * shared, 3)


def like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def similar(
    session: Session,
    process_id: int,
    title: str,
    *,
    exclude: Iterable[int] = (),
    limit: int = 5,
    threshold: float = 0.3,
) -> list[tuple[Proposal, float]]:
    """Public proposals of the process whose titles look like ``title``, best first."""
    significant = words(title)[:6]
    if not significant:
        return []
    # A word's stem (first five letters) also finds "lekplatsen" for "lekplats".
    likes = [Proposal.search_text.like(f"%{like_escape(w[:5])}%", escape="\\") for w in significant]
    stmt = (
        sa.select(Proposal)
        .where(
            Proposal.process_id == process_id,
            Proposal.hidden.is_(False),
            Proposal.status.in_(PUBLIC_STATUSES),
            Proposal.published_at.is_not(None),
            sa.or_(*likes),
        )
        .order_by(Proposal.id.desc())
        .limit(300)
    )
    excluded = set(exclude)
    scored = [(p, score(title, p.title)) for p in session.scalars(stmt) if p.id not in excluded]
    scored = [(p, s) for p, s in scored if s >= threshold]
    scored.sort(key=lambda ps: (-ps[1], -ps[0].id))
    return scored[:limit]
