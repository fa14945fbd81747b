"""Print-ready voting letters and code cards (A4 PDF, fpdf2) with QR codes (segno).

Pure: no database, no Flask. The caller hands in the plain codes as it makes them, with who
gets each (letters) or nothing (cards); they live only in memory while the page is drawn
and are written nowhere but the PDF. The texts that vary by vote (title, eligibility, what
the vote decides, dates, web address) come in a ``Vote`` per language; the fixed wording of
letters and cards is in this module, in Swedish and English (``_TEXTS``), so the letters do
not depend on a request's locale or on a message catalogue.

Fonts: DejaVu Sans and DejaVu Sans Mono (Debian's ``fonts-dejavu-core``), which cover Latin
with all its accents, Greek, Cyrillic, Armenian, Georgian, Hebrew and Arabic; right-to-left
names are shaped with HarfBuzz (``uharfbuzz``) so that Arabic letters join and read right to
left. A name in a script DejaVu lacks (Chinese, for instance) is refused before printing:
``unprintable(text)`` says which characters, and ``pb.voting.people`` reports them per line.

QR codes are drawn as vector rectangles, one per run of dark modules in a row (sharp at any
printer resolution, and far smaller and faster than an image per code). Their mask is fixed
(pattern 2, any mask is valid QR) because choosing the best of eight costs five times as much
time as making the code, and every reader decodes every mask.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import IO, Protocol

import segno
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, PDFResourceType, XPos, YPos

from pb.text import last_day

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONTS = {
    "sans": "DejaVuSans.ttf",
    "sans-bold": "DejaVuSans-Bold.ttf",
    "mono-bold": "DejaVuSansMono-Bold.ttf",
}
LANGUAGES = ("sv", "en")
QR_MASK = 2

# Where the recipient's address goes, in mm from the page's top left: the window of a C5 or
# DL envelope with its window on the left (SS-EN ISO 269 / DIN 5008 form B: 20 mm from the
# left edge, 45 mm from the top, 85 x 45 mm, its top 5 mm for the sender's line). A4 folded
# in three at the marks (105 and 210 mm) fits a DL envelope, folded once a C5.
WINDOW = (20.0, 45.0, 85.0, 45.0)
FOLD_MARKS = (105.0, 210.0)

_MONTHS = {
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "en": "January February March April May June July August September October November December",
}

# The fixed wording of letters and cards; {named} parts are filled in per vote.
_TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "heading": "Din röstkod: {title}",
        "intro": "Du får det här brevet för att du får vara med och bestämma. "
        "Med koden nedan kan du rösta på nätet.",
        "who": "Vem får rösta",
        "decides": "Vad omröstningen avgör",
        "when": "När",
        "period": "Du kan rösta från {opens} till och med {closes}.",
        "period_time": "Du kan rösta från {opens} till {closes}.",
        "your_code": "Din röstkod",
        "scan": "Skanna QR-koden med mobilens kamera: röstsidan öppnas med koden ifylld.",
        "manual": "Utan QR-kod: gå till adressen här under och skriv in koden.",
        "secret": "Koden är hemlig och fungerar en gång. Visa den inte för någon. "
        "Din röst sparas utan kod och namn och blandas med andras, så ingen "
        "kan se hur just du har röstat.",
        "contact": "Frågor? {contact}",
        "card_code": "Röstkod",
        "card_scan": "Skanna QR-koden, eller gå till {web} och skriv in koden.",
        "card_secret": "Hemlig – fungerar en gång.",
        "card_period": "Röstningen: {period}",
        "at": "kl.",
    },
    "en": {
        "heading": "Your voting code: {title}",
        "intro": "You are receiving this letter because you may take part in the decision. "
        "With the code below you can vote online.",
        "who": "Who may vote",
        "decides": "What the vote decides",
        "when": "When",
        "period": "You can vote from {opens} until {closes} inclusive.",
        "period_time": "You can vote from {opens} until {closes}.",
        "your_code": "Your voting code",
        "scan": "Scan the QR code with your phone's camera: the ballot opens "
        "with the code filled in.",
        "manual": "Without the QR code: type in the code at the address below.",
        "secret": "The code is secret and works once. Do not show it to anyone. "
        "Your ballot is stored without code or name and mixed with others, so "
        "nobody can tell how you voted.",
        "contact": "Questions? {contact}",
        "card_code": "Voting code",
        "card_scan": "Scan the QR code, or go to {web} and type in the code.",
        "card_secret": "Secret – works once.",
        "card_period": "Voting: {period}",
        "at": "at",
    },
}


class LetterTooLong(ValueError):
    """A letter's texts do not fit: ``part`` is ``"texts"`` (the eligibility and what the
    vote decides, too long for one page) or ``"web_address"`` (too long for its line even
    in small type); ``language`` the letter's. A caller with a message catalogue says so in
    the reader's language; the English message is for the command line."""

    def __init__(self, part: str, language: str, value: str = "") -> None:
        self.part, self.language, self.value = part, language, value
        if part == "texts":
            text = (
                f"the letter's texts ({language}) are too long for one page: shorten the "
                "eligibility or what the vote decides"
            )
        else:
            text = f"the web address is too long for the letter: {value}"
        super().__init__(text)


class FontMissing(RuntimeError):
    """The DejaVu fonts are not installed (Debian: ``apt-get install fonts-dejavu-core``)."""


@dataclass(frozen=True)
class Vote:
    """What letters and cards say about one vote, in one language.

    ``organisation`` is the sender ("Dalby kommun"); ``title`` the vote ("Ungdomsbudget
    2026"); ``eligibility`` who may vote and ``decides`` what the vote decides, a sentence or
    two each; ``web_address`` what a person types without the QR code ("dalby.se/rosta");
    ``opens`` the first day of voting; ``closes`` when voting ends, as pb keeps a phase's end
    (exclusive, local time): a datetime at midnight prints the day before as the last day
    ("till och med 5 december" for an end at 6 December 00:00), one with a time of day
    prints that day and time ("till 6 december kl. 20.00"), and a plain date is the last
    day itself; ``contact`` an optional line for questions; ``return_address`` the sender's
    line above the address.
    """

    organisation: str
    title: str
    eligibility: str
    decides: str
    web_address: str
    opens: date
    closes: date
    contact: str = ""
    return_address: str = ""


class Recipient(Protocol):
    """Who a letter goes to (``pb.voting.people.Person`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def address(self) -> tuple[str, ...]: ...

    @property
    def language(self) -> str: ...


BallotUrl = str | Callable[[str], str]


def letters(
    out: str | Path | IO[bytes],
    recipients: Iterable[tuple[Recipient, str]],
    votes: Mapping[str, Vote],
    ballot_url: BallotUrl,
    *,
    per_file: int | None = None,
) -> int:
    """Write one letter per page, each in its recipient's language, to ``out`` (a path or a
    binary stream); return the number of letters.

    ``recipients`` yields (person, plain code) pairs and is consumed as the pages are drawn;
    ``votes`` has a ``Vote`` for each language a person may have (ValueError otherwise, at
    that person); ``ballot_url`` is a template with ``{code}`` or a function of the code, the
    address the QR code opens. Nothing is written until the last letter is drawn, so an
    error on the way (a bad language, a file changed under ``pb.voting.people``) leaves no
    file.

    fpdf2 holds a document in memory until it is written, about 13 kB a letter. With
    ``per_file``, ``out`` is a path with ``{part}`` in it (``letters-{part}.pdf``) and every
    ``per_file`` letters go to the next part (``001``, ``002``, ...) as soon as they are
    drawn, so memory stays bounded whatever the number of letters; parts already written
    stay if a later one fails.
    """
    url = _url_maker(ballot_url)
    unknown = sorted(set(votes) - set(_TEXTS))
    if unknown:
        raise ValueError(f"letters are written in {', '.join(_TEXTS)}, not {', '.join(unknown)}")
    if per_file is not None and (
        per_file < 1 or not isinstance(out, str | Path) or "{part}" not in str(out)
    ):
        raise ValueError("per_file needs a positive number and a path with {part}")
    title = next(iter(votes.values())).title if votes else ""
    pdf = _document(title)
    try:
        statics: dict[str, _Static] = {}
        count = 0
        for person, code in recipients:
            vote = votes.get(person.language)
            if vote is None:
                raise ValueError(f"no texts for the language {person.language!r}")
            _letter(pdf, statics, vote, person, code, url(code), person.language)
            count += 1
            if per_file is not None and count % per_file == 0:
                _write(pdf, str(out).replace("{part}", f"{count // per_file:03d}"))
                pdf, statics = _document(title), {}
        if count == 0:
            raise ValueError("no letters to print")
        if per_file is None:
            _write(pdf, out)
        elif count % per_file:
            _write(pdf, str(out).replace("{part}", f"{count // per_file + 1:03d}"))
    finally:
        _close(pdf)
    return count


def cards(
    out: str | Path | IO[bytes],
    codes: Iterable[str],
    vote: Vote,
    purpose: str,
    ballot_url: BallotUrl,
    language: str = "sv",
    per_page: int = 10,
) -> int:
    """Write an anonymous batch as cut-out cards, ``per_page`` (8 or 10) to an A4 page with
    cut marks, each with the vote's title, the batch's ``purpose`` ("Klass 7B, Dalby
    skola"), the code, its QR code and the web address; return the number of cards."""
    if per_page not in _CARD_GRIDS:
        raise ValueError("per_page must be 8 or 10")
    if language not in _TEXTS:
        raise ValueError(f"no texts for the language {language!r}")
    url = _url_maker(ballot_url)
    pdf = _document(vote.title)
    try:
        columns, rows = _CARD_GRIDS[per_page]
        count = 0
        for code in codes:
            slot = count % per_page
            if slot == 0:
                pdf.add_page()
                _cut_marks(pdf, columns, rows)
            column, row = slot % columns, slot // columns
            _card(pdf, vote, purpose, code, url(code), language, column, row, columns, rows)
            count += 1
        if count == 0:
            pdf.add_page()
        _write(pdf, out)
    finally:
        _close(pdf)
    return count


def unprintable(text: str) -> str:
    """The characters of ``text`` the letters' font has no glyph for (spaces and invisible
    format characters such as the zero-width joiner do not need one)."""
    covered = _coverage()
    return "".join(
        char
        for char in text
        if ord(char) not in covered and unicodedata.category(char) not in ("Zs", "Cf", "Cc")
    )


def format_date(value: date, language: str) -> str:
    """``14 juni 2026`` / ``14 June 2026``; a datetime with a time of day adds it
    (``kl. 20.00`` / ``at 20:00``)."""
    month = _MONTHS[language].split()[value.month - 1]
    text = f"{value.day} {month} {value.year}"
    if isinstance(value, datetime) and _has_time(value):
        sep = "." if language == "sv" else ":"
        text += f" {_TEXTS[language]['at']} {value.hour:02d}{sep}{value.minute:02d}"
    return text


def format_last_day(closes: date, language: str) -> str:
    """The last day of voting that ends at ``closes`` (see ``Vote``), with the closing time
    when it is not midnight: an end at 6 December 00:00 is ``5 december 2026``, one at
    20:00 is ``6 december 2026 kl. 20.00``; a plain date is the last day itself."""
    day, closing = _last_day(closes)
    if closing is None:
        return format_date(day, language)
    return format_date(datetime.combine(day, closing), language)


def format_period(opens: date, closes: date, language: str) -> str:
    """A short date range from the first to the last day of voting (``closes`` as in
    ``Vote``): ``1–14 juni 2026``, ``28 May – 3 June 2026``, with the closing time when
    voting does not end at midnight."""
    months = _MONTHS[language].split()
    end = format_last_day(closes, language)
    last, _time = _last_day(closes)
    if (opens.year, opens.month) == (last.year, last.month):
        return f"{opens.day}–{end}"
    if opens.year == last.year:
        return f"{opens.day} {months[opens.month - 1]} – {end}"
    return f"{format_date(opens, language)} – {end}"


def _last_day(closes: date) -> tuple[date, time | None]:
    """``pb.text.last_day`` of a datetime; a plain date is the last day itself."""
    if isinstance(closes, datetime):
        return last_day(closes)
    return closes, None


def _has_time(value: date) -> bool:
    return isinstance(value, datetime) and (value.hour, value.minute) != (0, 0)


def qr_matrix(url: str) -> tuple[bytes, ...]:
    """The QR code for ``url`` as rows of modules, 1 dark and 0 light, without the quiet
    zone: error correction M (15 % of the code may be smudged) or better if it fits."""
    qr = segno.make(url, error="m", micro=False, mask=QR_MASK)
    return tuple(bytes(row) for row in qr.matrix)


# --- drawing -----------------------------------------------------------------------------

_CARD_GRIDS = {8: (2, 4), 10: (2, 5)}
_INK = (0, 0, 0)
_GREY = (90, 90, 90)
_ACCENT = (0, 84, 147)
_PANEL = (238, 243, 248)


@cache
def _font_paths() -> dict[str, Path]:
    paths = {style: FONT_DIR / name for style, name in _FONTS.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FontMissing(
            "The PDF fonts are missing: "
            + ", ".join(missing)
            + ". Install them with: apt-get install fonts-dejavu-core"
        )
    return paths


@cache
def _coverage() -> frozenset[int]:
    pdf = _document("")
    try:
        return frozenset(getattr(pdf.fonts["sans"], "cmap", {}))
    finally:
        _close(pdf)


def _document(title: str) -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 20, 20)
    pdf.set_title(title)
    pdf.set_creator("pb")
    for style, path in _font_paths().items():
        pdf.add_font(style, fname=str(path))
    return pdf


def _write(pdf: FPDF, out: str | Path | IO[bytes]) -> None:
    if isinstance(out, str | Path):
        pdf.output(str(out))
    else:
        out.write(pdf.output())
    _close(pdf)


def _close(pdf: FPDF) -> None:
    """Close the font files fpdf2 keeps open (fontTools reads them lazily)."""
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.close()


def _url_maker(ballot_url: BallotUrl) -> Callable[[str], str]:
    if callable(ballot_url):
        return ballot_url
    if "{code}" not in ballot_url:
        raise ValueError("the ballot URL template needs {code}")
    template = ballot_url
    return lambda code: template.replace("{code}", code)


def _needs_shaping(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def _shaped_line(pdf: FPDF, width: float, height: float, text: str) -> None:
    """One line of a name or address; right-to-left scripts are shaped by HarfBuzz."""
    shaping = _needs_shaping(text)
    if shaping:
        pdf.set_text_shaping(True)
    pdf.cell(width, height, text, new_x=XPos.LEFT, new_y=YPos.NEXT)
    if shaping:
        pdf.set_text_shaping(False)


def _para(pdf: FPDF, width: float, height: float, text: str, new_x: XPos = XPos.LEFT) -> None:
    """A left-aligned paragraph. fpdf2's line breaking is the slowest part of a letter, and
    every letter of one language has the same paragraphs, so their lines are kept."""
    key = (text, round(width, 2), pdf.font_family, pdf.font_style, pdf.font_size_pt)
    lines = _wrapped.get(key)
    if lines is None:
        wrapped = pdf.multi_cell(
            width, height, text, align=Align.L, dry_run=True, output=MethodReturnValue.LINES
        )
        assert isinstance(wrapped, list)
        lines = tuple(wrapped)
        if len(_wrapped) > 1000:
            _wrapped.clear()
        _wrapped[key] = lines
    x = pdf.get_x()
    for line in lines:
        pdf.set_x(x)
        pdf.cell(width, height, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
    if new_x is XPos.LMARGIN:
        pdf.set_x(pdf.l_margin)


_wrapped: dict[tuple[str, float, str, str, float], tuple[str, ...]] = {}


# A part of a web address: an optional leading ".", "-", "?", "&", "=" or "#", then up to
# and including the next "/".
_ADDRESS_PART = re.compile(r"[.?&=#-]?[^/.?&=#-]*/?")


def address_lines(pdf: FPDF, address: str, width: float) -> list[str]:
    """``address`` broken into lines no wider than ``width`` in the current font, as style
    guides break a URL: after a "/", before a ".", "-", "?", "&", "=" or "#" (so that a
    line never ends in a hyphen that reads as a word break), and inside a part only when
    that part alone is wider than a line."""
    lines: list[str] = []
    line = ""
    for part in _ADDRESS_PART.findall(address):
        if not part or pdf.get_string_width(line + part) <= width:
            line += part
            continue
        if line:
            lines.append(line)
        while pdf.get_string_width(part) > width and len(part) > 1:
            n = len(part) - 1
            while n > 1 and pdf.get_string_width(part[:n]) > width:
                n -= 1
            lines.append(part[:n])
            part = part[n:]
        line = part
    if line:
        lines.append(line)
    return lines


def _fit(pdf: FPDF, text: str, width: float, size: float, smallest: float) -> float:
    """The largest font size from ``size`` down to ``smallest`` at which ``text`` fits."""
    while size > smallest:
        pdf.set_font_size(size)
        if pdf.get_string_width(text) <= width:
            return size
        size -= 0.5
    return smallest


_DARK_RUN = re.compile(rb"\x01+")


def _qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    """Draw the QR code for ``url`` as filled rectangles, ``size`` mm square at (x, y)."""
    matrix = qr_matrix(url)
    module = size / len(matrix) * pdf.k  # points per module
    runs = [
        f"{run.start()} {r} {run.end() - run.start()} 1 re"
        for r, row in enumerate(matrix)
        for run in _DARK_RUN.finditer(row)
    ]
    # One path in module units: y grows downwards from the code's top left corner.
    left = x * pdf.k
    top = (pdf.h - y) * pdf.k
    # fpdf2 has no public call for a raw path; one path is far faster than a rect() per run.
    pdf._out(
        f"q 0 g {module:.4f} 0 0 {-module:.4f} {left:.3f} {top:.3f} cm\n"
        + "\n".join(runs)
        + "\nf Q"
    )


@dataclass(frozen=True)
class _Static:
    """What every letter in one language shares: the content stream drawn on the first
    such page, and where the per-person parts go around it."""

    content: bytes
    panel_top: float
    url_y: float


# The code panel fills the bottom third, below the lower fold mark: folded in three (DL) or
# in half (C5, at 148.5 mm), the QR code is never folded.
_PANEL_TOP = 214.0
_PANEL_HEIGHT = 64.0
_TEXT_BOTTOM = 209.0  # the texts above the panel must end here
_CODE_X = 84.0
_URL_Y = _PANEL_TOP + _PANEL_HEIGHT + 2.5
_WEB_SMALLEST = 6.0  # pt: the smallest type for the web address on a letter


def _letter(
    pdf: FPDF,
    statics: dict[str, _Static],
    vote: Vote,
    person: Recipient,
    code: str,
    url: str,
    language: str,
) -> None:
    """One letter page. Its fixed part is drawn with fpdf2 on the first page of a language
    and then copied byte for byte into the following pages' content streams (with the
    fonts registered for the page): line breaking and text layout are most of the cost of
    a page, and this makes 10,000 letters several times faster."""
    pdf.add_page()
    static = statics.get(language)
    if static is None:
        contents = pdf.pages[pdf.page].contents
        assert isinstance(contents, bytearray)
        start = len(contents)
        with pdf.local_context():
            panel_top, url_y = _letter_fixed(pdf, vote, language)
        static = _Static(bytes(contents[start:]).rstrip(b"\n"), panel_top, url_y)
        statics[language] = static
    else:
        # fpdf2 has no public call for reusing drawn content; the block is wrapped in q/Q
        # (local_context), so it leaves the graphics state as it found it.
        pdf._out(static.content)
        for font in pdf.fonts.values():
            pdf._resource_catalog.add(PDFResourceType.FONT, font.i, pdf.page)

    # The address, in the envelope window.
    wx, wy, ww, wh = WINDOW
    pdf.set_text_color(*_INK)
    lines = (person.name, *person.address)
    pdf.set_font("sans")
    size = min(_fit(pdf, line, ww - 2, 11, 7) for line in lines)
    size = min(size, (wh - 9) / len(lines) / 0.45)
    pdf.set_font("sans", size=size)
    pdf.set_xy(wx, wy + 8)
    for line in lines:
        _shaped_line(pdf, ww, size * 0.45, line)

    # The QR code, the code and the address it opens.
    top = static.panel_top
    _qr(pdf, url, 27, top + 8, 48)
    tw = pdf.w - 20 - _CODE_X - 5
    pdf.set_xy(_CODE_X, top + 10)
    pdf.set_font("mono-bold")
    _fit(pdf, code, tw, 19, 10)
    pdf.cell(tw, 11, code)
    pdf.set_xy(20, static.url_y)
    pdf.set_font("sans")
    pdf.set_text_color(*_GREY)
    _fit(pdf, url, pdf.w - 40, 7, 4)
    pdf.cell(pdf.w - 40, 3.2, url)


def _letter_fixed(pdf: FPDF, vote: Vote, language: str) -> tuple[float, float]:
    """Draw what all letters in ``language`` share; return the code panel's top and where
    the ballot's address goes in it."""
    t = _TEXTS[language]
    width = pdf.w - pdf.l_margin - pdf.r_margin

    # Sender, top: organisation and the vote.
    pdf.set_text_color(*_ACCENT)
    pdf.set_font("sans-bold", size=13)
    pdf.set_xy(20, 18)
    pdf.cell(width, 6, vote.organisation, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_GREY)
    pdf.set_font("sans", size=9)
    pdf.cell(width, 5, vote.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*_ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(20, 31, pdf.w - 20, 31)

    # Fold marks at the left edge; the sender's line at the top of the envelope window.
    pdf.set_draw_color(*_GREY)
    pdf.set_line_width(0.2)
    for mark in FOLD_MARKS:
        pdf.line(4, mark, 8, mark)
    wx, wy, ww, _ = WINDOW
    if vote.return_address:
        pdf.set_font("sans", size=7)
        pdf.set_xy(wx, wy + 1)
        _fit(pdf, vote.return_address, ww, 7, 5)
        pdf.cell(ww, 3, vote.return_address)

    # Heading and the vote.
    pdf.set_xy(20, 100)
    pdf.set_text_color(*_INK)
    pdf.set_font("sans-bold", size=17)
    _para(pdf, width, 8, t["heading"].format(title=vote.title), new_x=XPos.LMARGIN)
    pdf.ln(2)
    pdf.set_font("sans", size=10.5)
    _para(pdf, width, 5.2, t["intro"], new_x=XPos.LMARGIN)
    _day, closing = _last_day(vote.closes)
    period = t["period" if closing is None else "period_time"].format(
        opens=format_date(vote.opens, language), closes=format_last_day(vote.closes, language)
    )
    for label, text in (
        (t["who"], vote.eligibility),
        (t["decides"], vote.decides),
        (t["when"], period),
    ):
        pdf.ln(3)
        pdf.set_font("sans-bold", size=10.5)
        pdf.cell(width, 5.5, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("sans", size=10.5)
        _para(pdf, width, 5.2, text, new_x=XPos.LMARGIN)
    if pdf.get_y() > _TEXT_BOTTOM:
        raise LetterTooLong("texts", language)

    # The code panel: a white square for the QR code on the left; the code goes at the
    # top right, how to vote without the QR code and that the code is secret under it.
    top = _PANEL_TOP
    pdf.set_fill_color(*_PANEL)
    pdf.rect(20, top, width, _PANEL_HEIGHT, style="F", round_corners=True, corner_radius=3)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(25, top + 6, 52, 52, style="F")
    tw = pdf.w - 20 - _CODE_X - 5
    pdf.set_xy(_CODE_X, top + 5)
    pdf.set_text_color(*_ACCENT)
    pdf.set_font("sans-bold", size=10.5)
    pdf.cell(tw, 5, t["your_code"])
    pdf.set_xy(_CODE_X, top + 22)
    pdf.set_text_color(*_INK)
    pdf.set_font("sans", size=9)
    _para(pdf, tw, 4.4, t["scan"])
    pdf.set_xy(_CODE_X, pdf.get_y() + 1.5)
    _para(pdf, tw, 4.4, t["manual"])
    # The address on a line of its own, never broken, its type shrunk to fit the line: the
    # default (the site's own /p/<slug>/vote) is long.
    pdf.set_x(_CODE_X)
    pdf.set_font("sans-bold")
    _fit(pdf, vote.web_address, tw, 10.5, _WEB_SMALLEST)
    if pdf.get_string_width(vote.web_address) > tw:
        raise LetterTooLong("web_address", language, vote.web_address)
    pdf.cell(tw, 5.5, vote.web_address, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(_CODE_X, pdf.get_y() + 1.5)
    pdf.set_font("sans-bold", size=9)
    _para(pdf, tw, 4.4, t["secret"])
    if pdf.get_y() > top + _PANEL_HEIGHT - 2:
        raise LetterTooLong("web_address", language, vote.web_address)

    if vote.contact:
        pdf.set_xy(20, _URL_Y + 5)
        pdf.set_font("sans", size=9)
        pdf.set_text_color(*_GREY)
        pdf.cell(width, 5, t["contact"].format(contact=vote.contact))
    return top, _URL_Y


# Cards: 90 x 55 mm (a business card), 2 columns, centred on the page.
_CARD_W = 90.0
_CARD_H = 55.0


def _grid_origin(pdf: FPDF, columns: int, rows: int) -> tuple[float, float]:
    return (pdf.w - columns * _CARD_W) / 2, (pdf.h - rows * _CARD_H) / 2


def _cut_marks(pdf: FPDF, columns: int, rows: int) -> None:
    """Dashed cut lines between the cards and crop ticks in the margins."""
    x0, y0 = _grid_origin(pdf, columns, rows)
    x1, y1 = x0 + columns * _CARD_W, y0 + rows * _CARD_H
    pdf.set_draw_color(160, 160, 160)
    pdf.set_line_width(0.15)
    with pdf.local_context():
        pdf.set_dash_pattern(dash=1.5, gap=1.5)
        for c in range(columns + 1):
            pdf.line(x0 + c * _CARD_W, y0, x0 + c * _CARD_W, y1)
        for r in range(rows + 1):
            pdf.line(x0, y0 + r * _CARD_H, x1, y0 + r * _CARD_H)
    pdf.set_draw_color(*_INK)
    for c in range(columns + 1):
        x = x0 + c * _CARD_W
        pdf.line(x, y0 - 8, x, y0 - 2)
        pdf.line(x, y1 + 2, x, y1 + 8)
    for r in range(rows + 1):
        y = y0 + r * _CARD_H
        pdf.line(x0 - 8, y, x0 - 2, y)
        pdf.line(x1 + 2, y, x1 + 8, y)


def _card(
    pdf: FPDF,
    vote: Vote,
    purpose: str,
    code: str,
    url: str,
    language: str,
    column: int,
    row: int,
    columns: int,
    rows: int,
) -> None:
    t = _TEXTS[language]
    x0, y0 = _grid_origin(pdf, columns, rows)
    x, y = x0 + column * _CARD_W, y0 + row * _CARD_H
    pad = 4.0
    qr = 30.0
    tw = _CARD_W - 2 * pad - qr - 3
    # Title band.
    pdf.set_xy(x + pad, y + pad)
    pdf.set_text_color(*_ACCENT)
    pdf.set_font("sans-bold")
    _fit(pdf, vote.title, _CARD_W - 2 * pad, 9.5, 6)
    pdf.cell(_CARD_W - 2 * pad, 4.5, vote.title, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(*_GREY)
    pdf.set_font("sans")
    _fit(pdf, purpose, _CARD_W - 2 * pad, 7.5, 5.5)
    pdf.cell(_CARD_W - 2 * pad, 3.8, purpose, new_x=XPos.LEFT, new_y=YPos.NEXT)
    # QR on the right.
    _qr(pdf, url, x + _CARD_W - pad - qr, y + 14, qr)
    # Code and instructions on the left.
    pdf.set_xy(x + pad, y + 15)
    pdf.set_text_color(*_INK)
    pdf.set_font("sans-bold", size=7.5)
    pdf.cell(tw, 3.5, t["card_code"], new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("mono-bold")
    _fit(pdf, code, tw, 11, 7)
    pdf.cell(tw, 6.5, code, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("sans", size=7)
    if pdf.get_string_width(vote.web_address) <= tw:
        _para(pdf, tw, 3.3, t["card_scan"].format(web=vote.web_address))
    else:  # the address on lines of its own, broken after a "/" or "." rather than mid-word
        before, _, after = t["card_scan"].partition("{web}")
        _para(pdf, tw, 3.3, before.strip())
        for line in address_lines(pdf, vote.web_address, tw):
            pdf.cell(tw, 3.3, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
        _para(pdf, tw, 3.3, after.strip())
    pdf.set_xy(x + pad, pdf.get_y() + 1)
    period = t["card_period"].format(period=format_period(vote.opens, vote.closes, language))
    _para(pdf, tw, 3.3, period)
    pdf.set_font("sans-bold", size=7)
    pdf.cell(tw, 3.5, t["card_secret"])
