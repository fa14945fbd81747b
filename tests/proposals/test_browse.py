"""Browsing without an account: the list with filters, search, sorting and pages, the
proposal page, similar titles, open data and the JSON API."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest

from tests.conftest import login
from tests.proposals.helpers import make_proposal


@pytest.fixture
def many(app: Any, users: Any, proc: Any) -> dict[str, int]:
    """Proposals across areas and categories, one draft, one hidden, one with supports."""
    from pb.db import get_session
    from pb.proposals.models import Proposal

    made = {
        "swings": make_proposal(app, proc.process, users["participant"], title="Nya gungor i Fäladsparken",
                                category_id=proc.parks, area_id=proc.north),
        "lights": make_proposal(app, proc.process, users["participant"], title="Belysning på cykelvägen",
                                category_id=proc.streets, area_id=proc.klostergarden,
                                description="Mörkt på vintern vid Klostergårdens skola."),
        "benches": make_proposal(app, proc.process, users["participant2"], title="Bänkar vid dammen",
                                 category_id=proc.parks, area_id=proc.klostergarden),
        "draft": make_proposal(app, proc.process, users["participant2"], title="Hemligt utkast",
                               publish=False),
        "hidden": make_proposal(app, proc.process, users["participant2"], title="Dold reklam"),
    }  # fmt: skip
    with app.app_context():
        session = get_session()
        session.get(Proposal, made["hidden"]).hidden = True
        session.get(Proposal, made["benches"]).support_count = 7
        session.commit()
    return made


def _titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/p/parker/proposals/\d+">([^<]+)</a></h2>', html)


@pytest.mark.parametrize("lang,heading,count", [("en", "Proposals", "3 proposals"),
                                                ("sv", "Förslag", "3 förslag")])  # fmt: skip
def test_anyone_sees_the_list(client: Any, many: Any, lang: str, heading: str, count: str) -> None:
    r = client.get(f"/p/parker/proposals?lang={lang}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f"<h1>{heading}</h1>" in html and count in html
    titles = _titles(html)
    assert sorted(titles) == sorted(["Nya gungor i Fäladsparken", "Belysning på cykelvägen",
                                     "Bänkar vid dammen"])  # fmt: skip
    assert "Hemligt utkast" not in html and "Dold reklam" not in html


def test_filters_search_and_sorting(client: Any, many: Any, proc: Any) -> None:
    def titles(query: str) -> list[str]:
        return _titles(client.get(f"/p/parker/proposals?lang=en&{query}").get_data(as_text=True))

    assert set(titles(f"area={proc.klostergarden}")) == {
        "Belysning på cykelvägen",
        "Bänkar vid dammen",
    }
    assert titles(f"category={proc.streets}") == ["Belysning på cykelvägen"]
    assert titles(f"category={proc.parks}&area={proc.north}") == ["Nya gungor i Fäladsparken"]
    assert titles("q=faladsparken") == ["Nya gungor i Fäladsparken"]  # case and å/ä/ö folded
    assert titles("q=KLOSTERGÅRDENS") == ["Belysning på cykelvägen"]  # the description counts
    assert titles("q=reklam") == []  # hidden content is not found
    assert titles("q=%25") == [] and titles("q=_") == []  # LIKE wildcards are literal
    assert titles("sort=newest") == ["Bänkar vid dammen", "Belysning på cykelvägen",
                                     "Nya gungor i Fäladsparken"]  # fmt: skip
    assert titles("sort=supported")[0] == "Bänkar vid dammen"
    assert titles("status=accepted") == []
    assert len(titles("status=published")) == 3
    # Nonsense in the query string falls back to defaults rather than failing.
    assert len(titles("area=x&category=&status=<b>&sort=evil&page=-4")) == 3


def test_withdrawn_and_merged_wait_behind_the_status_filter(
    app: Any, client: Any, many: Any
) -> None:
    from pb.db import get_session
    from pb.proposals.models import Proposal, ProposalStatus

    with app.app_context():
        session = get_session()
        session.get(Proposal, many["swings"]).status = ProposalStatus.WITHDRAWN
        session.get(Proposal, many["lights"]).status = ProposalStatus.MERGED
        session.commit()

    def titles(query: str) -> list[str]:
        return _titles(client.get(f"/p/parker/proposals?lang=en&{query}").get_data(as_text=True))

    assert titles("") == ["Bänkar vid dammen"]  # by default: the ones still in the running
    assert len(titles("status=all")) == 3
    assert titles("status=withdrawn") == ["Nya gungor i Fäladsparken"]
    assert titles("status=merged") == ["Belysning på cykelvägen"]


def test_empty_list_says_none_yet_or_none_match(client: Any, proc: Any, many: Any) -> None:
    html = client.get("/p/parker/proposals?lang=sv&q=inget-sådant").get_data(as_text=True)
    assert "Inga förslag passar det du valde" in html and "Det finns inga förslag ännu" not in html
    assert '<details class="filter-box" open>' in html  # a filter is set: the filters show


def test_empty_list_without_proposals(client: Any, proc: Any) -> None:
    html = client.get("/p/parker/proposals?lang=sv").get_data(as_text=True)
    assert "Det finns inga förslag ännu" in html and "Inga förslag passar det du valde" not in html
    assert '<details class="filter-box">' in html  # folded away behind a button


def test_random_order_is_stable_per_visitor(app: Any, users: Any, proc: Any) -> None:
    for n in range(30):
        make_proposal(app, proc.process, users["participant"], title=f"Förslag nummer {n}")
    client = app.test_client()

    def order(c: Any, extra: str = "") -> list[str]:
        return _titles(c.get(f"/p/parker/proposals?sort=random{extra}").get_data(as_text=True))

    first = order(client)
    assert order(client) == first  # the same visitor sees the same order
    html = client.get("/p/parker/proposals?sort=random").get_data(as_text=True)
    seed = re.search(r'name="seed" value="(\d+)"', html)
    assert seed and f"seed={seed.group(1)}" in html  # the next page keeps the seed
    page2 = order(client, f"&seed={seed.group(1)}&page=2")
    assert len(first) == 20 and len(page2) == 10 and not set(first) & set(page2)
    newest = _titles(client.get("/p/parker/proposals").get_data(as_text=True))
    assert first != newest
    orders = {tuple(order(app.test_client(), f"&seed={s}")) for s in (1, 2, 3)}
    assert len(orders) == 3  # other seeds, other orders


def test_pagination(app: Any, users: Any, proc: Any, client: Any) -> None:
    for n in range(25):
        make_proposal(app, proc.process, users["participant"], title=f"Idé {n:02d}")
    html = client.get("/p/parker/proposals?lang=en").get_data(as_text=True)
    assert len(_titles(html)) == 20 and "Page 1 of 2" in html
    assert 'href="/p/parker/proposals?page=2"' in html
    html = client.get("/p/parker/proposals?lang=sv&page=2").get_data(as_text=True)
    assert len(_titles(html)) == 5 and "Sida 2 av 2" in html
    html = client.get("/p/parker/proposals?page=99").get_data(as_text=True)
    assert len(_titles(html)) == 5  # past the end shows the last page


@pytest.mark.parametrize("lang,texts", [
    ("en", ["Official answer", "Not answered yet", "0 people support this proposal.", "History",
            "Submitted", "Log in to support and comment", "Comments"]),
    ("sv", ["Officiellt svar", "Inte besvarat än", "0 personer stöder förslaget.", "Historik",
            "Inskickat", "Logga in för att stödja och kommentera", "Kommentarer"]),
])  # fmt: skip
def test_proposal_page_for_visitors(client: Any, many: Any, lang: str, texts: list[str]) -> None:
    html = client.get(f"/p/parker/proposals/{many['swings']}?lang={lang}").get_data(as_text=True)
    missing = [t for t in texts if t not in html]
    assert not missing
    assert client.get(f"/p/parker/proposals/{many['hidden']}").status_code == 410
    assert client.get(f"/p/parker/proposals/{many['draft']}").status_code == 404
    assert client.get("/p/parker/proposals/999999").status_code == 404
    assert client.get(f"/p/other/proposals/{many['swings']}").status_code == 404


def test_process_page_links_to_proposals_and_propose_button(
    client: Any, users: Any, proc: Any, app: Any, make_process: Any
) -> None:
    html = client.get("/p/parker?lang=en").get_data(as_text=True)
    assert 'href="/p/parker/proposals"' in html and 'href="/p/parker/proposals/new"' in html
    make_process(slug="rostar", running="voting")
    html = client.get("/p/rostar?lang=sv").get_data(as_text=True)
    assert "Se alla förslag" in html and "/p/rostar/proposals/new" not in html


def test_similar_titles_are_suggested(client: Any, many: Any, proc: Any) -> None:
    r = client.get("/p/parker/proposals/similar?title=Gungor+i+Faladsparken")
    data = r.get_json()
    assert [p["title"] for p in data["proposals"]] == ["Nya gungor i Fäladsparken"]
    assert data["proposals"][0]["url"] == f"/p/parker/proposals/{many['swings']}"
    assert client.get("/p/parker/proposals/similar?title=Dold+reklam").get_json() == {
        "proposals": []
    }
    assert client.get("/p/parker/proposals/similar?title=").get_json() == {"proposals": []}
    # Without JavaScript the form shows them when it comes back.
    login(client, "participant")
    html = client.post("/p/parker/proposals/new?lang=en",
                       data={"title": "Gungor i Fäladsparken", "action": "draft",
                             "category": "99"}).get_data(as_text=True)  # fmt: skip
    assert "Similar proposals already exist" in html and "Nya gungor i Fäladsparken" in html


def test_open_data_csv_and_json(client: Any, many: Any, proc: Any) -> None:
    r = client.get("/p/parker/proposals.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert {row["title"] for row in rows} == {"Nya gungor i Fäladsparken", "Belysning på cykelvägen",
                                              "Bänkar vid dammen"}  # fmt: skip
    assert "author" not in rows[0] and "email" not in "".join(rows[0])
    assert rows[0]["url"].startswith("http")
    data = json.loads(client.get("/p/parker/proposals.json").get_data(as_text=True))
    assert data["process"]["slug"] == "parker"
    assert len(data["proposals"]) == 3
    assert client.get("/p/nope/proposals.csv").status_code == 404


def test_csv_cells_cannot_become_formulas(app: Any, users: Any, proc: Any, client: Any) -> None:
    make_proposal(app, proc.process, users["participant"], title='=HYPERLINK("http://x")')
    text = client.get("/p/parker/proposals.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text


def test_json_api_with_pagination(client: Any, many: Any, proc: Any) -> None:
    r = client.get("/api/v1/processes")
    assert r.status_code == 200
    assert [p["slug"] for p in r.get_json()["data"]] == ["parker"]
    r = client.get("/api/v1/processes/parker")
    assert r.get_json()["data"]["current_phase"] == "proposals"
    r = client.get("/api/v1/processes/parker/proposals?per_page=2")
    body = r.get_json()
    assert body["meta"] == {"page": 1, "per_page": 2, "total": 3, "pages": 2}
    assert body["links"]["next"].endswith("/api/v1/processes/parker/proposals?page=2&per_page=2")
    assert body["links"]["prev"] is None
    page2 = client.get("/api/v1/processes/parker/proposals?page=2&per_page=2").get_json()
    assert len(page2["data"]) == 1
    one = client.get(f"/api/v1/proposals/{many['swings']}").get_json()["data"]
    assert one["title"] == "Nya gungor i Fäladsparken" and one["status"] == "published"
    assert "author_id" not in one and "search_text" not in one
    for hidden in (many["hidden"], many["draft"], 999999):
        r = client.get(f"/api/v1/proposals/{hidden}")
        assert r.status_code == 404 and r.get_json()["error"]["code"] == 404
    assert client.get("/api/v1/processes/nope/proposals").status_code == 404
    assert client.get("/api/v1/processes/parker/proposals?page=x&per_page=9999").status_code == 200
