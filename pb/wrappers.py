"""The request class: NUL characters are removed from form and query values.

No text field needs them, PostgreSQL refuses them in text columns, and silently dropping
them keeps everything else the person typed. Also the URL converter for row ids."""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, Map
from werkzeug.utils import cached_property


def _clean(data: MultiDict[str, str]) -> ImmutableMultiDict[str, str]:
    return ImmutableMultiDict([(k.replace("\x00", ""), v.replace("\x00", ""))
                               for k, v in data.items(multi=True)])  # fmt: skip


class PBRequest(Request):
    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form is not None and any("\x00" in k or "\x00" in v for k, v in form.items(multi=True)):
            self.__dict__["form"] = _clean(form)

    @cached_property
    def args(self) -> MultiDict[str, str]:
        args = super().args
        if any("\x00" in k or "\x00" in v for k, v in args.items(multi=True)):
            return _clean(args)
        return args


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: a row id is a positive 32-bit integer, as the databases
    store it, so a larger number in a URL finds no row (404) instead of overflowing the
    query (a 500 on PostgreSQL, found by tests/trust/test_fuzz.py)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)
