"""How fast, and in how much memory, are voting letters and code cards printed?

Makes 10,000 letters (one A4 page each, names from several scripts, a few right-to-left) and
1,000 cut-out cards with fake codes through ``pb.voting.printing``, into a temporary
directory, and prints the time, the process's peak resident memory after the letters, the
pages and the file sizes. The last line is JSON.

    .venv/bin/python benchmarks/printing.py [--letters 10000] [--cards 1000] [--keep DIR]

The target (issue #9) is 10,000 letters under 60 s in bounded memory. Letters run first, so
``letters_peak_mb`` (the process's peak RSS, ``ru_maxrss``) is the letters' peak.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import secrets
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pb.voting.people import Person
from pb.voting.printing import Vote, cards, letters

FIRST = ["Åsa", "Erik", "Maja", "Mohammed", "Łukasz", "Olga", "Chloé", "Nuñez", "Sven", "Aino"]
LAST = ["Öberg", "Lindqvist", "Żółkiewski", "Петрова", "Hassan", "Nguyễn", "Ångström", "Berg"]
RTL = ["محمد عبد الله", "فاطمة الزهراء", "יעל כהן"]
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

SV = Vote(
    "Dalby kommun",
    "Ungdomsbudget 2026",
    "Du som är 10–25 år och bor, går i skola eller arbetar i Dalby.",
    "Hur 500 000 kronor av kommunens budget ska användas: du väljer bland förslag från "
    "Dalbys unga, och de projekt som får flest röster inom budgeten genomförs under 2027.",
    "pb.dalby.se/rosta",
    date(2026, 6, 1),
    datetime(2026, 6, 14, 20, 0),
    "Ring 046-12 34 56 eller mejla demokrati@dalby.se",
    "Dalby kommun, Box 1, 247 00 Dalby",
)
EN = Vote(
    "Dalby Municipality",
    "Youth budget 2026",
    "People aged 10–25 who live, study or work in Dalby.",
    "How SEK 500,000 of the municipal budget is spent: you choose among proposals from "
    "Dalby's young people, and the projects with the most votes within the budget are "
    "carried out in 2027.",
    "pb.dalby.se/rosta",
    date(2026, 6, 1),
    datetime(2026, 6, 14, 20, 0),
    "Call 046-12 34 56 or e-mail demokrati@dalby.se",
    "Dalby kommun, Box 1, 247 00 Dalby",
)
URL = "https://pb.dalby.se/rosta/ungdomsbudget-2026#kod={code}"


def fake_code() -> str:
    """A code shaped like the real ones (20 base32 characters in groups of four + a check)."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(21))
    return "-".join(chars[i : i + 4] for i in range(0, 20, 4)) + "-" + chars[20]


def fake_people(n: int, rng: random.Random):
    for i in range(n):
        name = rng.choice(RTL) if i % 20 == 7 else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        address = (f"Storgatan {rng.randint(1, 120)}", f"247 {rng.randint(30, 39)} Dalby")
        yield Person(i + 2, name, address, None, "sv" if i % 4 else "en"), fake_code()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--cards", type=int, default=1_000)
    parser.add_argument("--keep", type=Path, help="write the PDFs here and keep them")
    parser.add_argument(
        "--per-file", type=int, help="letters per PDF (letters-001.pdf, ...); default: one PDF"
    )
    args = parser.parse_args()
    rng = random.Random(9)
    with tempfile.TemporaryDirectory() as tmp:
        where = args.keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        start_mb = peak_mb()

        t, cpu = time.perf_counter(), time.process_time()
        target = where / ("letters-{part}.pdf" if args.per_file else "letters.pdf")
        people = fake_people(args.letters, rng)
        n_letters = letters(target, people, {"sv": SV, "en": EN}, URL, per_file=args.per_file)
        letters_s = time.perf_counter() - t
        letters_cpu = time.process_time() - cpu
        letters_peak = peak_mb()
        files = sorted(where.glob("letters*.pdf"))
        letters_bytes = sum(f.stat().st_size for f in files)

        t = time.perf_counter()
        codes = (fake_code() for _ in range(args.cards))
        n_cards = cards(where / "cards.pdf", codes, SV, "Klass 7B, Dalby skola", URL)
        cards_s = time.perf_counter() - t
        cards_bytes = (where / "cards.pdf").stat().st_size

        try:
            from pypdf import PdfReader
        except ImportError:
            pages = {"letters": None, "cards": None}
        else:
            pages = {
                "letters": sum(len(PdfReader(f).pages) for f in files),
                "cards": len(PdfReader(where / "cards.pdf").pages),
            }

    print(f"peak RSS before printing: {start_mb:.0f} MB")
    print(
        f"letters: {n_letters} in {letters_s:.1f} s ({n_letters / letters_s:.0f}/s, "
        f"{letters_cpu:.1f} s of CPU), "
        f"{pages['letters']} pages in {len(files)} file(s), {letters_bytes / 1e6:.1f} MB, "
        f"peak RSS {letters_peak:.0f} MB"
    )
    print(
        f"cards: {n_cards} in {cards_s:.1f} s, {pages['cards']} pages, {cards_bytes / 1e6:.1f} MB"
    )
    print(
        json.dumps(
            {
                "letters": n_letters,
                "letters_s": round(letters_s, 2),
                "letters_peak_mb": round(letters_peak, 1),
                "cards": n_cards,
                "cards_s": round(cards_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
