"""Projects numbered 2 and 10 tie. "By project number" (project-number) funds 2, as the
contract says; "By project code in alphabetical order" (lexicographic) funds 10 and says so.
The recount instructions on the results page reproduce the count, with pb tally and with
pabutools. The easy sentences say "1 more vote" / "1 röst till"."""

from __future__ import annotations

import html
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.results.conftest import ballot, cast_all, close_voting, make_vote

TIED = [("2", "Två", 50_000, None), ("10", "Tio", 50_000, None)]


def _published(app: Any, make_process: Any, runner: Any, tie_break: str, slug: str) -> Any:
    from pb.results.cli import publish_command

    vote = make_vote(app, make_process, slug=slug, budget=50_000, tie_break=tie_break,
                     projects=TIED)  # fmt: skip
    cast_all(app, vote, [ballot("2"), ballot("10")])
    close_voting(app, vote)
    r = runner.invoke(publish_command, [vote.slug])
    assert r.exit_code == 0, r.output
    return vote


def test_by_project_number_funds_2_before_10(app: Any, make_process: Any, runner: Any) -> None:
    vote = _published(app, make_process, runner, "project-number", "nummer")
    client = app.test_client()
    en = client.get(f"/p/{vote.slug}/results?lang=en").text
    assert "Två won" in en and "Tio did not win" in en
    assert "A tie was settled by the project number, the lower number first." in en
    sv = client.get(f"/p/{vote.slug}/results?lang=sv").text
    assert "Lika röstetal avgjordes av projektnumret, lägre nummer först." in sv
    assert "Två vann" in sv and "Tio vann inte" in sv
    process_page = client.get(f"/p/{vote.slug}?lang=en").text
    assert "By project number" in process_page
    assert "the one with the lower project number comes first" in process_page


def test_alphabetical_order_is_named_honestly(app: Any, make_process: Any, runner: Any) -> None:
    vote = _published(app, make_process, runner, "lexicographic", "bokstav")
    client = app.test_client()
    en = client.get(f"/p/{vote.slug}/results?lang=en").text
    assert "Tio won" in en and "Två did not win" in en
    assert "by the project code in alphabetical order, character by character, so 10 " in en
    assert "the lower number first" not in en
    sv = client.get(f"/p/{vote.slug}/results?lang=sv").text
    assert "Lika röstetal avgjordes av projektkoden i bokstavsordning" in sv
    page = client.get(f"/p/{vote.slug}?lang=sv").text
    assert "Efter projektkod i bokstavsordning" in page and "så 10 kommer före 2" in page
    assert "Efter projektnummer" not in page
    assert 'id="pabutools-tie-break"' not in en  # pabutools' own default is this order


def _recount_command(page: str) -> list[str]:
    found = re.search(r"<code>(pb tally FILE\.pb [^<]*)</code>", page)
    assert found, "no pb tally command on the page"
    return shlex.split(html.unescape(found.group(1)))


@pytest.mark.parametrize(("tie_break", "winner"), [("project-number", "2"),
                                                   ("lexicographic", "10")])  # fmt: skip
def test_the_recount_command_on_the_page_reproduces_the_count(
    app: Any, make_process: Any, runner: Any, tmp_path: Path, tie_break: str, winner: str
) -> None:
    from click.testing import CliRunner

    from pb.tally.cli import tally_command

    vote = _published(app, make_process, runner, tie_break, "omrakning")
    client = app.test_client()
    page = client.get(f"/p/{vote.slug}/results?lang=en").text
    path = tmp_path / "rosta.pb"
    path.write_bytes(client.get(f"/p/{vote.slug}/results/ballots.pb").data)
    command = _recount_command(page)
    assert command[:3] == ["pb", "tally", "FILE.pb"] and f"--tie-break={tie_break}" in (
        "=".join(command[i : i + 2]) for i in range(len(command))
    )
    r = CliRunner().invoke(tally_command, [str(path), *command[3:]])
    assert r.exit_code == 0, r.output
    assert f"selected (1): {winner}\n" in r.output


def test_the_pabutools_lines_on_the_page_reproduce_the_count(
    app: Any, make_process: Any, runner: Any, tmp_path: Path
) -> None:
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import greedy_utilitarian_welfare

    vote = _published(app, make_process, runner, "project-number", "pabutools")
    client = app.test_client()
    page = client.get(f"/p/{vote.slug}/results?lang=en").text
    assert "To settle it by project number, as this count did" in page
    block = re.search(r'<pre id="pabutools-tie-break"><code>(.*?)</code></pre>', page, re.S)
    assert block
    path = tmp_path / "rosta.pb"
    path.write_bytes(client.get(f"/p/{vote.slug}/results/ballots.pb").data)
    names: dict[str, Any] = {}
    exec(html.unescape(block.group(1)), names)  # the lines exactly as the page shows them
    instance, profile = parse_pabulib(str(path))
    by_number = names["by_number"]
    greedy = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat,
                                        tie_breaking=by_number)  # fmt: skip
    assert [p.name for p in greedy] == ["2"]
    # Without it pabutools takes the codes as text: 10 wins.
    plain = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    assert [p.name for p in plain] == ["10"]


@pytest.mark.parametrize(
    ("votes", "en", "sv"),
    [
        (1, "With 1 more vote it would have won.", "Med 1 röst till hade det vunnit."),
        (2, "With 2 more votes it would have won.", "Med 2 röster till hade det vunnit."),
    ],
)
def test_more_votes_singular_and_plural(app: Any, votes: int, en: str, sv: str) -> None:
    from pb.results.present import summary

    exp = {"code": "greedy_not_funded", "data": {"remaining": 0, "cost": 50},
           "parts": [{"code": "extra_votes", "data": {"votes": votes}}]}  # fmt: skip
    with app.test_request_context("/?lang=en"):
        assert summary("Tio", False, exp, False).endswith(en)
    with app.test_request_context("/?lang=sv"):
        assert summary("Tio", False, exp, False).endswith(sv)


@pytest.mark.parametrize(
    ("points", "en", "sv"),
    [
        (1, "With 1 more point it would have won.", "Med 1 poäng till hade det vunnit."),
        (2, "With 2 more points it would have won.", "Med 2 poäng till hade det vunnit."),
    ],
)
def test_more_points_singular_and_plural(app: Any, points: int, en: str, sv: str) -> None:
    from pb.results.present import summary

    exp = {"code": "greedy_not_funded", "data": {"remaining": 0, "cost": 50},
           "parts": [{"code": "extra_points", "data": {"votes": points}}]}  # fmt: skip
    with app.test_request_context("/?lang=en"):
        assert summary("Tio", False, exp, True).endswith(en)
    with app.test_request_context("/?lang=sv"):
        assert summary("Tio", False, exp, True).endswith(sv)


def test_the_published_explanation_says_1_vote(app: Any, make_process: Any, runner: Any) -> None:
    """Tio lost the tie by its number: 1 more vote would have won it, in both languages."""
    vote = _published(app, make_process, runner, "project-number", "en-rost")
    client = app.test_client()
    en = client.get(f"/p/{vote.slug}/results?lang=en").text
    assert "With 1 more vote it would have won." in en
    assert "1 more vote would have funded it." in en and "1 more votes" not in en
    sv = client.get(f"/p/{vote.slug}/results?lang=sv").text
    assert "Med 1 röst till hade det vunnit." in sv
    assert "1 röst till hade gett det finansiering." in sv and "1 fler röster" not in sv


@pytest.mark.parametrize(
    ("threshold", "en", "sv"),
    [
        (1, "Ett did not win: it needed at least 1 vote and got 0.",
         "Ett vann inte: det behövde minst 1 röst och fick 0."),
        (3, "Ett did not win: it needed at least 3 votes and got 2.",
         "Ett vann inte: det behövde minst 3 röster och fick 2."),
    ],
)  # fmt: skip
def test_the_minimum_votes_singular_and_plural(app: Any, threshold: int, en: str, sv: str) -> None:
    from pb.results.present import summary

    exp = {"code": "below_threshold", "data": {"threshold": threshold, "score": threshold - 1}}
    with app.test_request_context("/?lang=en"):
        assert summary("Ett", False, exp, False) == en
    with app.test_request_context("/?lang=sv"):
        assert summary("Ett", False, exp, False) == sv
