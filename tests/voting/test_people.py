"""The CSV of people for voting letters: layouts that work, and every kind of bad row found
with its line number, in Swedish and English, before anything is printed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pb.voting import people as people_module
from pb.voting import printing
from pb.voting.people import PeopleFileError, Person, read_people
from pb.voting.printing import unprintable

AREAS = ["Norr", "Söder", "Centrum"]


def write(tmp_path: Path, text: str, *, bom: bool = False, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def problems(path: Path | io.BytesIO, language: str = "en", **kwargs: object) -> list[str]:
    with pytest.raises(PeopleFileError) as caught:
        read_people(path, **kwargs)  # type: ignore[arg-type]
    return caught.value.messages(language)


def test_swedish_excel_file_with_bom_semicolons_and_multiline_address(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Namn;Adress;Postnummer;Ort;Område;Språk\r\n"
        'Åsa Öberg;"c/o Lind\r\nStorgatan 1";123 45;Dalby;norr;\r\n'
        "Ольга Петрова;Skolgatan 2;123 46;Dalby;;en\r\n"
        ";;;;;\r\n"
        "\r\n"
        "Łukasz Żółkiewski;Ringvägen 3;;;CENTRUM;Engelska\r\n",
        bom=True,
    )
    people = read_people(path, areas=AREAS)
    assert people.count == 3
    assert people.languages == {"sv", "en"}
    expected = [
        Person(2, "Åsa Öberg", ("c/o Lind", "Storgatan 1", "123 45 Dalby"), "Norr", "sv"),
        Person(4, "Ольга Петрова", ("Skolgatan 2", "123 46 Dalby"), None, "en"),
        Person(7, "Łukasz Żółkiewski", ("Ringvägen 3",), "Centrum", "en"),
    ]
    assert list(people) == expected
    assert list(people) == expected  # the file is read again, in the same order


def test_comma_file_with_english_header_and_only_the_needed_columns(tmp_path: Path) -> None:
    path = write(tmp_path, 'name,address\nAnna Berg,"Storgatan 1\n247 31 Dalby"\n')
    people = read_people(path, default_language="en")
    assert people.languages == {"en"}
    assert list(people) == [Person(2, "Anna Berg", ("Storgatan 1", "247 31 Dalby"), None, "en")]


def test_reads_an_uploaded_stream_and_leaves_it_open() -> None:
    stream = io.BytesIO(b"namn;adress\nAnna;Storgatan 1\nBo;Storgatan 2\n")
    stream.seek(20)
    people = read_people(stream)
    assert [p.name for p in people] == ["Anna", "Bo"]
    assert not stream.closed


@pytest.mark.parametrize(
    ("row", "english", "swedish"),
    [
        (";Storgatan 1;;", "line 3: the name is empty", "rad 3: namnet är tomt"),
        ("Anna;;;", "line 3: the address is empty", "rad 3: adressen är tom"),
        (
            "Anna;Storgatan 1;Väster;",
            "line 3: unknown area 'Väster'; the areas are: Centrum, Norr, Söder",
            "rad 3: okänt område 'Väster'; områdena är: Centrum, Norr, Söder",
        ),
        (
            "Anna;Storgatan 1;;fr",
            "line 3: unknown language 'fr'; use sv or en",
            "rad 3: okänt språk 'fr'; använd sv eller en",
        ),
        (
            "Anna;Storgatan 1;Norr",
            "line 3: 3 fields, but the header has 4",
            "rad 3: 3 fält, men rubrikraden har 4",
        ),
        (
            "A" * 101 + ";Storgatan 1;;",
            "line 3: the name is too long (101 characters, at most 100)",
            "rad 3: namnet är för långt (101 tecken, högst 100)",
        ),
        (
            '"Anna\nBerg";Storgatan 1;;',
            "line 3: the name has a line break",
            "rad 3: namnet har en radbrytning",
        ),
        (
            "Anna\x07;Storgatan 1;;",
            "line 3: the name has a control character (U+0007)",
            "rad 3: namnet har ett styrtecken (U+0007)",
        ),
        (
            "Anna\u202eBerg;Storgatan 1;;",
            "line 3: the name has a control character (U+202E)",
            "rad 3: namnet har ett styrtecken (U+202E)",
        ),
        (
            'Anna;"a\nb\nc\nd\ne\nf";;',
            "line 3: the address has 6 lines, at most 5 fit the envelope window",
            "rad 3: adressen har 6 rader, högst 5 får plats i kuvertfönstret",
        ),
        (
            "山田太郎;Storgatan 1;;",
            "line 3: the name has characters the letter's font cannot print: 山 田 太 郎",
            "rad 3: namnet har tecken som brevets typsnitt inte kan skriva ut: 山 田 太 郎",
        ),
    ],
)
def test_each_kind_of_bad_row_is_named_with_its_line(
    tmp_path: Path, row: str, english: str, swedish: str
) -> None:
    if "font" in english and not (printing.FONT_DIR / "DejaVuSans.ttf").is_file():
        pytest.skip("the DejaVu fonts are missing (apt-get install fonts-dejavu-core)")
    path = write(tmp_path, f"namn;adress;område;språk\nGood Person;Storgatan 9;;\n{row}\n")
    assert problems(path, areas=AREAS, unprintable=unprintable) == [english]
    assert problems(path, "sv", areas=AREAS, unprintable=unprintable) == [swedish]


def test_all_problems_are_found_in_line_order_with_multiline_records_counted(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "name;address;area\n"
        ';"Storgatan 1\nDalby";Norr\n'  # lines 2-3
        'Bo;"Storgatan 2\n\nDalby";Norr\n'  # lines 4-6, good
        "Cid;Storgatan 3;Nowhere\n"  # line 7
        "Dan;;\n",  # line 8
    )
    assert problems(path, areas=AREAS) == [
        "line 2: the name is empty",
        "line 7: unknown area 'Nowhere'; the areas are: Centrum, Norr, Söder",
        "line 8: the address is empty",
    ]


def test_problems_are_capped_and_counted(tmp_path: Path) -> None:
    rows = "".join(";Storgatan 1\n" for _ in range(people_module.MAX_ERRORS + 20))
    path = write(tmp_path, "name;address\n" + rows)
    with pytest.raises(PeopleFileError) as caught:
        read_people(path)
    error = caught.value
    assert error.total == people_module.MAX_ERRORS + 20
    assert len(error.problems) == people_module.MAX_ERRORS
    assert error.messages("en")[-1] == "... and 20 more problems"
    assert error.messages("sv")[-1] == "... och 20 problem till"


def test_a_line_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(b"namn;adress\nAnna;Storgatan 1\n" + "Örjan;Östra vägen 2\n".encode("cp1252"))
    assert problems(path) == ["line 3: this is not UTF-8 text; save the file as 'CSV UTF-8'"]
    assert problems(path, "sv") == [
        "rad 3: det här är inte UTF-8-text; spara filen som 'CSV UTF-8'"
    ]


def test_broken_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, 'name,address\nAnna,"Storgatan "1" B"\n')
    [message] = problems(path)
    assert message.startswith("line 2: broken quoting (")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "namn;adress;telefon",
            "line 1: unknown column 'telefon'; the columns are: "
            "name, address, postcode, city, area, language",
        ),
        ("namn;adress;name", "line 1: the column 'name' appears twice"),
        ("namn;ort", "line 1: the column 'address' is missing"),
    ],
)
def test_wrong_header(tmp_path: Path, header: str, expected: str) -> None:
    path = write(tmp_path, f"{header}\nAnna;Storgatan 1;x\n")
    assert problems(path, areas=AREAS) == [expected]


def test_unknown_column_in_swedish_lists_the_swedish_names(tmp_path: Path) -> None:
    path = write(tmp_path, "namn;adress;telefon\nAnna;Storgatan 1;x\n")
    assert problems(path, "sv", areas=AREAS) == [
        "rad 1: okänd kolumn 'telefon'; kolumnerna är: namn, adress, postnummer, ort, område, språk"
    ]
    # A vote without areas has no area column to offer (probe3 F11).
    assert problems(path, "sv") == [
        "rad 1: okänd kolumn 'telefon'; kolumnerna är: namn, adress, postnummer, ort, språk"
    ]
    assert problems(path, "en") == [
        "line 1: unknown column 'telefon'; the columns are: name, address, postcode, city, language"
    ]


def test_missing_columns_are_named_as_the_header_names_them(tmp_path: Path) -> None:
    """Not "kolumnen 'namnet' saknas": the column is called namn (probe3 F11)."""
    path = write(tmp_path, "telefon\nx\n")
    sv = problems(path, "sv")
    assert "rad 1: kolumnen 'namn' saknas" in sv and "rad 1: kolumnen 'adress' saknas" in sv
    en = problems(path, "en")
    assert "line 1: the column 'name' is missing" in en
    assert "line 1: the column 'address' is missing" in en
    path = write(tmp_path, "namn;adress;name\nAnna;Storgatan 1;x\n")
    assert problems(path, "sv") == ["rad 1: kolumnen 'name' finns två gånger"]


def test_area_column_for_a_vote_without_areas(tmp_path: Path) -> None:
    path = write(tmp_path, "name;address;area\nAnna;Storgatan 1;Norr\n")
    assert problems(path) == ["line 1: there is an area column, but this vote has no areas"]


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    assert problems(write(tmp_path, "", name="a.csv")) == ["the file is empty"]
    assert problems(write(tmp_path, "\ufeff", name="b.csv")) == ["the file is empty"]
    assert problems(write(tmp_path, "namn;adress\n;;\n", name="c.csv"), "sv") == [
        "filen har en rubrikrad men inga personer"
    ]


def test_a_file_changed_between_the_readings_stops_the_second(tmp_path: Path) -> None:
    path = write(tmp_path, "name;address\nAnna;Storgatan 1\nBo;Storgatan 2\n")
    people = read_people(path)
    path.write_text("name;address\nAnna;Storgatan 1\n;Storgatan 2\n", encoding="utf-8")
    seen: list[str] = []
    with pytest.raises(PeopleFileError) as caught:
        for person in people:
            seen.append(person.name)
    assert seen == ["Anna"]
    assert caught.value.messages() == ["line 3: the name is empty"]


def test_nothing_is_printed_from_a_file_with_errors(tmp_path: Path) -> None:
    """The order the issuing code follows: the whole file is checked before the first
    letter, so a bad last row leaves no PDF (and no code) behind."""
    from pb.voting.printing import letters

    rows = "".join(f"Person {i};Storgatan {i}\n" for i in range(50)) + ";Storgatan 99\n"
    path = write(tmp_path, "name;address\n" + rows)
    out = tmp_path / "letters.pdf"
    issued: list[str] = []

    def codes(people: object) -> object:
        for person in people:  # type: ignore[attr-defined]
            issued.append(person.name)
            yield person, "CODE"

    with pytest.raises(PeopleFileError) as caught:
        people = read_people(path)
        letters(out, codes(people), {}, "https://x/{code}")  # type: ignore[arg-type]
    assert caught.value.messages() == ["line 52: the name is empty"]
    assert not out.exists()
    assert issued == []


def test_bad_default_language_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="default_language"):
        read_people(write(tmp_path, "name;address\nA;B\n"), default_language="fi")
