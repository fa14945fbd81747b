"""Form fields with bounds every form shares: whole numbers, decimals and dates.

WTForms' own number fields read what Python's ``int()``/``float()`` read ("1_0" is 10,
"+5" is 5), and its ``NumberRange`` fails on a number too large for a float. These fields
accept plain digits only, refuse anything outside their range with a message in the
reader's language, and keep what was typed so that it is shown again.

Dates and times are kept between ``YEAR_MIN`` and ``YEAR_MAX``: far-off years are typing
mistakes, and year 1 cannot even be converted between time zones.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField, FloatField, IntegerField
from wtforms.validators import ValidationError

YEAR_MIN = 2000
YEAR_MAX = 2200
# The largest row id (PostgreSQL's integer); larger "numbers" of proposals do not exist.
ID_MAX = 2**31 - 1

_WHOLE_RE = re.compile(r"^-?[0-9]{1,30}$")
_DECIMAL_RE = re.compile(r"^-?[0-9]{1,30}(?:[.,][0-9]{1,30})?$")


class _Bounded:
    """What the number fields share: bounds, a message, and parsing that refuses rather
    than guesses (``_parse`` gives None for text that is not a number of the field's kind).
    An invalid entry leaves ``data`` None and keeps the typed text to show again."""

    default_message: Any = None

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        min: Any,
        max: Any,
        message: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)  # type: ignore[call-arg]
        self.min, self.max = min, max
        self.message = message
        self.invalid = False

    def _parse(self, raw: str) -> Any:
        raise NotImplementedError

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.invalid = False
        self.data = None
        if not valuelist:
            return
        raw = str(valuelist[0]).strip()
        if not raw:
            return
        value = self._parse(raw)
        if value is None or not self.min <= value <= self.max:
            self.invalid = True
            return
        self.data = value

    def pre_validate(self, form: Any) -> None:
        if self.invalid:
            raise ValidationError(
                self.message or self.default_message % {"min": self.min, "max": self.max}
            )


class WholeNumberField(_Bounded, IntegerField):
    """A whole number from ``min`` to ``max``; digits only (a leading minus sign only when
    ``min`` is negative). Empty input gives ``None``: add ``InputRequired`` or ``Optional``."""

    default_message = _l("Give a whole number from %(min)s to %(max)s.")

    def __init__(self, label: Any = None, validators: Any = None, *, min: int = 0, max: int,
                 message: Any = None, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(label, validators, min=min, max=max, message=message, **kwargs)

    def _parse(self, raw: str) -> int | None:
        return int(raw) if _WHOLE_RE.match(raw) else None


class DecimalNumberField(_Bounded, FloatField):
    """A decimal number from ``min`` to ``max`` with a point or a comma; no exponent,
    underscores, "nan" or "inf"."""

    default_message = _l("Give a number from %(min)s to %(max)s.")

    def _parse(self, raw: str) -> float | None:
        return float(raw.replace(",", ".")) if _DECIMAL_RE.match(raw) else None


def _year_message() -> Any:
    return _l("Give a date between the years %(min)s and %(max)s.", min=YEAR_MIN, max=YEAR_MAX)


class BoundedDateField(DateField):
    """A date between ``YEAR_MIN`` and ``YEAR_MAX``."""

    def pre_validate(self, form: Any) -> None:
        data = self.data
        if isinstance(data, dt.date) and not YEAR_MIN <= data.year <= YEAR_MAX:
            raise ValidationError(_year_message())


class BoundedDateTimeLocalField(DateTimeLocalField):
    """A local date and time between ``YEAR_MIN`` and ``YEAR_MAX``."""

    def pre_validate(self, form: Any) -> None:
        data = self.data
        if isinstance(data, dt.datetime) and not YEAR_MIN <= data.year <= YEAR_MAX:
            raise ValidationError(_year_message())


def in_year_range(value: dt.date | dt.datetime) -> bool:
    return YEAR_MIN <= value.year <= YEAR_MAX
