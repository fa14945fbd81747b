"""A voting code by e-mail in a real headless Chromium on a 390 px phone, in Swedish: the
start page, one question per page, "check your answers" with a change, the mailed link
(through a real SMTP server on loopback) opened in another browser (the mail app's), where
the questions come again, the mailed code's link to the ballot, the cast, and the receipt by
e-mail. No JavaScript is needed for any of it (the first browser has it turned off)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.voting.conftest import make_vote

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    return {**app_config, "MAIL_PORT": smtp_server.port}


def _send(app: Any) -> None:
    from pb.mail.services import send_pending

    with app.app_context():
        assert send_pending().sent == 1


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_a_code_by_email_on_a_phone_in_swedish(
    browser: Any, live_server: str, app: Any, make_process: Any, smtp_server: Any
) -> None:
    vote = make_vote(app, make_process, slug="epost-e2e", code_channels=["school", "email"])
    phone = {"locale": "sv-SE", "viewport": {"width": 390, "height": 844}, "is_mobile": True,
             "has_touch": True}  # fmt: skip
    # The browser asking for the code runs no JavaScript at all.
    asking = browser.new_context(java_script_enabled=False, **phone)
    page = asking.new_page()
    page.goto(f"{live_server}/p/{vote.slug}/vote?lang=sv")
    page.get_by_role("link", name="Ingen kod? Få en med mejl").click()
    expect(page.locator("main")).to_contain_text("Vem får rösta")
    expect(page.locator("main")).to_contain_text("Det här behöver du")
    _no_sideways_scroll(page)
    page.get_by_role("button", name="Börja nu").click()
    expect(page.locator("h1")).to_have_text("Vad har du för koppling till kommunen?")
    page.get_by_role("button", name="Fortsätt").click()  # nothing chosen: the error links to it
    expect(page.locator(".error-summary")).to_contain_text("Välj det som ger dig rätt att rösta")
    page.locator(".error-summary a").first.click()
    page.get_by_label("Du bor i kommunen").check()
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("16–17").check()
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("Vilken e-postadress har du?").fill("karin@example.org")
    _no_sideways_scroll(page)
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.locator("h1")).to_have_text("Kontrollera dina svar")
    _no_sideways_scroll(page)
    # Change one answer: back to the question, then straight back here.
    page.locator("#change-age").click()
    expect(page.get_by_label("16–17")).to_be_checked()
    page.get_by_label("18–25").check()
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.locator("main")).to_contain_text("18–25")
    page.get_by_role("button", name="Skicka länken till mig").click()
    expect(page.locator("#email-sent")).to_contain_text("Vi skickar en länk till karin@example.org")
    asking.close()
    _send(app)
    link = re.search(r"http://\S+", smtp_server.messages[0].get_content())
    assert link
    # The mail app opens the link in a browser of its own: the answers are not there.
    context = browser.new_context(**phone)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + link.group(0).split("127.0.0.1:5000", 1)[1])
    expect(page.locator("#answers-lost")).to_contain_text("Den här webbläsaren har inte dina svar")
    page.get_by_role("link", name="Fortsätt").click()
    page.get_by_label("Du bor i kommunen").check()
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("18–25").check()
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_label("Vilken e-postadress har du?").fill("karin@example.org")
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.locator("h1")).to_have_text("Kontrollera dina svar")
    page.get_by_role("button", name="Skicka min röstkod till mig").click()
    expect(page.locator("h1")).to_contain_text("Din kod är på väg")
    _send(app)
    mail = smtp_server.messages[1].get_content()
    ballot_link = re.search(r"http://\S+/vote#\S+", mail)
    assert ballot_link and "Din röstkod" in smtp_server.messages[1]["Subject"]
    code = ballot_link.group(0).rsplit("#", 1)[1]
    page.goto(live_server + ballot_link.group(0).split("127.0.0.1:5000", 1)[1])
    expect(page.locator("#code")).to_have_value(code)
    page.get_by_role("button", name="Gå vidare till röstsedeln").click()
    page.get_by_label("Skatepark").check()
    page.get_by_role("button", name="Granska min röstsedel").click()
    page.get_by_role("button", name="Lägg min röst").click()
    expect(page.locator("h1")).to_contain_text("Tack, din röst är lagd")
    receipt = page.inner_text("#receipt").strip()
    _no_sideways_scroll(page)
    page.get_by_label("Adressen som din kod skickades till").fill("karin@example.org")
    page.get_by_role("button", name="Skicka kvittot till mig").click()
    expect(page.locator("#receipt-mailed")).to_contain_text("Vi skickar ditt kvitto")
    _send(app)
    assert receipt in smtp_server.messages[2].get_content()
    context.close()
    assert not errors, errors
