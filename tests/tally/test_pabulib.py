"""pabulib I/O: every shared file parses, round-trips, and agrees with its PROJECTS columns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pb.tally import Ballot, Election, PabulibError, dumps, load, loads

from .conftest import SHARED, load_shared, needs_file


@pytest.mark.parametrize("name", SHARED)
def test_shared_file_columns_agree_with_ballots(name: str) -> None:
    needs_file(name)
    election = load_shared(name)
    votes = election.votes()
    scores = election.scores()
    assert len(election.projects) == int(election.meta_value("num_projects") or 0)
    assert len(election.ballots) == int(election.meta_value("num_votes") or 0)
    for project in election.projects:
        if project.get("votes") is not None:
            assert int(project.get("votes") or 0) == votes[project.id], project.id
        if project.get("score") is not None:
            assert int(project.get("score") or 0) == scores[project.id], project.id


@pytest.mark.parametrize("name", SHARED)
def test_shared_file_round_trip(name: str) -> None:
    needs_file(name)
    election = load_shared(name)
    again = loads(dumps(election))
    assert again == election
    assert loads(dumps(again)) == election


def test_budget_with_decimals_is_exact() -> None:
    needs_file("Poland_Warszawa_2019_Praga-Poludnie.pb")
    election = load_shared("Poland_Warszawa_2019_Praga-Poludnie.pb")
    assert election.budget == Decimal("921012.06")
    assert election.amount_scale() == 100


SMALL = (
    "META\nkey;value\ndescription;test\nnum_projects;2\nnum_votes;2\nbudget;100.5\n"
    "vote_type;cumulative\nrule;greedy\n"
    'comment;"#1: a ""quoted"" note; with a semicolon"\n'
    'PROJECTS\nproject_id;cost;name\nA/1;60;"Park; with bench"\n2;40.5;Road\n'
    "VOTES\nvoter_id;vote;points;age\nv1;A/1,2;3,2;30\nv2;2;5;None\n"
)


def test_parse_small_cumulative_with_quotes_crlf_and_bom() -> None:
    for text in (SMALL, SMALL.replace("\n", "\r\n"), "\ufeff" + SMALL.replace("\n", "\r\n")):
        election = loads(text)
        assert [p.id for p in election.projects] == ["A/1", "2"]
        assert election.projects[0].name == "Park; with bench"
        assert election.projects[1].cost == Decimal("40.5")
        assert election.budget == Decimal("100.5")
        assert election.meta_value("comment") == '#1: a "quoted" note; with a semicolon'
        assert election.ballots[0] == Ballot(("A/1", "2"), (3, 2), "v1", (("age", "30"),))
        assert election.ballots[1].extra == ()
        assert election.scores() == {"A/1": 3, "2": 7}
        again = loads(dumps(election))  # the writer adds the votes and score columns
        assert again.ballots == election.ballots
        assert again.meta == election.meta
        assert [p.get("score") for p in again.projects] == ["3", "7"]
        assert [(p.id, p.cost, p.name) for p in again.projects] == [
            (p.id, p.cost, p.name) for p in election.projects
        ]
        assert loads(dumps(again)) == again


def test_section_titles_are_case_insensitive_and_blank_lines_skipped() -> None:
    text = SMALL.replace("PROJECTS\n", "\n projects \n\n").replace("META", "meta")
    assert [p.id for p in loads(text).projects] == ["A/1", "2"]


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("budget;100.5", "budget;lots"), 6, "budget is not a number"),
        (("A/1;60;", "A/1;-60;"), 12, "negative"),
        (("v2;2;5;None", "v2;9;5;None"), 17, "unknown project '9'"),
        (("v2;2;5;None", "v1;2;5;None"), 17, "appears twice"),
        (("v1;A/1,2;3,2;30", "v1;A/1,2;3;30"), 16, "2 projects but 1 points"),
        (("v1;A/1,2;3,2;30", "v1;A/1,2;3,x;30"), 16, "not a number"),
        (("2;40.5;Road", "2;40.5"), 13, "2 fields where the header has 3"),
        (("2;40.5;Road", "A/1;40.5;Road"), 13, "listed twice"),
        (("num_votes;2", "num_votes;3"), 5, "num_votes is 3 but the file has 2"),
        (("vote_type;cumulative", "vote_type;scoring"), 7, "unsupported vote_type"),
        (("PROJECTS\n", "VOTES\n"), 10, "VOTES found where PROJECTS was expected"),
        (("project_id;cost;name", "id;cost;name"), 11, "must start with 'project_id'"),
        (('Park; with bench"', "Park; with bench"), 12, "bad CSV quoting"),
    ],
)
def test_malformed_input_names_line_and_problem(
    change: tuple[str, str], line: int, words: str
) -> None:
    text = SMALL.replace(*change, 1)
    with pytest.raises(PabulibError) as info:
        loads(text, "x.pb")
    assert info.value.line == line, str(info.value)
    assert words in str(info.value)
    assert str(info.value).startswith(f"x.pb: line {line}: ")


def test_missing_section_and_unreadable_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PabulibError, match="missing section VOTES"):
        loads(SMALL.split("VOTES")[0])
    with pytest.raises(PabulibError, match="cannot read"):
        load(tmp_path / "absent.pb")
    bad = tmp_path / "bad.pb"
    bad.write_bytes(SMALL.encode() + b"v3;2;1;\xff\n")
    with pytest.raises(PabulibError, match="line 18: not valid UTF-8"):
        load(bad)


def test_unterminated_quote_is_an_error_not_a_traceback() -> None:
    with pytest.raises(PabulibError, match="line"):
        loads(SMALL.replace('"Park; with bench"', '"Park; with bench'))


def test_write_election_built_in_python() -> None:
    election = Election.build(
        {"a": 10, "b": "20.25"}, budget=30, ballots=[["a"], ["a", "b"]], max_projects=2
    )
    text = dumps(election)
    assert "votes" in text.splitlines()[text.splitlines().index("PROJECTS") + 1]
    again = loads(text)
    assert [(p.id, p.cost) for p in again.projects] == [(p.id, p.cost) for p in election.projects]
    assert again.project("a").get("votes") == "2"
    assert [b.projects for b in again.ballots] == [b.projects for b in election.ballots]
    assert again.rules == election.rules
    assert again.budget == election.budget
