"""Voting letters and code cards: one page per letter, the code and its link printed, the QR
code read back by a real decoder (zxing-cpp) from the page rendered by PDFium, both
languages, names in any script the font has."""

from __future__ import annotations

import io
import itertools
import unicodedata
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader

from pb.voting import printing
from pb.voting.people import Person
from pb.voting.printing import (
    FontMissing,
    Vote,
    cards,
    format_date,
    format_last_day,
    format_period,
    letters,
    qr_matrix,
    unprintable,
)

needs_fonts = pytest.mark.skipif(
    not all((printing.FONT_DIR / name).is_file() for name in printing._FONTS.values()),
    reason=f"the DejaVu fonts are not in {printing.FONT_DIR} (apt-get install fonts-dejavu-core)",
)

SV = Vote(
    organisation="Dalby kommun",
    title="Ungdomsbudget 2026",
    eligibility="Du som är 10–25 år och bor, går i skola eller arbetar i Dalby.",
    decides="Hur 500 000 kronor av kommunens budget ska användas.",
    web_address="pb.dalby.se/rosta",
    opens=date(2026, 6, 1),
    closes=datetime(2026, 6, 15),  # voting ends at midnight: 14 June is the last day
    contact="Ring 046-12 34 56",
    return_address="Dalby kommun, Box 1, 247 00 Dalby",
)
EN = Vote(
    organisation="Dalby Municipality",
    title="Youth budget 2026",
    eligibility="People aged 10–25 who live, study or work in Dalby.",
    decides="How SEK 500,000 of the municipal budget is spent.",
    web_address="pb.dalby.se/rosta",
    opens=date(2026, 6, 1),
    closes=datetime(2026, 6, 14, 20, 0),
)
VOTES = {"sv": SV, "en": EN}
URL = "https://pb.dalby.se/rosta/ungdomsbudget-2026#kod={code}"

PEOPLE = [
    Person(2, "Åsa Öberg-Ärlig", ("c/o Lindqvist", "Storgatan 12 B", "247 31 Dalby"), None, "sv"),
    Person(3, "Ольга Петрова", ("Skolgatan 1", "247 31 Dalby"), None, "en"),
    Person(4, "محمد عبد الله", ("Ringvägen 5", "247 32 Dalby"), None, "sv"),
    Person(5, "Łukasz Żółkiewski Núñez", ("Östra vägen 101", "247 33 Dalby"), None, "en"),
    Person(6, "Γιώργος Παπαδόπουλος", ("Skolgatan 3", "247 31 Dalby"), None, "sv"),
]
CODES = [f"K7QM-2XWD-9H4P-RT3B-{c}" for c in "ABCDE"]


def page_texts(pdf: Path | bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    return [unicodedata.normalize("NFKC", page.extract_text()) for page in reader.pages]


def qr_texts(pdf: Path, page: int) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[page].render(scale=150 / 72).to_pil()
    finally:
        document.close()
    return [b.text for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.QRCode]


@pytest.fixture(scope="module")
def letters_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("letters") / "letters.pdf"
    assert letters(out, zip(PEOPLE, CODES, strict=True), VOTES, URL) == len(PEOPLE)
    return out


@needs_fonts
def test_one_page_per_letter_with_name_address_code_and_link(letters_pdf: Path) -> None:
    texts = page_texts(letters_pdf)
    assert len(texts) == len(PEOPLE)
    for text, person, code in zip(texts, PEOPLE, CODES, strict=True):
        assert person.name in text
        for line in person.address:
            assert line in text
        assert code in text
        assert URL.replace("{code}", code) in text
        assert "pb.dalby.se/rosta" in text
    # No letter carries another person's code.
    for i, text in enumerate(texts):
        assert [c for c in CODES if c in text] == [CODES[i]]


@needs_fonts
def test_swedish_and_english_letters(letters_pdf: Path) -> None:
    texts = page_texts(letters_pdf)
    for text, person in zip(texts, PEOPLE, strict=True):
        if person.language == "sv":
            assert "Din röstkod: Ungdomsbudget 2026" in text
            assert SV.eligibility in text
            assert "Du kan rösta från 1 juni 2026 till och med 14 juni 2026." in text
            assert "Koden är hemlig och fungerar en gång." in text
            # The promise of secrecy says what keeps it (second probe).
            assert "sparas utan kod och namn och blandas med andras" in " ".join(text.split())
            assert "Frågor? Ring 046-12 34 56" in text
            assert "Dalby kommun, Box 1, 247 00 Dalby" in text
        else:
            assert "Your voting code: Youth budget 2026" in text
            assert EN.decides in text
            assert "You can vote from 1 June 2026 until 14 June 2026 at 20:00." in text
            assert "The code is secret and works once." in text
            assert "stored without code or name and mixed with others" in " ".join(text.split())
            assert "Din röstkod" not in text


@needs_fonts
def test_every_letters_qr_code_opens_its_ballot(letters_pdf: Path) -> None:
    for page, code in enumerate(CODES):
        assert qr_texts(letters_pdf, page) == [URL.replace("{code}", code)]


@needs_fonts
def test_cards_ten_to_a_page_with_qr_codes_and_the_purpose(tmp_path: Path) -> None:
    codes = [f"ABCD-EFGH-JKMN-PQ{i:02d}-X" for i in range(23)]
    out = tmp_path / "cards.pdf"
    assert cards(out, codes, SV, "Klass 7B, Dalby skola", URL) == 23
    texts = page_texts(out)
    assert len(texts) == 3
    for page, text in enumerate(texts):
        on_page = codes[page * 10 : page * 10 + 10]
        assert [c for c in codes if c in text] == on_page
        assert text.count("Klass 7B, Dalby skola") == len(on_page)
        assert text.count("Ungdomsbudget 2026") == len(on_page)
        assert "Röstningen: 1–14 juni 2026" in text
        assert "pb.dalby.se/rosta" in text
        assert sorted(qr_texts(out, page)) == sorted(URL.replace("{code}", c) for c in on_page)


@needs_fonts
def test_cards_eight_to_a_page_in_english_to_a_stream() -> None:
    stream = io.BytesIO()
    codes = [f"ABCD-EFGH-JKMN-PQ{i:02d}-Y" for i in range(9)]
    assert cards(stream, codes, EN, "Dalby library", lambda c: f"https://v.example/{c}", "en", 8)
    texts = page_texts(stream.getvalue())
    assert len(texts) == 2
    assert "Voting code" in texts[0]
    assert "Secret – works once." in texts[0]
    assert [c for c in codes if c in texts[1]] == codes[8:]


@needs_fonts
def test_letters_to_a_stream_with_a_url_function() -> None:
    stream = io.BytesIO()
    n = letters(stream, [(PEOPLE[0], CODES[0])], VOTES, lambda c: f"https://v.example/?c={c}")
    assert n == 1
    [text] = page_texts(stream.getvalue())
    assert f"https://v.example/?c={CODES[0]}" in text


@needs_fonts
def test_only_the_pdf_is_written(tmp_path: Path) -> None:
    letters(tmp_path / "out.pdf", [(PEOPLE[0], CODES[0])], VOTES, URL)
    assert [p.name for p in tmp_path.iterdir()] == ["out.pdf"]


@needs_fonts
def test_names_in_scripts_the_font_lacks_are_found_before_printing() -> None:
    assert unprintable("山田 太郎") == "山田太郎"
    for person in PEOPLE:
        assert unprintable(person.name) == ""
    assert unprintable("Zahra\u200cNazari") == ""  # a zero-width non-joiner needs no glyph


@needs_fonts
def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\{code\}"):
        letters(io.BytesIO(), [], VOTES, "https://pb.dalby.se/rosta")
    with pytest.raises(ValueError, match="'fi'"):
        letters(io.BytesIO(), [(PEOPLE[0]._replace(language="fi"), "X")], VOTES, URL)
    with pytest.raises(ValueError, match="not fi"):
        letters(io.BytesIO(), [(PEOPLE[0], "X")], {**VOTES, "fi": SV}, URL)
    with pytest.raises(ValueError, match="8 or 10"):
        cards(io.BytesIO(), [], SV, "x", URL, per_page=12)
    long = Vote(**{**SV.__dict__, "decides": "Mycket text. " * 200})
    with pytest.raises(ValueError, match="too long"):
        letters(io.BytesIO(), [(PEOPLE[0], CODES[0])], {"sv": long}, URL)


def test_missing_fonts_say_how_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(printing, "FONT_DIR", tmp_path)
    printing._font_paths.cache_clear()
    try:
        with pytest.raises(FontMissing, match="apt-get install fonts-dejavu-core"):
            letters(io.BytesIO(), [(PEOPLE[0], CODES[0])], VOTES, URL)
    finally:
        printing._font_paths.cache_clear()


@pytest.mark.parametrize(
    ("closes", "sv", "en"),
    [
        (datetime(2026, 12, 6), "till och med 5 december 2026.", "until 5 December 2026 inclusive."),
        (datetime(2026, 12, 6, 20), "till 6 december 2026 kl. 20.00.", "until 6 December 2026 at 20:00."),
        (date(2026, 12, 5), "till och med 5 december 2026.", "until 5 December 2026 inclusive."),
    ],
)  # fmt: skip
@needs_fonts
def test_letters_and_cards_name_the_last_day_of_voting(closes: date, sv: str, en: str) -> None:
    """Voting that ends at 6 December 00:00 (exclusive, as pb keeps it) has 5 December as its
    last day, as the process page says ("Sista dag 5 december"); an end at 20:00 prints that
    day and time. A plain date is the last day itself."""
    votes = {
        "sv": replace(SV, opens=datetime(2026, 11, 11), closes=closes),
        "en": replace(EN, opens=datetime(2026, 11, 11), closes=closes),
    }
    out = io.BytesIO()
    pair = [(PEOPLE[0], CODES[0]), (PEOPLE[1], CODES[1])]
    letters(out, pair, votes, URL)
    text_sv, text_en = page_texts(out.getvalue())
    assert f"Du kan rösta från 11 november 2026 {sv}" in text_sv
    assert f"You can vote from 11 November 2026 {en}" in text_en
    last = {"sv": sv.removeprefix("till och med ").removeprefix("till ").rstrip("."),
            "en": en.removeprefix("until ").removesuffix(" inclusive.").rstrip(".")}  # fmt: skip
    for language in ("sv", "en"):
        out = io.BytesIO()
        cards(out, [CODES[0]], votes[language], "Klass 7B", URL, language=language)
        [card] = page_texts(out.getvalue())
        period = format_period(votes[language].opens, closes, language)
        assert period.endswith(last[language]) and period.startswith("11 ")
        assert period in " ".join(card.split())


def test_dates() -> None:
    assert format_date(date(2026, 6, 14), "sv") == "14 juni 2026"
    assert format_date(datetime(2026, 6, 14, 20, 5), "sv") == "14 juni 2026 kl. 20.05"
    assert format_date(datetime(2026, 6, 14, 20, 5), "en") == "14 June 2026 at 20:05"
    assert format_date(datetime(2026, 6, 14), "en") == "14 June 2026"
    assert format_period(date(2026, 5, 28), date(2026, 6, 3), "en") == "28 May – 3 June 2026"
    assert format_period(date(2026, 12, 28), date(2027, 1, 3), "sv") == (
        "28 december 2026 – 3 januari 2027"
    )
    # The end of voting is exclusive: midnight is the day before's end.
    assert format_period(date(2026, 11, 11), datetime(2026, 12, 1), "sv") == "11–30 november 2026"
    assert format_period(datetime(2026, 11, 11), datetime(2027, 1, 1), "en") == (
        "11 November – 31 December 2026"
    )
    assert format_last_day(datetime(2026, 12, 6, 20), "sv") == "6 december 2026 kl. 20.00"


def test_qr_matrix_is_segnos_code_for_the_url() -> None:
    import segno

    url = URL.replace("{code}", CODES[0])
    matrix = qr_matrix(url)
    again = segno.make(url, error="m", micro=False, mask=printing.QR_MASK)
    assert matrix == tuple(bytes(row) for row in again.matrix)
    assert {m for row in matrix for m in row} == {0, 1}
    assert len(matrix) == again.symbol_size(border=0)[0]


@needs_fonts
def test_letters_in_parts_of_bounded_size(tmp_path: Path) -> None:
    out = tmp_path / "letters-{part}.pdf"
    assert letters(out, zip(PEOPLE, CODES, strict=True), VOTES, URL, per_file=2) == 5
    parts = sorted(tmp_path.iterdir())
    assert [p.name for p in parts] == ["letters-001.pdf", "letters-002.pdf", "letters-003.pdf"]
    texts = [text for part in parts for text in page_texts(part)]
    assert [len(page_texts(p)) for p in parts] == [2, 2, 1]
    for text, code, person in zip(texts, CODES, PEOPLE, strict=True):
        assert code in text
        assert ("Din röstkod" in text) == (person.language == "sv")
    assert qr_texts(parts[2], 0) == [URL.replace("{code}", CODES[4])]
    with pytest.raises(ValueError, match=r"\{part\}"):
        letters(io.BytesIO(), [], VOTES, URL, per_file=2)
    with pytest.raises(ValueError, match=r"\{part\}"):
        letters(tmp_path / "x.pdf", [], VOTES, URL, per_file=2)
    with pytest.raises(ValueError, match="no letters"):
        letters(tmp_path / "none.pdf", [], VOTES, URL)
    assert not (tmp_path / "none.pdf").exists()


@needs_fonts
@pytest.mark.parametrize("web", [
    "www.lund.se/medborgarbudget/parker-och-gator-2027/rosta",
    "127.0.0.1:5000/p/dalby-ungdomsbudget-2026/vote",
])  # fmt: skip
def test_a_long_web_address_on_a_card_is_never_broken_mid_word(tmp_path: Path, web: str) -> None:
    """Second probe: a card broke "dalby-ungdomsbud / get-2026" in the middle of a word. A
    long address now has lines of its own, broken after a "/" or before a "." or "-"."""
    out = tmp_path / "cards.pdf"
    cards(out, [CODES[0]], replace(SV, web_address=web), "Klass 7B",
          lambda c: URL.replace("{code}", c), "sv", 10)  # fmt: skip
    lines = page_texts(out)[0].splitlines()
    first = next(n for n, line in enumerate(lines) if web.startswith(line) and len(line) > 8)
    parts = [lines[first]]
    while "".join(parts) != web:
        parts.append(lines[first + len(parts)])
        assert web.startswith("".join(parts)), parts
    assert len(parts) > 1  # too wide for one line of the card
    for line, following in itertools.pairwise(parts):
        assert line.endswith("/") or following[0] in ".-?&=#", parts
    assert lines[first - 1] == "Skanna QR-koden, eller gå till"
    assert lines[first + len(parts)] == "och skriv in koden."


@needs_fonts
def test_address_lines_break_inside_a_part_only_when_it_is_wider_than_a_line() -> None:
    pdf = printing._document("t")
    pdf.set_font("sans", size=7)
    width = pdf.get_string_width("x" * 20)
    lines = printing.address_lines(pdf, "a.se/" + "x" * 50 + "/y", width)
    assert "".join(lines) == "a.se/" + "x" * 50 + "/y"
    assert all(pdf.get_string_width(line) <= width for line in lines)
    assert lines[0] == "a.se/" and lines[-1].endswith("/y")
    assert printing.address_lines(pdf, "a.se/b", width) == ["a.se/b"]
