"""The CSV of eligible people that voting letters are printed for: checked whole, then streamed.

Pure: no database, no Flask. The file is read twice and never stored or logged:
``read_people`` makes a first pass that finds every problem (each with its line number, in
Swedish and English) and raises ``PeopleFileError`` before anything is issued; iterating the
returned ``People`` reads the file again and yields one small ``Person`` at a time, so a file
of a million rows needs no more memory than one of ten.

The file
--------
UTF-8, with or without a byte order mark (Excel's "CSV UTF-8"); fields separated by ``;``
(what Swedish Excel writes) or ``,`` (or a tab), found from the header line; fields quoted
with ``"`` as usual. The first line names the columns, in English or Swedish, in any order
and case:

===============================  ========  ================================================
column                           needed    what it holds
===============================  ========  ================================================
``name`` / ``namn``              yes       the recipient's name, as printed on the letter
``address`` / ``adress``         yes       street address; may hold several lines (c/o,
                                           street, country...) in one quoted field
``postcode`` / ``postnummer``    no        printed with the city on the address's last line
``city`` / ``ort`` / ``postort`` no        (so both layouts work: one multi-line address,
                                           or address + postcode + city)
``area`` / ``område``            no        a district of the process, by its name (any case);
                                           an empty cell binds the code to no district
``language`` / ``språk``         no        ``sv`` or ``en`` (also ``svenska``, ``engelska``,
                                           ``swedish``, ``english``); empty: the default
===============================  ========  ================================================

Any other column is an error (a misspelt ``omrde`` must not silently issue codes bound to no
district). Blank lines, and rows whose every cell is empty (Excel leaves them), are skipped.
Two people with the same name at the same address are not an error: a father and a son may
share both, and each gets a letter.
"""

from __future__ import annotations

import codecs
import csv
import os
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

from pb.text import DIRECTION_CONTROLS

LANGUAGES = ("sv", "en")
MAX_NAME = 100
MAX_ADDRESS_LINE = 100
MAX_ADDRESS_LINES = 5
MAX_CELL = 500
MAX_ERRORS = 100

_COLUMNS: dict[str, str] = {
    "name": "name",
    "namn": "name",
    "address": "address",
    "adress": "address",
    "postcode": "postcode",
    "postal code": "postcode",
    "zip": "postcode",
    "postnummer": "postcode",
    "postnr": "postcode",
    "city": "city",
    "town": "city",
    "ort": "city",
    "postort": "city",
    "area": "area",
    "district": "area",
    "område": "area",
    "omrade": "area",
    "language": "language",
    "språk": "language",
    "sprak": "language",
}
_LANGUAGE_NAMES = {
    "sv": "sv",
    "svenska": "sv",
    "swedish": "sv",
    "en": "en",
    "engelska": "en",
    "english": "en",
}

# Every problem, by key: its text in English and Swedish, with {named} parameters.
_TEXTS: dict[str, dict[str, str]] = {
    "line": {"en": "line {line}: {text}", "sv": "rad {line}: {text}"},
    "empty_file": {"en": "the file is empty", "sv": "filen är tom"},
    "no_people": {
        "en": "the file has a header but no people",
        "sv": "filen har en rubrikrad men inga personer",
    },
    "encoding": {
        "en": "this is not UTF-8 text; save the file as 'CSV UTF-8'",
        "sv": "det här är inte UTF-8-text; spara filen som 'CSV UTF-8'",
    },
    "quotes": {
        "en": "broken quoting ({detail})",
        "sv": "trasiga citattecken ({detail})",
    },
    "unknown_column": {
        "en": "unknown column '{column}'; the columns are: {known}",
        "sv": "okänd kolumn '{column}'; kolumnerna är: {known}",
    },
    "duplicate_column": {
        "en": "the column '{column}' appears twice",
        "sv": "kolumnen '{column}' finns två gånger",
    },
    "missing_column": {
        "en": "the column '{column}' is missing",
        "sv": "kolumnen '{column}' saknas",
    },
    "no_areas": {
        "en": "there is an area column, but this vote has no areas",
        "sv": "det finns en områdeskolumn, men den här omröstningen har inga områden",
    },
    "field_count": {
        "en": "{count} fields, but the header has {expected}",
        "sv": "{count} fält, men rubrikraden har {expected}",
    },
    "empty": {"en": "the {column} is empty", "sv": "{column} är tom{t}"},
    "too_long": {
        "en": "the {column} is too long ({length} characters, at most {limit})",
        "sv": "{column} är för lång{t} ({length} tecken, högst {limit})",
    },
    "too_many_lines": {
        "en": "the address has {count} lines, at most {limit} fit the envelope window",
        "sv": "adressen har {count} rader, högst {limit} får plats i kuvertfönstret",
    },
    "line_break": {
        "en": "the {column} has a line break",
        "sv": "{column} har en radbrytning",
    },
    "control": {
        "en": "the {column} has a control character ({code})",
        "sv": "{column} har ett styrtecken ({code})",
    },
    "unprintable": {
        "en": "the {column} has characters the letter's font cannot print: {chars}",
        "sv": "{column} har tecken som brevets typsnitt inte kan skriva ut: {chars}",
    },
    "unknown_area": {
        "en": "unknown area '{area}'; the areas are: {known}",
        "sv": "okänt område '{area}'; områdena är: {known}",
    },
    "unknown_language": {
        "en": "unknown language '{language}'; use sv or en",
        "sv": "okänt språk '{language}'; använd sv eller en",
    },
    "more": {
        "en": "... and {count} more problems",
        "sv": "... och {count} problem till",
    },
}
# How each column is named inside a sentence ("the name is empty" / "namnet är tomt").
_COLUMN_WORDS: dict[str, dict[str, str]] = {
    "name": {"en": "name", "sv": "namnet"},
    "address": {"en": "address", "sv": "adressen"},
    "postcode": {"en": "postcode", "sv": "postnumret"},
    "city": {"en": "city", "sv": "orten"},
    "area": {"en": "area", "sv": "området"},
    "language": {"en": "language", "sv": "språket"},
}
# The columns as a header in each language would name them (area only for a vote with areas).
_HEADER_WORDS: dict[str, dict[str, str]] = {
    "name": {"en": "name", "sv": "namn"},
    "address": {"en": "address", "sv": "adress"},
    "postcode": {"en": "postcode", "sv": "postnummer"},
    "city": {"en": "city", "sv": "ort"},
    "area": {"en": "area", "sv": "område"},
    "language": {"en": "language", "sv": "språk"},
}


def _headers(lang: str, *, areas: bool) -> str:
    return ", ".join(w[lang] for c, w in _HEADER_WORDS.items() if areas or c != "area")


_SV_NEUTER = {"namnet", "postnumret", "området", "språket"}


class Person(NamedTuple):
    """One recipient: what the letter needs, nothing more. ``line`` is where the row starts
    in the file; ``address`` holds the lines under the name, postcode and city included."""

    line: int
    name: str
    address: tuple[str, ...]
    area: str | None
    language: str


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file; ``line`` is None for the file as a whole."""

    line: int | None
    key: str
    params: dict[str, str | int] = field(default_factory=dict)

    def message(self, language: str = "en") -> str:
        lang = language if language in LANGUAGES else "en"
        params = dict(self.params)
        column = params.get("column")
        if self.key == "missing_column" and isinstance(column, str):
            params["column"] = _HEADER_WORDS[column][lang]  # as a header names it: 'namn'
        elif (
            isinstance(column, str)
            and column in _COLUMN_WORDS
            and self.key
            not in (
                "unknown_column",
                "duplicate_column",  # the file's own words, quoted
            )
        ):
            params["column"] = _COLUMN_WORDS[column][lang]  # inside a sentence: 'namnet'
        if self.key == "unknown_column":
            params["known"] = _headers(lang, areas=bool(params.pop("areas", 1)))
        # Swedish adjectives agree with the noun: "namnet är tomt", "adressen är tom".
        params["t"] = "t" if params.get("column") in _SV_NEUTER else ""
        text = _TEXTS[self.key][lang].format(**params)
        if self.line is None:
            return text
        return _TEXTS["line"][lang].format(line=self.line, text=text)


class PeopleFileError(ValueError):
    """The file cannot be used: every problem found (up to ``MAX_ERRORS``), in line order,
    and how many there were in all. Nothing may be issued from such a file."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        super().__init__("; ".join(self.messages("en")))

    def messages(self, language: str = "en") -> list[str]:
        lines = [p.message(language) for p in self.problems]
        if self.total > len(self.problems):
            more = Problem(None, "more", {"count": self.total - len(self.problems)})
            lines.append(more.message(language))
        return lines


Source = str | os.PathLike[str] | IO[bytes]


@dataclass(frozen=True)
class People:
    """A checked file of people: ``count`` of them, in ``languages`` (check that the letters
    have texts for each before issuing); iterating reads the file again and yields them in
    file order. Made only by ``read_people``."""

    source: Source
    count: int
    languages: frozenset[str]
    _options: _Options

    def __iter__(self) -> Iterator[Person]:
        collector = _Collector()
        for person in _scan(self.source, self._options, collector):
            if collector.total:
                break
            yield person
        if collector.total:  # the file changed between the two readings
            raise PeopleFileError(collector.problems, collector.total)


@dataclass(frozen=True)
class _Options:
    areas: dict[str, str] | None
    default_language: str
    unprintable: Callable[[str], str] | None


def read_people(
    source: Source,
    *,
    areas: Iterable[str] | None = None,
    default_language: str = "sv",
    unprintable: Callable[[str], str] | None = None,
) -> People:
    """Check the whole file and return it, ready to be read again person by person.

    ``source`` is a path or a seekable binary stream (an upload's stream); it is read, never
    copied. ``areas`` are the names of the process's districts (None or empty: it has none).
    ``unprintable(text)`` returns the characters of ``text`` the letters cannot print
    (``pb.voting.printing.unprintable``), so that a name the font lacks is found here rather
    than as empty boxes on a letter. Raises ``PeopleFileError`` with every problem found.
    """
    if default_language not in LANGUAGES:
        raise ValueError(f"default_language must be one of {LANGUAGES}")
    known = {_fold(a): a for a in areas or ()}
    options = _Options(known or None, default_language, unprintable)
    collector = _Collector()
    count = 0
    languages: set[str] = set()
    for person in _scan(source, options, collector):
        count += 1
        languages.add(person.language)
    if not collector.total and count == 0:
        collector.add(Problem(None, "no_people"))
    if collector.total:
        raise PeopleFileError(collector.problems, collector.total)
    return People(source, count, frozenset(languages), options)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.total = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.problems) < MAX_ERRORS:
            self.problems.append(problem)


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def _open(source: Source) -> tuple[IO[bytes], bool]:
    if isinstance(source, str | os.PathLike):
        return Path(source).open("rb"), True
    source.seek(0)
    return source, False


def _scan(source: Source, options: _Options, out: _Collector) -> Iterator[Person]:
    """Read the file once, yielding each good person and reporting each problem to ``out``."""
    raw, owned = _open(source)
    try:
        yield from _rows(_Lines(raw, out), options, out)
    finally:
        if owned:
            raw.close()


def _rows(lines: _Lines, options: _Options, out: _Collector) -> Iterator[Person]:
    header_line = next(lines, None)
    if header_line is None or not header_line.strip():
        out.add(Problem(None, "empty_file"))
        return
    delimiter = max(";,\t", key=header_line.count)
    reader = csv.reader(_chain(header_line, lines), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
        columns = _header(header, options, out)
        start = reader.line_num + 1
        for row in reader:
            if columns is not None and any(cell.strip() for cell in row):
                person = _person(start, row, columns, options, out)
                if person is not None:
                    yield person
            start = reader.line_num + 1
    except csv.Error as error:
        out.add(Problem(reader.line_num, "quotes", {"detail": str(error)}))


class _Lines:
    """The file's lines decoded one by one, so that a line that is not UTF-8 is reported
    with its own number (the byte order mark of the first is dropped)."""

    def __init__(self, raw: IO[bytes], out: _Collector) -> None:
        self._raw = raw
        self._out = out
        self.number = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        data = self._raw.readline()
        if not data:
            raise StopIteration
        self.number += 1
        if self.number == 1 and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self._out.add(Problem(self.number, "encoding"))
            return data.decode("utf-8", errors="replace")


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _header(header: list[str], options: _Options, out: _Collector) -> list[str] | None:
    """The canonical column names, or None when the header is unusable (reported)."""
    columns: list[str] = []
    before = out.total
    for cell in header:
        name = _COLUMNS.get(_fold(cell))
        if name is None:
            out.add(Problem(1, "unknown_column", {"column": cell.strip()[:60],
                                                   "areas": int(options.areas is not None)}))  # fmt: skip
        elif name in columns:
            out.add(Problem(1, "duplicate_column", {"column": cell.strip()}))
        columns.append(name or "")
    for needed in ("name", "address"):
        if needed not in columns:
            out.add(Problem(1, "missing_column", {"column": needed}))
    if "area" in columns and options.areas is None:
        out.add(Problem(1, "no_areas"))
    return columns if out.total == before else None


def _person(
    line: int, row: list[str], columns: list[str], options: _Options, out: _Collector
) -> Person | None:
    if len(row) != len(columns):
        out.add(Problem(line, "field_count", {"count": len(row), "expected": len(columns)}))
        return None
    cells = dict(zip(columns, row, strict=True))
    before = out.total

    name = _clean(line, "name", cells["name"], MAX_NAME, options, out, multiline=False)
    address: list[str] = []
    raw_address = _clean(line, "address", cells["address"], MAX_CELL, options, out, multiline=True)
    for part in raw_address.splitlines():
        part = " ".join(part.split())
        if len(part) > MAX_ADDRESS_LINE:
            length: dict[str, str | int] = {
                "column": "address",
                "length": len(part),
                "limit": MAX_ADDRESS_LINE,
            }
            out.add(Problem(line, "too_long", length))
        if part:
            address.append(part)
    if cells["address"].strip() and not address:
        out.add(Problem(line, "empty", {"column": "address"}))
    postcode = _clean(line, "postcode", cells.get("postcode", ""), 20, options, out, False)
    city = _clean(line, "city", cells.get("city", ""), MAX_ADDRESS_LINE, options, out, False)
    last = " ".join(p for p in (postcode, city) if p)
    if last:
        address.append(last)
    if len(address) > MAX_ADDRESS_LINES:
        lines: dict[str, str | int] = {"count": len(address), "limit": MAX_ADDRESS_LINES}
        out.add(Problem(line, "too_many_lines", lines))

    area: str | None = None
    area_cell = cells.get("area", "").strip()
    if area_cell and options.areas is not None:
        area = options.areas.get(_fold(area_cell))
        if area is None:
            known = ", ".join(sorted(options.areas.values()))
            out.add(Problem(line, "unknown_area", {"area": area_cell[:60], "known": known}))

    language = options.default_language
    language_cell = cells.get("language", "").strip()
    if language_cell:
        found = _LANGUAGE_NAMES.get(language_cell.casefold())
        if found is None:
            out.add(Problem(line, "unknown_language", {"language": language_cell[:20]}))
        else:
            language = found

    if out.total != before:
        return None
    return Person(line, name, tuple(address), area, language)


def _clean(
    line: int,
    column: str,
    value: str,
    limit: int,
    options: _Options,
    out: _Collector,
    multiline: bool,
) -> str:
    """The cell, trimmed and NFC-normalised; empty, too long, control characters and
    unprintable characters are reported."""
    value = unicodedata.normalize("NFC", value.strip())
    if column in ("name", "address") and not value:
        out.add(Problem(line, "empty", {"column": column}))
        return value
    if len(value) > limit:
        out.add(Problem(line, "too_long", {"column": column, "length": len(value), "limit": limit}))
        return value
    for char in value:
        if char in "\r\n":
            if not multiline:
                out.add(Problem(line, "line_break", {"column": column}))
                return value
        elif char in DIRECTION_CONTROLS or unicodedata.category(char) in ("Cc", "Cs", "Co"):
            out.add(Problem(line, "control", {"column": column, "code": f"U+{ord(char):04X}"}))
            return value
    if options.unprintable is not None and value:
        missing = options.unprintable(value)
        if missing:
            chars = " ".join(dict.fromkeys(missing))[:40]
            out.add(Problem(line, "unprintable", {"column": column, "chars": chars}))
    return value
