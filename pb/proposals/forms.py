"""Forms for proposing and discussing. Messages are in the reader's language."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    Field,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from pb.fields import DecimalNumberField
from pb.forms import FlaskForm
from pb.processes.models import Process
from pb.proposals.services import (
    ADDRESS_MAX,
    COMMENT_MAX,
    COST_MAX,
    DESCRIPTION_MAX,
    TITLE_MAX,
    AreaMissing,
)

_AMOUNT_RE = re.compile(r"^\d{1,3}(?:[ .,]\d{3})+$|^\d+$")


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class AmountField(StringField):
    """A whole number of kronor, as people type it: "25000", "25 000", "25 000 kr"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("filters", [strip])
        super().__init__(*args, **kwargs)
        self.amount: int | None = None

    def pre_validate(self, form: Any) -> None:
        self.amount = None
        # No-break, narrow no-break and thin spaces group thousands in pasted numbers.
        raw = re.sub(r"[\u00a0\u202f\u2009]", " ", (self.data or "").lower())
        raw = re.sub(r"\s*(kr|kronor|sek|:-)\.?\s*", " ", raw).strip()
        if not raw:
            return
        if not _AMOUNT_RE.match(raw):
            raise ValidationError(
                _l("Give the cost as a whole number of kronor above zero, for example 25000.")
            )
        value = int(re.sub(r"[ .,]", "", raw))
        if value < 1 or value > COST_MAX:
            raise ValidationError(
                _l("Give the cost as a whole number of kronor above zero, for example 25000.")
            )
        self.amount = value


class ChoiceOrEmpty(SelectField):
    """A select whose empty value means "none"; anything else must be one of the choices."""

    data: str | None  # set by SelectField (coerce=str); declared for the type checker

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            self.data = ""
            return
        if str(self.data) not in {str(c.value) for c in self.choices}:
            raise ValidationError(_l("Choose one of the options."))


class ProposalForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Give your proposal a title.")),
            Length(min=3, max=TITLE_MAX, message=_l("Use between 3 and %(max)d characters.")),
        ],
        description=_l("A short name for your idea, e.g. “Benches along the Höje river path”."),
    )
    description = TextAreaField(
        _l("Description"),
        filters=[strip],
        validators=[Length(max=DESCRIPTION_MAX, message=_l("Use at most %(max)d characters."))],
        description=_l(
            "What should be done, where, and why? Leave a blank line between paragraphs. "
            "Links are allowed."
        ),
    )
    category = ChoiceOrEmpty(_l("Category"), choices=[])
    area = ChoiceOrEmpty(_l("Area"), choices=[])
    address = StringField(
        _l("Place (address or description)"),
        filters=[strip],
        validators=[Length(max=ADDRESS_MAX, message=_l("Use at most %(max)d characters."))],
        description=_l("For example: the playground on Vildandsvägen, Norra Fäladen."),
        render_kw={"autocomplete": "street-address"},
    )
    latitude = DecimalNumberField(
        _l("Latitude"),
        validators=[Optional()],
        min=-90,
        max=90,
        message=_l("Not a valid latitude."),
    )
    longitude = DecimalNumberField(
        _l("Longitude"),
        validators=[Optional()],
        min=-180,
        max=180,
        message=_l("Not a valid longitude."),
    )
    cost_estimate = AmountField(
        _l("Your cost estimate (SEK)"),
        description=_l("A rough guess is fine; officials will make their own estimate."),
    )
    image = FileField(
        _l("Picture (optional)"),
        description=_l("JPEG, PNG or WebP. We remove location and camera data from it."),
    )
    remove_image = BooleanField(_l("Remove the picture"))
    consent = BooleanField(
        _l("I agree that my proposal, with my name, is published and shown to everyone.")
    )

    def __init__(self, process: Process, locale: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.process = process
        self.category.choices = [SelectChoice("", _l("Choose a category"))] + [
            SelectChoice(str(c.id), c.name(locale)) for c in process.categories
        ]
        # With a whole-municipality area, "none" means it; without one, a published proposal
        # must name its area (services.AreaMissing), so "none" only says "not chosen yet".
        self.area.choices = [SelectChoice("", _l("The whole municipality / several areas")
                                          if process.whole_area else _l("Choose an area"))] + [
            SelectChoice(str(a.id), a.name) for a in process.areas
        ]  # fmt: skip
        self.publishing = False

    def validate(self, extra_validators: Any = None) -> bool:
        ok: bool = super().validate(extra_validators)
        if (self.latitude.data is None) != (self.longitude.data is None) and not (
            self.latitude.errors or self.longitude.errors
        ):
            self.longitude.errors.append(_l("Give both latitude and longitude, or neither."))
            ok = False
        if self.publishing:
            required: list[tuple[Field, Any]] = [
                (self.description, _l("Describe your proposal.")),
                (self.cost_estimate, _l("Give your cost estimate.")),
                (self.consent, _l("To publish, agree that your proposal is shown to everyone.")),
            ]
            if self.process.categories:
                required.append((self.category, _l("Choose a category.")))
            if self.process.areas and not self.process.whole_area:
                required.append((self.area, AreaMissing.message))
            for field, message in required:
                if not field.data and not field.errors:
                    field.errors.append(message)
                    ok = False
        return ok

    def id_or_none(self, field: SelectField) -> int | None:
        return int(field.data) if field.data else None


class _ParentField(IntegerField):
    """The hidden id of the comment replied to. A value that is not a number (a tampered
    form) reads as a comment that is not there, so the reply gets the service's message and
    keeps its text, not "Parent Id: Not a valid integer value" (fourth probe)."""

    data: int | None

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = -1


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Write something first.")),
            Length(max=COMMENT_MAX, message=_l("Use at most %(max)d characters.")),
        ],
    )
    parent_id = _ParentField(validators=[Optional()])  # hidden; the service checks it


EASY_MAX = 1500


class ProjectTextsForm(FlaskForm):
    """An official's texts for one ballot project: its English title and its easy-to-read
    (lättläst) summary in both languages. All optional."""

    title_en = StringField(
        _l("Title in English"),
        filters=[strip],
        validators=[Optional(), Length(max=TITLE_MAX, message=_l("Use at most %(max)d characters."))],
        description=_l("Optional. English readers see it on the ballot and in the results; "
                       "without it they see the Swedish title."),
    )  # fmt: skip
    easy_sv = TextAreaField(
        _l("Easy-to-read summary (Swedish)"),
        filters=[strip],
        validators=[Optional(), Length(max=EASY_MAX)],
        description=_l("Optional. A few short sentences with everyday words; shown first."),
    )
    easy_en = TextAreaField(
        _l("Easy-to-read summary (English)"),
        filters=[strip],
        validators=[Optional(), Length(max=EASY_MAX)],
    )
