"""The micro-cache of public pages (pb/pagecache.py): visitors who are not logged in get a
page at most PAGE_CACHE_SECONDS old, each with their own working form token; logged-in
people, messages waiting in the session, searches and errors never go through it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from pb import config
from pb.config import ConfigError
from pb.pagecache import Entry, PageCache, cache_of
from tests.conftest import csrf_token


def _retitle(db: Any, slug: str, title: str) -> None:
    from pb.processes.models import Process

    db.execute(
        sa.update(Process).where(Process.slug == slug).values(title_sv=title, title_en=title)
    )
    db.commit()


@pytest.fixture
def cached(make_app: Any) -> Any:
    return make_app(PAGE_CACHE_SECONDS=30, WTF_CSRF_ENABLED=True)


def test_a_visitor_gets_the_stored_page_and_a_logged_in_person_a_fresh_one(
    cached: Any, make_process: Any, db: Any
) -> None:
    make_process(slug="parker")
    visitor = cached.test_client()
    first = visitor.get("/p/parker")
    assert first.status_code == 200 and "Parker 2027" in first.get_data(as_text=True)
    _retitle(db, "parker", "Ny titel")

    again = cached.test_client().get("/p/parker")  # another visitor, within the 30 s
    assert again.status_code == 200
    assert "Parker 2027" in again.get_data(as_text=True)
    assert "Ny titel" not in again.get_data(as_text=True)
    # The response is built as for a miss: security headers are there.
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert again.headers["X-Frame-Options"] == "DENY"

    person = cached.test_client()
    token = csrf_token(person.get("/account/login").get_data(as_text=True))
    logged_in = person.post("/account/login", data={
        "email": "participant@example.org", "password": "password-participant",
        "csrf_token": token})  # fmt: skip
    assert logged_in.status_code == 303
    assert "Ny titel" in person.get("/p/parker").get_data(as_text=True)

    cache_of(cached).clear()
    assert "Ny titel" in cached.test_client().get("/p/parker").get_data(as_text=True)


def test_the_page_is_at_most_the_set_time_old(make_app: Any, make_process: Any, db: Any) -> None:
    app = make_app(PAGE_CACHE_SECONDS=0.3)
    make_process(slug="parker")
    client = app.test_client()
    assert "Parker 2027" in client.get("/").get_data(as_text=True)
    _retitle(db, "parker", "Ny titel")
    assert "Parker 2027" in client.get("/").get_data(as_text=True)
    time.sleep(0.35)
    assert "Ny titel" in client.get("/").get_data(as_text=True)


def test_each_visitor_gets_their_own_form_token_and_it_works(
    cached: Any, make_process: Any
) -> None:
    make_process(slug="parker")
    first, second = cached.test_client(), cached.test_client()
    page1 = first.get("/p/parker/proposals").get_data(as_text=True)
    page2 = second.get("/p/parker/proposals").get_data(as_text=True)  # from the cache
    assert cache_of(cached).hits == 1
    token1, token2 = csrf_token(page1), csrf_token(page2)
    assert token1 != token2
    assert cache_of(cached).marker not in page2
    # The token fits the second visitor's session: the language switch accepts it ...
    ok = second.post("/lang", data={"lang": "en", "next": "/p/parker", "csrf_token": token2})
    assert ok.status_code in (302, 303)
    # ... and the first visitor's token does not pass in the second's session.
    other = cached.test_client()
    other.get("/p/parker/proposals")
    refused = other.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token1})
    assert refused.status_code == 400


def test_languages_are_kept_apart(cached: Any, make_process: Any) -> None:
    make_process(slug="parker")
    browser_en = cached.test_client().get("/p/parker", headers={"Accept-Language": "en"})
    assert "Parks 2027" in browser_en.get_data(as_text=True)
    assert "Accept-Language" in browser_en.headers["Vary"]  # for any cache on the way (F6)
    assert "Parker 2027" in cached.test_client().get("/p/parker").get_data(as_text=True)
    sv = cached.test_client().get("/p/parker?lang=sv").get_data(as_text=True)
    en = cached.test_client().get("/p/parker?lang=en").get_data(as_text=True)
    assert 'lang="sv"' in sv and "Parker 2027" in sv
    assert 'lang="en"' in en and "Parks 2027" in en
    assert 'lang="en"' in cached.test_client().get("/p/parker?lang=en").get_data(as_text=True)


def test_a_message_in_the_session_is_shown_and_not_stored(cached: Any, make_process: Any) -> None:
    make_process(slug="parker")
    client = cached.test_client()
    client.get("/p/parker")  # stored
    with client.session_transaction() as s:
        s["_flashes"] = [("info", "Meddelande till just dig")]
    assert "Meddelande till just dig" in client.get("/p/parker").get_data(as_text=True)
    assert "Meddelande till just dig" not in cached.test_client().get("/p/parker").get_data(
        as_text=True
    )


def test_searches_other_queries_and_errors_go_past_the_cache(
    cached: Any, make_process: Any, db: Any
) -> None:
    make_process(slug="parker")
    client = cached.test_client()
    assert client.get("/p/ingen").status_code == 404  # a 404 is not stored
    make_process(slug="ingen")
    assert client.get("/p/ingen").status_code == 200

    client.get("/p/parker")
    _retitle(db, "parker", "Ny titel")
    for query in ("?lang=xx", "?code=K7QM", "?lang=sv&lang=en"):
        assert "Ny titel" in client.get("/p/parker" + query).get_data(as_text=True), query
    assert len(cache_of(cached)) == 2  # /p/ingen and /p/parker, nothing for the odd queries


def test_the_proposal_list_is_stored_per_filter_but_not_in_random_order(
    cached: Any, make_process: Any
) -> None:
    make_process(slug="parker")
    client = cached.test_client()
    for query in ("", "?sort=oldest", "?sort=oldest&page=1", "?sort=random", "?sort=random&seed=4",
                  "?q=lekplats"):  # fmt: skip
        assert client.get("/p/parker/proposals" + query).status_code == 200
    # The random order without a seed follows the session; a search is never stored.
    assert len(cache_of(cached)) == 4


def test_voting_pages_keep_no_store_when_served_from_the_cache(
    cached: Any, make_process: Any
) -> None:
    make_process(slug="dalby", running="voting")
    for _ in range(2):
        r = cached.test_client().get("/p/dalby/vote")
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert cache_of(cached).hits == 1
    for _ in range(2):  # the results page too (here: "not yet"), read by many at publishing
        assert cached.test_client().get("/p/dalby/results").status_code == 200
    assert cache_of(cached).hits == 2


def test_each_app_has_its_own_cache_and_tests_have_none(
    make_app: Any, app: Any, make_process: Any
) -> None:
    one, two = make_app(PAGE_CACHE_SECONDS=5), make_app(PAGE_CACHE_SECONDS=5)
    make_process(slug="parker")
    one.test_client().get("/p/parker")
    assert len(cache_of(one)) == 1 and len(cache_of(two)) == 0
    app.test_client().get("/p/parker")  # ENV=test: off
    assert app.config["PAGE_CACHE_SECONDS"] == 0 and len(cache_of(app)) == 0


def test_the_cache_forgets_the_least_recently_used_first() -> None:
    cache = PageCache(max_entries=2)
    for key in ("a", "b"):
        cache.put((key,), Entry(100.0, key.encode(), False), 1.0)
    assert cache.get(("a",), 1.0) is not None  # a is now the most recent
    cache.put(("c",), Entry(100.0, b"c", False), 1.0)
    assert cache.get(("b",), 1.0) is None
    assert cache.get(("a",), 1.0) is not None and cache.get(("c",), 1.0) is not None
    assert cache.get(("a",), 100.0) is None and len(cache) == 1  # expired: dropped


def test_the_cache_is_bounded_in_bytes_and_drops_what_expired() -> None:
    """Probe of the cache, F3: one visitor's long pages must not hold the memory, and
    expired pages must not stay until someone asks for them again."""
    cache = PageCache(max_entries=100, max_bytes=1000)
    for n in range(5):
        cache.put((n,), Entry(10.0, b"x" * 300, False), 1.0)
    assert len(cache) == 3 and cache.bytes == 900  # the two oldest went
    assert cache.get((0,), 1.0) is None and cache.get((4,), 1.0) is not None
    cache.put(("new",), Entry(50.0, b"y", False), 20.0)  # the others expired at 10
    assert len(cache) == 1 and cache.bytes == 1
    cache.put(("new",), Entry(50.0, b"yy", False), 20.0)  # replaced, counted once
    assert len(cache) == 1 and cache.bytes == 2


def test_a_random_order_without_its_seed_is_never_stored(cached: Any, make_process: Any) -> None:
    """Probe F1: ``?sort=random&seed=`` (empty) is the session's own order."""
    make_process(slug="parker")
    for query in ("?sort=random", "?sort=random&seed="):
        assert cached.test_client().get("/p/parker/proposals" + query).status_code == 200
    assert len(cache_of(cached)) == 0


def test_a_token_echoed_by_the_page_is_not_taken_for_the_form_token(
    cached: Any, make_process: Any
) -> None:
    """Probe F2: the renderer's token used to be replaced wherever it stood, so a token an
    attacker put in the address came back to the next visitor as *their* token in the
    address. Now the page is rendered with a marker in the token's place only."""
    make_process(slug="parker")
    attacker, visitor = cached.test_client(), cached.test_client()
    theirs = csrf_token(attacker.get("/p/parker?lang=en").get_data(as_text=True))
    url = f"/p/parker/proposals?lang=en&status={theirs}"
    attacker.get(url)  # rendered and stored now, in the same second as the token
    page = visitor.get(url).get_data(as_text=True)
    mine = csrf_token(page)
    assert cache_of(cached).hits >= 1 and mine != theirs
    assert theirs in page  # the address in the language switch, as typed
    assert page.count(mine) == page.count('name="csrf_token"')  # only in token fields
    assert cache_of(cached).marker not in page


def test_a_page_a_view_raises_gets_the_visitors_token(
    cached: Any, make_process: Any, users: Any, db: Any
) -> None:
    """A hidden proposal's 410 page is raised from inside the view while the marker stands
    for the token: it reaches the visitor with their own, working token."""
    from pb.proposals.models import Proposal
    from tests.proposals.helpers import make_proposal

    process = make_process(slug="parker")
    pid = make_proposal(cached, process, users["participant"])
    db.execute(sa.update(Proposal).where(Proposal.id == pid).values(hidden=True))
    db.commit()
    visitor = cached.test_client()
    r = visitor.get(f"/p/parker/proposals/{pid}?lang=en")
    page = r.get_data(as_text=True)
    assert r.status_code == 410 and cache_of(cached).marker not in page
    ok = visitor.post("/lang", data={"lang": "sv", "next": "/", "csrf_token": csrf_token(page)})
    assert ok.status_code in (302, 303)


def test_the_setting_defaults_and_limits(tmp_path: Path) -> None:
    assert config.load(tmp_path, environ={"PB_ENV": "development"})["PAGE_CACHE_SECONDS"] == 2
    assert config.load(tmp_path, environ={"PB_ENV": "test"})["PAGE_CACHE_SECONDS"] == 0
    off = config.load(tmp_path, environ={"PB_ENV": "development", "PB_PAGE_CACHE_SECONDS": "0"})
    assert off["PAGE_CACHE_SECONDS"] == 0
    with pytest.raises(ConfigError):
        config.load(tmp_path, environ={"PB_ENV": "development", "PB_PAGE_CACHE_SECONDS": "-1"})
