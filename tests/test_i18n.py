"""Swedish and English: every marked string is translated, compiled catalogues are current,
and money and dates are written as each language writes them."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from pb import ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def catalogues() -> list[tuple[Path, Path]]:
    """(mapping file, translations folder) for the main catalogue and each package's own."""
    pairs = [(ROOT / "babel.cfg", ROOT / "pb" / "translations")]
    for cfg in sorted((ROOT / "pb").glob("*/babel.cfg")):
        pairs.append((cfg, cfg.parent / "translations"))
    return pairs


def _extracted(cfg: Path) -> set[str]:
    with cfg.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(cfg))
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


@pytest.mark.parametrize("cfg,folder", catalogues(), ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_every_string_has_a_swedish_translation(cfg: Path, folder: Path) -> None:
    po_path = folder / "sv" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as fh:
        po = read_po(fh, locale="sv")
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in po
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(_extracted(cfg) - translated)
    assert not missing, f"untranslated in {po_path.relative_to(ROOT)}: {missing[:20]}"


@pytest.mark.parametrize("cfg,folder", catalogues(), ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_compiled_catalogue_is_current(cfg: Path, folder: Path) -> None:
    base = folder / "sv" / "LC_MESSAGES"
    with (base / "messages.po").open("rb") as fh:
        po = read_po(fh, locale="sv")
    with (base / "messages.mo").open("rb") as fh:
        mo = read_mo(io.BytesIO(fh.read()))

    def key(value: Any) -> Any:
        return tuple(value) if isinstance(value, list | tuple) else value

    expected = {key(m.id): key(m.string) for m in po if m.id and m.string and not m.fuzzy}
    actual = {key(m.id): key(m.string) for m in mo if m.id}
    assert actual == expected, "run: .venv/bin/pybabel compile -d " + str(folder.relative_to(ROOT))


def test_form_library_messages_are_swedish(client: Any, users: Any) -> None:
    r = client.post("/account/login?lang=sv", data={"email": "", "password": ""})
    assert "Det här fältet är obligatoriskt." in r.get_data(as_text=True)
    r = client.post("/account/login?lang=en", data={"email": "", "password": ""})
    assert "This field is required." in r.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_form_library_messages_as_flask_wtf_gives_them_read_once(app: Any, lang: str) -> None:
    """pb's forms take WTForms' own messages from pb.forms.WTFORMS_MESSAGES: the same as
    Flask-WTF's translations, with each language's catalogue read once, not per request."""
    from flask_wtf.i18n import translations as flask_wtfs

    from pb.forms import WTFORMS_MESSAGES, _wtforms_catalogue
    from pb.proposals.forms import CommentForm

    messages = ["This field is required.", "Not a valid integer value.", "Invalid email address.",
                "Field must be at least %(min)d characters long.", "Not a valid choice."]  # fmt: skip
    for _request in range(2):
        with app.test_request_context(f"/?lang={lang}"):
            assert CommentForm().meta.get_translations(None) is WTFORMS_MESSAGES
            for text in messages:
                assert WTFORMS_MESSAGES.gettext(text) == flask_wtfs.gettext(text), text
            for n in (1, 2, 5):
                singular, plural = "Field must be at least %(min)d character long.", messages[3]
                assert WTFORMS_MESSAGES.ngettext(singular, plural, n) == flask_wtfs.ngettext(
                    singular, plural, n
                )
    assert _wtforms_catalogue.cache_info().hits > 0
    with app.app_context():  # outside a request: untranslated, as Flask-WTF
        assert WTFORMS_MESSAGES.gettext(messages[0]) == messages[0]


@pytest.mark.parametrize(
    "lang,amount,date",
    [
        ("sv", "5\u00a0000\u00a0000\u00a0kr", "12 juni 2027"),
        ("en", "SEK\u00a05,000,000", "12 June 2027"),
    ],
)
def test_money_and_dates_per_locale(app: Any, lang: str, amount: str, date: str) -> None:
    from pb.i18n import sek, when

    with app.test_request_context(f"/?lang={lang}"):
        assert sek(5_000_000) == amount
        assert when(dt.date(2027, 6, 12)) == date
        # 23:30 UTC on 11 June is already 12 June, 01:30 in Stockholm (summer time).
        assert when(dt.datetime(2027, 6, 11, 23, 30, tzinfo=dt.UTC)).startswith(date)
        assert "01:30" in when(dt.datetime(2027, 6, 11, 23, 30, tzinfo=dt.UTC))


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_money_is_babels_format_decimal(app: Any, lang: str) -> None:
    """``sek`` keeps Babel's pattern and locales made once; every amount reads exactly as
    ``format_decimal`` writes it, in the language of the moment (also a forced one)."""
    from decimal import Decimal

    from babel.numbers import format_decimal
    from flask_babel import force_locale

    from pb.i18n import sek

    amounts = [0, 1, 999, 1000, 45_000, 5_000_000, -2500, 1234567890123, 0.5, 1999.999,
               12.345, Decimal("1234.5"), Decimal("0.005"), Decimal("-1000000.25"),
               -1, -999, -1000, -100000, 10**18 - 1, -(10**18) + 1, 10**18, 2.0, Decimal(3)]  # fmt: skip
    amounts += [sign * 10**e + d for e in range(0, 13) for d in (-1, 0, 1, 7) for sign in (1, -1)]

    def expected(amount: Any, loc: str) -> str:
        digits = format_decimal(
            amount, format="#,##0.##", locale="sv_SE" if loc == "sv" else "en_GB"
        )
        return f"{digits}\u00a0kr" if loc == "sv" else f"SEK\u00a0{digits}"

    with app.test_request_context(f"/?lang={lang}"):
        for amount in amounts:
            assert sek(amount) == expected(amount, lang), amount
        other = "en" if lang == "sv" else "sv"
        with force_locale(other):
            assert [sek(a) for a in amounts] == [expected(a, other) for a in amounts]
        assert sek(None) == ""


def test_gettext_and_lazy_strings_follow_the_locale_of_the_moment(app: Any) -> None:
    """Flask-Babel's translations are kept per request while the locale stays the same
    (pb.i18n.KeptDomain); a forced locale, a refreshed one, another request and no request
    at all each still get their own language."""
    from flask import session
    from flask_babel import force_locale, gettext, lazy_gettext, refresh

    from pb.i18n import KeptDomain

    menu = lazy_gettext("Menu")
    with app.test_request_context("/?lang=en"):
        from flask_babel import get_domain

        assert isinstance(get_domain(), KeptDomain)
        assert gettext("Menu") == str(menu) == "Menu"
        with force_locale("sv"):
            assert gettext("Menu") == str(menu) == "Meny"
            with force_locale("en"):
                assert gettext("Menu") == "Menu"
            assert gettext("Menu") == "Meny"
        assert gettext("Menu") == str(menu) == "Menu"
    with app.test_request_context("/"):
        session["lang"] = "sv"
        refresh()
        assert gettext("Menu") == str(menu) == "Meny"
        session["lang"] = "en"
        refresh()
        assert gettext("Menu") == str(menu) == "Menu"
    with app.app_context():  # outside a request: the default language
        assert gettext("Menu") == "Meny"
