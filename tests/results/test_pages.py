"""The results page, the admin preview and publishing, downloads and their hash, the receipt
note and the API: no figure before close, the snapshot afterwards, bad input refused."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import sqlalchemy as sa

from tests.conftest import login
from tests.results.conftest import ballot, cast_all, close_voting, make_vote


def _voted(app: Any, make_process: Any, **fields: Any) -> tuple[Any, list[str]]:
    vote = make_vote(app, make_process, **fields)
    receipts = cast_all(app, vote, [ballot("p1", "p2"), ballot("p1", "p3"),
                                    ballot("p1", "p2", "p4"), ballot("p1", "p3"),
                                    ballot("p2", "p4", "p5")])  # fmt: skip
    return vote, receipts


def _without_tokens(html: str) -> str:
    """The page without its CSRF tokens (they change with every request)."""
    return re.sub(r"<input[^>]*csrf_token[^>]*>", "", html)


def test_no_figure_for_anyone_before_voting_closes(app: Any, make_process: Any) -> None:
    vote, _ = _voted(app, make_process)
    client = app.test_client()
    page = client.get(f"/p/{vote.slug}/results?lang=en")
    assert page.status_code == 200 and "counted after voting has closed" in page.text
    assert "Skatepark" not in page.text
    assert client.get(f"/api/v1/processes/{vote.slug}/results").status_code == 404
    assert client.get(f"/p/{vote.slug}/results/ballots.pb").status_code == 404
    login(client, "admin")
    preview = client.get(f"/p/{vote.slug}/results/preview?lang=en")
    assert preview.status_code == 403 and "only after voting has closed" in preview.text
    refused = client.post(f"/p/{vote.slug}/results/publish?lang=en", follow_redirects=True)
    assert "only after voting has closed" in refused.text and "Skatepark" not in refused.text


def test_preview_is_for_admins_then_publish_then_public_page(
    app: Any, make_process: Any, db: Any
) -> None:
    from pb.results.models import ResultSnapshot

    vote, _receipts = _voted(app, make_process)
    close_voting(app, vote)
    anon = app.test_client()
    assert "being counted" in anon.get(f"/p/{vote.slug}/results?lang=en").text
    assert anon.get(f"/p/{vote.slug}/results/preview").status_code in (302, 303, 401, 403)
    official = app.test_client()
    login(official, "official")
    assert official.get(f"/p/{vote.slug}/results/preview").status_code == 403
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get(f"/p/{vote.slug}/results/preview?lang=en")
    assert page.status_code == 200 and "5 ballots are still held" in page.text
    assert admin.get(f"/p/{vote.slug}/results/preview").status_code == 200  # GET changed nothing
    assert admin.post(f"/p/{vote.slug}/results/mix").status_code == 303
    page = admin.get(f"/p/{vote.slug}/results/preview?lang=en")
    assert page.status_code == 200 and "Preview: only admins see this" in page.text
    assert "Skatepark" in page.text and db.get(ResultSnapshot, vote.process_id) is None
    assert "Skatepark" not in anon.get(f"/p/{vote.slug}/results?lang=en").text
    # The process page leads the admin to the preview, and nobody to results not yet published.
    assert f'href="/p/{vote.slug}/results/preview"' in admin.get(f"/p/{vote.slug}").text
    assert f"/p/{vote.slug}/results" not in anon.get(f"/p/{vote.slug}").text
    r = admin.post(f"/p/{vote.slug}/results/publish")
    assert r.status_code == 303
    # Once published, the process page leads everyone to the results.
    assert f'href="/p/{vote.slug}/results"' in anon.get(f"/p/{vote.slug}?lang=en").text
    again = admin.post(f"/p/{vote.slug}/results/publish?lang=en", follow_redirects=True)
    assert "already published" in again.text
    page = anon.get(f"/p/{vote.slug}/results?lang=en")
    text = _without_tokens(page.text)
    assert page.status_code == 200
    assert "The committee builds the winners." in text  # the decision statement
    assert "4 projects won." in text
    assert "Fritidsgård did not win: when its turn came only SEK\u00a090,000 was left" in text
    assert "Skatepark won" in text and "Exact figures:" in text
    assert '<svg viewBox="0 0 400' in text and 'id="votes-table-all"' in text
    assert "budget line" in text
    unused = text.split('id="budget-table-all"')[1].split("</table>")[0]
    assert '<td>Not used</td><td class="num">SEK\u00a010,000</td>' in unused
    sv = anon.get(f"/p/{vote.slug}/results?lang=sv").text
    assert "Fritidsgård vann inte" in sv and "Inte finansierat" in sv
    # Changing a ballot after publishing changes nothing shown.
    from pb.voting.models import Ballot

    for b in db.scalars(sa.select(Ballot)).all():
        b.choices = [{"area": None, "projects": ["p3"], "points": None}]
    db.commit()
    assert _without_tokens(anon.get(f"/p/{vote.slug}/results?lang=en").text) == text


def test_downloads_match_their_hash_and_a_changed_file_is_refused(
    app: Any, make_process: Any, runner: Any, db: Any
) -> None:
    from pb.results.cli import publish_command
    from pb.results.models import ResultFile
    from pb.tally import loads

    vote, _ = _voted(app, make_process)
    close_voting(app, vote)
    assert runner.invoke(publish_command, [vote.slug]).exit_code == 0
    client = app.test_client()
    page = client.get(f"/p/{vote.slug}/results?lang=en").text
    for kind in ("pb", "csv", "json"):
        r = client.get(f"/p/{vote.slug}/results/ballots.{kind}")
        assert r.status_code == 200
        sha = hashlib.sha256(r.data).hexdigest()
        assert sha == r.headers["X-Content-SHA256"]
        assert re.search(rf'id="sha-all-{kind}">{sha}<', page)
    pb_text = client.get(f"/p/{vote.slug}/results/ballots.pb").text
    election = loads(pb_text)
    assert sorted(b.voter_id for b in election.ballots) == ["1", "2", "3", "4", "5"]
    assert election.meta_value("rule") == "greedy" and election.budget == 300_000
    doc = json.loads(client.get(f"/p/{vote.slug}/results/ballots.json").data)
    assert len(doc["ballots"]) == 5
    assert client.get(f"/p/{vote.slug}/results/ballots.exe").status_code == 404
    assert client.get(f"/p/{vote.slug}/results/ballots.pb?area=mars").status_code == 404
    row = db.scalar(sa.select(ResultFile).where(ResultFile.kind == "pb"))
    row.content = row.content.replace("\n1;", "\n1;p5,")
    db.commit()
    r = client.get(f"/p/{vote.slug}/results/ballots.pb?lang=en")
    assert r.status_code == 409 and "no longer matches its published SHA-256" in r.text


def test_receipt_check_says_counted_once_published(
    app: Any, make_process: Any, runner: Any
) -> None:
    from pb.results.cli import publish_command

    vote, receipts = _voted(app, make_process)
    client = app.test_client()
    r = client.post(f"/p/{vote.slug}/receipt?lang=en", data={"receipt": receipts[0]})
    assert "in the count" in r.text and "published result" not in r.text
    close_voting(app, vote)
    assert runner.invoke(publish_command, [vote.slug]).exit_code == 0
    r = client.post(f"/p/{vote.slug}/receipt?lang=en", data={"receipt": receipts[1]})
    assert 'id="receipt-counted"' in r.text and "Counted in the published result." in r.text
    r = client.post(f"/p/{vote.slug}/receipt?lang=en", data={"receipt": "AAAA-BBBB-CCCC"})
    assert "published result" not in r.text


def test_api_has_the_page_numbers(app: Any, make_process: Any, runner: Any) -> None:
    from pb.results.cli import publish_command

    vote, _ = _voted(app, make_process, counting_rule="equal-shares")
    close_voting(app, vote)
    assert runner.invoke(publish_command, [vote.slug]).exit_code == 0
    client = app.test_client()
    data = client.get(f"/api/v1/processes/{vote.slug}/results").get_json()
    assert data["rule"] == "equal-shares" and data["ballots"] == 5
    (election,) = data["elections"]
    page = client.get(f"/p/{vote.slug}/results?lang=en").text
    for p in election["projects"]:
        assert p["explanation_en"] in page.replace("&#39;", "'")
        assert f'<td class="num">{p["score"]}</td>' in page
    sha = election["files"]["pb"]["sha256"]
    assert (
        sha in page
        and hashlib.sha256(
            client.get(election["files"]["pb"]["url"].split("localhost")[-1]).data
        ).hexdigest()
        == sha
    )


def test_turnout_never_shows_a_group_under_10(app: Any, make_process: Any, runner: Any) -> None:
    from pb.results.services import merge_small

    assert merge_small({"a": 30, "b": 12, "c": 4, "d": 3}) == [("a", 30), ("_small", 19)]
    assert merge_small({"a": 30, "b": 12, "c": 14}) == [("a", 30), ("c", 14), ("b", 12)]
    assert merge_small({"a": 5, "b": 4}) == []
    assert merge_small({"a": 25, "b": 0, "c": 10}) == [("a", 25), ("c", 10)]
    for groups in ({"x": 9, "y": 9, "z": 9}, {"x": 11, "y": 1}, {"x": 50, "y": 9, "z": 2}):
        shown = merge_small(groups)
        assert all(n >= 10 for _, n in shown) and sum(n for _, n in shown) == sum(groups.values())


def test_turnout_by_channel_counts_the_codes_not_the_ballots(
    app: Any, make_process: Any, db: Any
) -> None:
    """Turnout by channel is how the used codes were handed out (letter, school, ...), counted
    on the code side: a ballot carries no channel, and a paper ballot looks like any other."""
    from tests.results.conftest import cast_all, close_voting
    from tests.voting.conftest import ballot, make_vote

    vote = make_vote(app, make_process, slug="kanaler", code_channels=["letter", "school"])
    cast_all(app, vote, [ballot("p1")] * 12, channel="school")
    cast_all(app, vote, [ballot("p2")] * 11, channel="letter")
    close_voting(app, vote)
    admin = app.test_client()
    login(admin, "admin")
    assert admin.post(f"/p/{vote.slug}/results/mix").status_code == 303
    assert admin.post(f"/p/{vote.slug}/results/publish").status_code == 303
    page = app.test_client().get(f"/p/{vote.slug}/results?lang=en").text
    assert re.search(r"At school</t[dh]>\s*<td[^>]*>12<", page), page
    assert re.search(r"By letter</t[dh]>\s*<td[^>]*>11<", page)
    assert "Paper ballot" not in page and "Online" not in page
