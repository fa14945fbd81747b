"""The request class: control characters are removed from form and query values.

NUL and the other control characters (C0, DEL and C1) but tab, line feed and carriage return
never belong in anything a person types: PostgreSQL refuses NUL in text columns, and ESC and
its kind would be stored and shown back (a terminal would run them as commands). Separators
that stand between words (vertical tab, form feed, the information separators, next line)
become a space; the rest are dropped, which keeps everything else the person typed. This
covers every text value, also those a route reads without a form; the forms (``pb.forms``)
then turn line breaks into spaces in single-line fields. Passwords (``PASSWORD_FIELDS``) are
kept as typed but for NUL. Also the URL converter for row ids.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, Map
from werkzeug.utils import cached_property

_SEPARATORS = re.compile(r"[\x0b\x0c\x1c-\x1e\x85]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    """``value`` without control characters (tab, LF and CR stay; separators become spaces)."""
    return _CONTROLS.sub("", _SEPARATORS.sub(" ", value))


# The password fields of the account forms (``pb.accounts.forms``; a test keeps the two in
# step): a password is kept as typed, but for NUL.
PASSWORD_FIELDS = frozenset({"password", "confirm", "current"})


def _value(key: str, value: str) -> str:
    return value.replace("\x00", "") if key in PASSWORD_FIELDS else clean_text(value)


def _clean(data: MultiDict[str, str]) -> ImmutableMultiDict[str, str]:
    return ImmutableMultiDict([(clean_text(k), _value(clean_text(k), v))
                               for k, v in data.items(multi=True)])  # fmt: skip


def _dirty(data: MultiDict[str, str]) -> bool:
    return any(_CONTROLS.search(k) or _CONTROLS.search(v) for k, v in data.items(multi=True))


class PBRequest(Request):
    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form is not None and _dirty(form):
            self.__dict__["form"] = _clean(form)

    @cached_property
    def args(self) -> MultiDict[str, str]:
        args = super().args
        if _dirty(args):
            return _clean(args)
        return args


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: a row id is a positive 32-bit integer, as the databases
    store it, so a larger number in a URL finds no row (404) instead of overflowing the
    query (a 500 on PostgreSQL, found by tests/trust/test_fuzz.py)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)
