"""An official opens a process; a visitor reads its upfront contract in both languages."""

from __future__ import annotations

import datetime as dt
from typing import Any


def _login(page: Any, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/account/login")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/")


def test_admin_opens_a_process_and_a_visitor_reads_the_contract(
    page: Any, live_server: str, users: Any
) -> None:
    base = live_server
    _login(page, base, "admin@example.org", "password-admin")
    page.get_by_role("link", name="Administration").click()
    page.get_by_role("link", name="Ny process").click()
    page.get_by_label("Rubrik (svenska)").fill("Parker i Linero 2027")
    page.get_by_label("Rubrik (engelska)").fill("Parks in Linero 2027")
    page.get_by_label("Webbadress").fill("linero-2027")
    page.get_by_label("Publicerad (synlig för alla)").check()
    page.get_by_label("Syfte (svenska)").fill("Gör Lineros parker bättre.")
    page.get_by_label("Vem fattar det slutliga beslutet (svenska)").fill("Tekniska nämnden")
    page.get_by_label("Vad resultatet avgör (svenska)").fill(
        "Nämnden bygger de vinnande projekten."
    )
    page.get_by_label("Total budget (kr)").fill("1000000")
    page.get_by_label("Område 1: namn").fill("Linero")
    page.get_by_label("Område 1: budget").fill("1000000")
    start = dt.datetime.now() - dt.timedelta(days=1)
    for i, kind in enumerate(["proposals", "review", "voting"]):
        s = (start + dt.timedelta(days=30 * i)).strftime("%Y-%m-%dT%H:%M")
        e = (start + dt.timedelta(days=30 * (i + 1))).strftime("%Y-%m-%dT%H:%M")
        page.locator(f"#phases-{kind}-starts_at").fill(s)
        page.locator(f"#phases-{kind}-ends_at").fill(e)
    page.get_by_role("button", name="Spara").click()
    page.wait_for_url(f"{base}/p/linero-2027")
    assert page.get_by_role("heading", name="Parker i Linero 2027").is_visible()
    assert "Processen är skapad." in page.content()
    contract = page.locator("section.contract").inner_text()
    for text in ("Medskapande och medbestämmande", "Tekniska nämnden", "1\u00a0000\u00a0000\u00a0kr",
                 "minst 12 år", "Du bor i kommunen", "Flest röster först"):  # fmt: skip
        assert text in contract, text
    # Switch language with the visible button: the same contract in English.
    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"{base}/p/linero-2027")
    contract = page.locator("section.contract").inner_text()
    for text in ("Co-creation and co-decision", "SEK\u00a01,000,000", "at least 12 years old",
                 "Most votes first", "Now"):  # fmt: skip
        assert text in contract or text in page.content(), text


def test_form_errors_keep_input_in_the_browser(page: Any, live_server: str, users: Any) -> None:
    base = live_server
    _login(page, base, "admin@example.org", "password-admin")
    page.goto(f"{base}/admin/processes/new")
    page.get_by_label("Rubrik (svenska)").fill("Halvfärdig process")
    page.get_by_label("Total budget (kr)").fill("-3")
    page.get_by_role("button", name="Spara").click()
    assert page.get_by_role("alert").first.is_visible()
    assert page.get_by_label("Rubrik (svenska)").input_value() == "Halvfärdig process"
    assert page.locator("#budget").get_attribute("aria-invalid") == "true"


def test_keyboard_user_can_skip_to_content(page: Any, live_server: str) -> None:
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Hoppa till innehållet"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
