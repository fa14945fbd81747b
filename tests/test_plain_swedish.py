"""Plain Swedish, one voice: pb speaks to the reader as "du", never as the impersonal "man".

Every Swedish text is read: the translations in each catalogue (pages and e-mails), the
string literals in the code (the demo's Swedish texts among them) and the text of the templates.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from pb import ROOT

# "man" as a word of its own ("mannen", "Herman", "Manfred" and "män" are other words); after
# an article or a determiner it is the noun ("en man i parken"), which is not the pronoun.
_MAN = re.compile(r"(?<![\w-])(?:(\w+)\s+)?(man)(?![\w-])", re.IGNORECASE)
_NOUN_BEFORE = {"en", "den", "denne", "denna", "varje", "ingen", "någon", "ung", "gammal", "äldre"}


def pronoun_man(text: str) -> list[str]:
    """The places where ``text`` uses "man" as a pronoun, each with a little context."""
    found = []
    for m in _MAN.finditer(text):
        before = (m.group(1) or "").lower()
        if before in _NOUN_BEFORE:
            continue
        found.append(text[max(0, m.start(2) - 30) : m.end(2) + 30].replace("\n", " "))
    return found


@pytest.mark.parametrize(
    "text",
    [
        "Man röstar med sin röstkod.",
        "Här kan man se alla förslag.",
        "Det man föreslår syns för alla.",
        "Om man inte har\nnågon kod",
    ],
)
def test_the_check_finds_the_pronoun(text: str) -> None:
    assert pronoun_man(text)


@pytest.mark.parametrize(
    "text",
    [
        "Mannen i parken",
        "Herman Lindqvist och Manfred",
        "En man och en kvinna",
        "kvinnor och män",
        "Du röstar med din röstkod.",
        "mantel, manus, romantik",
    ],
)
def test_the_check_leaves_other_words_alone(text: str) -> None:
    assert not pronoun_man(text)


def _catalogue_texts() -> list[tuple[str, str]]:
    out = []
    for po_path in sorted(ROOT.glob("pb/**/translations/sv/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as fh:
            po = read_po(fh, locale="sv")
        for m in po:
            strings = m.string if isinstance(m.string, tuple | list) else (m.string,)
            out.extend((f"{po_path.relative_to(ROOT)}: {m.id!r}", s) for s in strings if s)
    return out


def _code_texts() -> list[tuple[str, str]]:
    out = []
    for path in sorted((ROOT / "pb").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.value))
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.is_file():
            out.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    return out


def test_every_catalogue_has_swedish_texts_to_read() -> None:
    texts = _catalogue_texts()
    assert len({where.split(":")[0] for where, _ in texts}) >= 4
    assert any("röst" in text for _, text in texts)


@pytest.mark.parametrize("source", ["catalogues", "code and templates"])
def test_swedish_says_du_never_man(source: str) -> None:
    texts = _catalogue_texts() if source == "catalogues" else _code_texts()
    found = [f"{where}: …{hit}…" for where, text in texts for hit in pronoun_man(text)]
    assert not found, "write 'du', not 'man':\n" + "\n".join(found)


def test_the_demo_texts_are_read() -> None:
    demo = Path(ROOT / "pb" / "demo.py")
    assert any(where.startswith(str(demo.relative_to(ROOT))) for where, _ in _code_texts())
