"""The request class: NUL characters are removed from form and query values.

No text field needs them, PostgreSQL refuses them in text columns, and silently dropping
them keeps everything else the person typed."""

from __future__ import annotations

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
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
