"""The resident's look (issue #11): what to do now and until when on the home and process
pages, last days as people say them, and the municipality's own name, logo and colour."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from pb.config import ConfigError, contrast


def test_last_day_is_the_day_before_a_midnight_end(app: Any) -> None:
    from pb.i18n import first_day, last_day

    tz = dt.timezone(dt.timedelta(hours=1))  # Stockholm in winter
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with app.test_request_context("/?lang=sv"):
        assert last_day(dt.datetime(2026, 12, 4, 0, 0, tzinfo=tz), now) == "3 december"
        assert last_day(dt.datetime(2027, 1, 4, 0, 0, tzinfo=tz), now) == "3 januari 2027"
        assert last_day(dt.datetime(2026, 12, 4, 17, 0, tzinfo=tz), now) == "4 december 17:00"
        assert first_day(dt.datetime(2026, 12, 4, 0, 0, tzinfo=tz), now) == "4 december"
    with app.test_request_context("/?lang=en"):
        assert last_day(dt.datetime(2026, 12, 4, 0, 0, tzinfo=tz), now) == "3 December"


@pytest.mark.parametrize(
    "running,label,href",
    [
        ("proposals", "Lämna ett förslag", "/p/parker-2027/proposals/new"),
        ("voting", "Rösta", "/p/parker-2027/vote"),
        ("review", "Se alla förslag", "/p/parker-2027/proposals"),
    ],
)
def test_home_card_says_phase_last_day_and_one_action(
    client: Any, make_process: Any, running: str, label: str, href: str
) -> None:
    make_process(running=running)
    html = client.get("/?lang=sv").get_data(as_text=True)
    card = html[html.index('id="process-parker-2027"') :]
    card = card[: card.index("</li>")]
    assert "Sista dag " in card and "00:00" not in card
    assert re.search(rf'<a class="button [^"]*" href="{href}">{label}</a>', card), card
    assert 'src="/static/img/phase-' in card


def test_process_page_opens_with_summary_action_and_stepper(client: Any, make_process: Any) -> None:
    make_process(running="voting")
    html = client.get("/p/parker-2027?lang=en").get_data(as_text=True)
    action = html.index('id="action"')
    assert (
        html.index('id="now"') < action < html.index('id="stepper"') < html.index("contract-title")
    )
    assert 'href="/p/parker-2027/vote">Vote</a>' in html[action : action + 300]
    stepper = html[html.index('id="stepper"') : html.index("</ol>", html.index('id="stepper"'))]
    assert stepper.count('class="past"') == 2 and stepper.count('aria-current="step"') == 1
    assert stepper.count('class="next"') == 3
    assert "Last day " in html


def test_brand_colour_is_a_setting_with_enough_contrast(make_app: Any) -> None:
    app = make_app(BRAND_COLOUR="#7A1F5C", MUNICIPALITY_NAME="Eslövs kommun")
    client = app.test_client()
    css = client.get("/brand.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "--brand: #7a1f5c;" in css.get_data(as_text=True)
    html = client.get("/?lang=sv").get_data(as_text=True)
    assert "Eslövs kommun" in html and 'href="/brand.css"' in html
    assert "<style" not in html and " style=" not in html  # the CSP stays strict
    with pytest.raises(ConfigError, match="contrast"):
        make_app(BRAND_COLOUR="#66aaff")
    with pytest.raises(ConfigError, match="#rrggbb"):
        make_app(BRAND_COLOUR="blue")


def test_contrast_follows_wcag() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#005a9c", "#ffffff"), 2) == 7.14
    assert contrast("#767676", "#ffffff") >= 4.5 > contrast("#777777", "#ffffff")


def test_municipality_logo_is_served_from_pb(make_app: Any, tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    client = make_app(MUNICIPALITY_LOGO=str(logo)).test_client()
    assert '<img src="/brand/logo" alt="">' in client.get("/").get_data(as_text=True)
    r = client.get("/brand/logo")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    plain = make_app().test_client()
    assert plain.get("/brand/logo").status_code == 404
    assert "/brand/logo" not in plain.get("/").get_data(as_text=True)
