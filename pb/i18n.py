"""Languages (Swedish by default, English) and locale-aware formatting of money and time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import parse_pattern
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import (
    Babel,
    Domain,
    format_date,
    format_datetime,
    get_domain,
    get_locale,
    get_translations,
)
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from pb import text

LOCALES = ("sv", "en")
LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}

babel = Babel()


def select_locale() -> str:
    """Query ``?lang=``, then the visitor's choice (the language switch), the browser, the
    default. The account's language is for its e-mail only: logging in never changes the
    language of the pages. Outside a request (the ``pb`` command), the default."""
    if not has_request_context():
        return str(current_app.config["DEFAULT_LOCALE"])
    asked = request.args.get("lang")
    if asked in LOCALES:
        return asked
    chosen = session.get("lang")
    if chosen in LOCALES:
        return str(chosen)
    best = request.accept_languages.best_match(LOCALES)
    return best or current_app.config["DEFAULT_LOCALE"]


def select_timezone() -> str:
    return str(current_app.config["TIMEZONE"])


def locale_code() -> str:
    if has_app_context():  # the locale Flask-Babel has chosen, read without its look-up
        babel_ctx = g._get_current_object().__dict__.get("_flask_babel")
        chosen = getattr(babel_ctx, "babel_locale", None)
        if chosen is not None:
            return str(chosen)
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


# What ``format_decimal(amount, format="#,##0.##", locale=...)`` parses on every call,
# parsed once: the pattern and the two locales (neither changes once made).
_MONEY_PATTERN = parse_pattern("#,##0.##")
_MONEY_LOCALES = {"sv": Locale.parse("sv_SE"), "en": Locale.parse("en_GB")}
# A whole number in that pattern is its digits in groups of three, each locale's group
# separator between them and an ASCII minus before: what Babel writes, without its Decimal
# arithmetic (tests/test_i18n.py compares the two).
_MONEY_GROUPS = {
    locale.language: locale.number_symbols["latn"]["group"] for locale in _MONEY_LOCALES.values()
}


def sek(amount: int | float | Decimal | None) -> str:
    """Money in SEK as people write it: '5 000 000 kr' in Swedish, 'SEK 5,000,000' in English.
    (Babel's ``format_decimal`` with the pattern and locale made once: a list page shows
    twenty sums.)"""
    if amount is None:
        return ""
    loc = locale_code()
    locale = _MONEY_LOCALES["sv" if loc == "sv" else "en"]
    if type(amount) is int and -(10**18) < amount < 10**18:  # any sum a database column holds
        digits = f"{amount:,}".replace(",", _MONEY_GROUPS[locale.language])
    else:
        digits = _MONEY_PATTERN.apply(
            amount, locale, decimal_quantization=True, group_separator=True,
            numbering_system="latn",
        )  # fmt: skip
    return f"{digits}\u00a0kr" if loc == "sv" else f"SEK\u00a0{digits}"


def local_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def when(value: dt.datetime | dt.date | None, fmt: str = "long") -> str:
    """A date or time in the site's time zone and the reader's language."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if fmt == "date":
            return str(format_date(value.astimezone(local_tz()).date(), "d MMMM y"))
        return str(format_datetime(value, "d MMMM y, HH:mm"))
    return str(format_date(value, "d MMMM y"))


def _day(day: dt.date, today: dt.date) -> str:
    return str(format_date(day, "d MMMM" if day.year == today.year else "d MMMM y"))


def last_day(ends_at: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """The last day of a period that ends at ``ends_at``, as people say it: a phase that ends
    at midnight before 4 January has 3 January as its last day ("3 januari", the year only
    when it is not this year). An end during the day keeps its time: "4 januari 17:00"."""
    if ends_at is None:
        return ""
    tz = local_tz()
    day, closing = text.last_day(ends_at.astimezone(tz))
    today = (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()
    if closing is None:
        return _day(day, today)
    return f"{_day(day, today)} {closing:%H:%M}"


def first_day(starts_at: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """The first day of a period, "1 december" (the year only when it is not this year)."""
    if starts_at is None:
        return ""
    tz = local_tz()
    today = (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()
    return _day(starts_at.astimezone(tz).date(), today)


class KeptDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's message domain, whose ``get_translations()`` is kept for the request
    (or app context) while the locale object stays the same: ``force_locale`` and
    ``refresh`` give a new one, and with it a new answer. Flask-Babel's own look-up walks
    its context three times and formats the locale on every call, and every ``gettext``,
    ``lazy_gettext`` (a form's labels) and template ``_()`` asks for it (about 9 us each)."""

    def get_translations(self) -> NullTranslations:
        found: NullTranslations
        if not has_app_context():
            found = super().get_translations()
            return found
        here = g._get_current_object()
        babel_ctx = here.__dict__.get("_flask_babel")
        locale = getattr(babel_ctx, "babel_locale", None) or get_locale()
        kept = here.__dict__.get("_pb_translations")
        if kept is not None and kept[0] is locale and kept[1] is self:
            found = kept[2]
            return found
        found = super().get_translations()
        here._pb_translations = (locale, self, found)
        return found


def translations() -> NullTranslations:
    """Flask-Babel's ``get_translations()`` (the current domain's, kept: ``KeptDomain``),
    reaching its context once."""
    found: NullTranslations
    if not has_app_context():
        found = get_translations()
        return found
    babel_ctx = g._get_current_object().__dict__.get("_flask_babel")
    domain = getattr(babel_ctx, "babel_domain", None) or get_domain()
    found = domain.get_translations()
    return found


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
    """``_()`` and ``gettext()`` in templates: what Jinja's newstyle ``gettext`` does (the
    translation, marked safe where the template autoescapes, then always ``%``-formatted
    with the variables, escaped), without its two extra ``Context.call``s and name look-up
    per call (``_`` resolved ``gettext``, which called the translation function)."""
    rv: Any = translations().ugettext(string)
    if eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 (the catalogue, trusted as the templates are; as Jinja)
    if not variables and "%" not in rv:  # formatting would give the same text
        return rv  # type: ignore[no-any-return]
    return rv % variables  # type: ignore[no-any-return]


@pass_eval_context
def template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
) -> str:
    """``ngettext()`` in templates, as Jinja's newstyle one (``num`` given by default)."""
    variables.setdefault("num", num)
    rv: Any = translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 (the catalogue, trusted as the templates are; as Jinja)
    return rv % variables  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_domain="messages",
    )
    # Flask-Babel's default domain (a cached property of the shared Babel object), kept.
    domain = app.extensions["babel"].default_domain
    kept = babel.__dict__.get("domain_instance")
    if not isinstance(kept, KeptDomain) or kept.domain != domain.split(";"):
        babel.domain_instance = KeptDomain(domain=domain)
    # The same callables as Flask-Babel's (newstyle: variables escaped), through translations().
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    # The same answers as the callables just installed, called directly (see template_gettext).
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext,
                                 ngettext=template_ngettext)  # fmt: skip
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LOCALE"])
    app.jinja_env.filters["sek"] = sek
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["last_day"] = last_day
    app.jinja_env.filters["first_day"] = first_day

    @app.context_processor
    def _i18n_globals() -> dict[str, Any]:
        return {
            "current_locale": locale_code(),
            "LOCALES": LOCALES,
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
        }
