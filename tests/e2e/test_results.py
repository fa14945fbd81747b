"""A published results page in a real headless Chromium on a 390 px phone: it reads
without sideways scrolling, the charts and the explanation of a losing project are there,
and the downloaded ballot file has the SHA-256 the page shows."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.results.conftest import ballot, cast_all, close_voting, make_vote

pytestmark = pytest.mark.e2e


def test_results_on_a_phone(browser: Any, live_server: str, app: Any, make_process: Any,
                            runner: Any) -> None:  # fmt: skip
    from pb.results.cli import publish_command

    vote = make_vote(app, make_process, slug="resultat")
    cast_all(app, vote, [ballot("p1", "p2"), ballot("p1", "p3"), ballot("p1", "p2", "p4"),
                         ballot("p1", "p3"), ballot("p2", "p4", "p5")])  # fmt: skip
    close_voting(app, vote)
    assert runner.invoke(publish_command, [vote.slug]).exit_code == 0
    context = browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True,
                                  accept_downloads=True)  # fmt: skip
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)  # fmt: skip
    page.goto(f"{live_server}/p/{vote.slug}/results?lang=sv")
    assert "Resultat" in page.inner_text("h1")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    lost = page.inner_text("#project-all-p3")
    assert "Fritidsgård vann inte" in lost and "Exakta siffror" in lost
    assert page.locator("svg[role=img]").count() == 2
    shown = page.inner_text("#sha-all-pb").strip()
    with page.expect_download() as info:
        page.get_by_role("link", name="pabulib-fil (.pb)").click()
    path = info.value.path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == shown
    page.screenshot(path=str(_artifacts() / "results-phone.png"), full_page=True)
    page.locator("figure.chart").first.screenshot(path=str(_artifacts() / "results-chart.png"))
    context.close()
    assert not errors, errors


def _artifacts() -> Any:
    from tests.e2e.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
