"""The admin form for a process and its upfront contract."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from pb.fields import BoundedDateField, BoundedDateTimeLocalField, WholeNumberField
from pb.forms import FlaskForm, Form
from pb.i18n import local_tz
from pb.processes import vocab
from pb.processes.models import BallotType, PhaseKind, TieBreak
from pb.processes.services import AreaChange, PictureNeedsText, phase_problem

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
BUDGET_MAX = 10**12
EASY_MAX = 1500
ALT_MAX = 300


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AreaForm(Form):
    # The area's id, so that an edit renames it in place (its projects and proposals stay).
    area_id = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,10}$")])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    budget = WholeNumberField(_l("Budget (SEK)"), validators=[Optional()], min=1, max=BUDGET_MAX)
    whole_municipality = BooleanField(_l("Covers the whole municipality"))


class CategoryForm(Form):
    name_sv = StringField(_l("Name in Swedish"), validators=[Optional(), Length(max=80)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=80)])


class PhaseForm(Form):
    starts_at = BoundedDateTimeLocalField(
        _l("Starts"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], validators=[Optional()]
    )
    ends_at = BoundedDateTimeLocalField(
        _l("Ends"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], validators=[Optional()]
    )

    def validate_ends_at(self, field: Field) -> None:
        start, end = self.starts_at.data, field.data
        if (start is None) != (end is None):
            raise ValidationError(_l("Give both a start and an end, or neither."))
        if start and end and end <= start:
            raise ValidationError(_l("The end must come after the start."))


class ProcessForm(FlaskForm):
    title_sv = StringField(_l("Title (Swedish)"), validators=[InputRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=200)])
    slug = StringField(
        _l("Web address"),
        validators=[
            InputRequired(),
            Length(max=80),
            Regexp(SLUG_RE, message=_l("Use lower-case letters a–z, digits and hyphens.")),
        ],
        description=_l("Appears in the link, e.g. lund-parker-2027."),
    )
    published = BooleanField(_l("Published (visible to everyone)"))
    purpose_sv = TextAreaField(
        _l("Purpose (Swedish)"), validators=[InputRequired(), Length(max=5000)]
    )
    purpose_en = TextAreaField(_l("Purpose (English)"), validators=[Optional(), Length(max=5000)])
    easy_sv = TextAreaField(
        _l("Easy-to-read summary (Swedish)"),
        validators=[Optional(), Length(max=EASY_MAX)],
        description=_l("Optional. A few short sentences with everyday words; shown first."),
    )
    easy_en = TextAreaField(
        _l("Easy-to-read summary (English)"), validators=[Optional(), Length(max=EASY_MAX)]
    )
    question_sv = StringField(
        _l("Question asked (Swedish)"), validators=[Optional(), Length(max=300)]
    )
    question_en = StringField(
        _l("Question asked (English)"), validators=[Optional(), Length(max=300)]
    )
    image = FileField(
        _l("Picture (optional)"),
        description=_l(
            "JPEG, PNG or WebP, wide rather than tall. Shown on the process's card and at the "
            "top of its page. We remove location and camera data from it."
        ),
    )
    image_alt_sv = StringField(
        _l("What the picture shows (Swedish)"),
        validators=[Optional(), Length(max=ALT_MAX)],
        description=_l("Needed with a picture: a short sentence for people who cannot see it."),
    )
    image_alt_en = StringField(
        _l("What the picture shows (English)"), validators=[Optional(), Length(max=ALT_MAX)]
    )
    remove_image = BooleanField(_l("Remove the picture"))
    influence_level = SelectField(_l("Form of influence"), choices=[], validators=[InputRequired()])
    decision_body_sv = StringField(
        _l("Who takes the final decision (Swedish)"),
        validators=[InputRequired(), Length(max=200)],
        description=_l("For example: Tekniska nämnden"),
    )
    decision_body_en = StringField(
        _l("Who takes the final decision (English)"), validators=[Optional(), Length(max=200)]
    )
    decision_date = BoundedDateField(_l("Date of the decision"), validators=[Optional()])
    decision_text_sv = TextAreaField(
        _l("What the result decides (Swedish)"), validators=[InputRequired(), Length(max=5000)]
    )
    decision_text_en = TextAreaField(
        _l("What the result decides (English)"), validators=[Optional(), Length(max=5000)]
    )
    budget = WholeNumberField(
        _l("Total budget (SEK)"), validators=[InputRequired()], min=1, max=BUDGET_MAX
    )
    areas = FieldList(FormField(AreaForm), min_entries=4, max_entries=30)
    categories = FieldList(FormField(CategoryForm), min_entries=6, max_entries=40)
    phases = FormField(
        type(
            "PhasesForm",
            (Form,),
            {
                k.value.replace("-", "_"): FormField(PhaseForm, label=vocab.PHASES[k][0])
                for k in PhaseKind
            },
        )
    )
    min_age = WholeNumberField(
        _l("Minimum age"), default=12, validators=[InputRequired()], min=0, max=120
    )
    connections = MultiCheckboxField(_l("Who may take part (at least one of these)"), choices=[])
    other_connection_sv = StringField(
        _l("Other connection (Swedish)"), validators=[Optional(), Length(max=300)]
    )
    other_connection_en = StringField(
        _l("Other connection (English)"), validators=[Optional(), Length(max=300)]
    )
    area_restricted = BooleanField(_l("Each voter votes only in the area they belong to"))
    code_channels = MultiCheckboxField(_l("How voting codes are handed out"), choices=[])
    ballot_type = SelectField(_l("Ballot"), choices=[], validators=[InputRequired()])
    max_projects = WholeNumberField(
        _l("At most this many projects"), validators=[Optional()], min=1, max=1000
    )
    min_projects = WholeNumberField(
        _l("At least this many projects"), validators=[Optional()], min=1, max=1000
    )
    min_budget_share_pct = WholeNumberField(
        _l("Chosen projects must use at least this share of the budget (%)"),
        validators=[Optional()],
        min=1,
        max=100,
    )
    points_total = WholeNumberField(
        _l("Points to spread"), validators=[Optional()], min=1, max=1000
    )
    max_points_per_project = WholeNumberField(
        _l("At most this many points on one project"), validators=[Optional()], min=1, max=1000
    )
    counting_rule = SelectField(_l("Counting rule"), choices=[], validators=[InputRequired()])
    tie_break = SelectField(
        _l("Tie-break"),
        choices=[],
        default=TieBreak.PROJECT_NUMBER.value,
        validators=[InputRequired()],
    )
    lottery_seed = StringField(
        _l("Lottery seed (published before voting)"),
        validators=[Optional(), Length(max=64), Regexp(r"^[A-Za-z0-9-]+$")],
        render_kw={"autocomplete": "off"},
    )

    def __init__(self, *args: Any, current_image: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_image = current_image  # the process's picture now, if it has one
        self.influence_level.choices = vocab.choices(vocab.INFLUENCE)
        self.connections.choices = vocab.choices(vocab.CONNECTIONS)
        self.code_channels.choices = vocab.choices(vocab.CHANNELS)
        self.ballot_type.choices = vocab.choices(vocab.BALLOT_TYPES)
        self.counting_rule.choices = vocab.choices(vocab.COUNTING_RULES)
        self.tie_break.choices = vocab.choices(vocab.TIE_BREAKS)

    def validate_connections(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one connection."))

    def validate(self, extra_validators: Any = None) -> bool:
        """Field validators first, then the checks that span fields (they must also run when
        an optional field was left empty, which stops that field's own chain)."""
        ok: bool = super().validate(extra_validators)
        cross = [
            (self.other_connection_sv,
             "other" in (self.connections.data or []) and not (self.other_connection_sv.data or "").strip(),
             _l("Describe the other connection.")),
            (self.max_projects,
             self.ballot_type.data == BallotType.APPROVAL_K and not self.max_projects.data,
             _l("Say how many projects a voter may choose.")),
            (self.max_projects,
             bool(self.max_projects.data and self.min_projects.data
                  and self.min_projects.data > self.max_projects.data),
             _l("The minimum cannot be larger than the maximum.")),
            (self.points_total,
             self.ballot_type.data == BallotType.CUMULATIVE and not self.points_total.data,
             _l("Say how many points each voter spreads.")),
            (self.max_points_per_project,
             bool(self.max_points_per_project.data and self.points_total.data
                  and self.max_points_per_project.data > self.points_total.data),
             _l("Cannot exceed the points to spread.")),
            (self.lottery_seed,
             self.tie_break.data == "lottery" and not self.lottery_seed.data,
             _l("A lottery needs a seed that is published before voting.")),
            (self.image_alt_sv,
             self.keeps_picture() and not (self.image_alt_sv.data or "").strip(),
             PictureNeedsText.message),
        ]  # fmt: skip
        for field, broken, message in cross:
            if broken:
                field.errors = [*field.errors, message]
                ok = False
        if not self.phases.errors:
            problem = phase_problem(self.phase_data(local_tz()))
            if problem is not None:
                starts = self._phase_form(problem[0]).starts_at
                starts.errors = [*starts.errors, problem[1]]
                ok = False
        return ok

    def new_picture(self) -> bool:
        """Was a file sent with the form?"""
        return bool(getattr(self.image.data, "filename", ""))

    def keeps_picture(self) -> bool:
        """Will the process have a picture after this save?"""
        return self.new_picture() or bool(self.current_image and not self.remove_image.data)

    def _phase_form(self, kind: PhaseKind) -> Any:
        return getattr(self.phases.form, kind.value.replace("-", "_")).form

    def validate_areas(self, field: Field) -> None:
        ids = [r.form.area_id.data for r in field.entries if r.form.area_id.data]
        if any(r.form.area_id.errors for r in field.entries) or len(set(ids)) != len(ids):
            raise ValidationError(
                _l("The areas could not be saved: reload the page and try again.")
            )
        rows = [r for r in field.entries if (r.form.name.data or "").strip() or r.form.budget.data]
        names: set[str] = set()
        total = 0
        for row in rows:
            name = (row.form.name.data or "").strip()
            if not name or not row.form.budget.data:
                raise ValidationError(_l("Every area needs a name and a budget."))
            if name.lower() in names:
                raise ValidationError(_l("Two areas have the same name."))
            names.add(name.lower())
            total += row.form.budget.data
        if sum(bool(r.form.whole_municipality.data) for r in rows) > 1:
            raise ValidationError(_l("Only one area can cover the whole municipality."))
        if rows and self.budget.data and total != self.budget.data:
            raise ValidationError(
                _l(
                    "The areas' budgets must add up to the total budget (they add up to %(t)s).",
                    t=total,
                )
            )

    def validate_categories(self, field: Field) -> None:
        for row in field.entries:
            if (row.form.name_en.data or "").strip() and not (row.form.name_sv.data or "").strip():
                raise ValidationError(_l("Every category needs a Swedish name."))

    # -- conversion helpers used by the route ------------------------------------------

    def phase_data(self, tz: ZoneInfo) -> dict[PhaseKind, tuple[dt.datetime, dt.datetime]]:
        out = {}
        for kind in PhaseKind:
            sub = self._phase_form(kind)
            if sub.starts_at.data and sub.ends_at.data:
                out[kind] = (
                    sub.starts_at.data.replace(tzinfo=tz),
                    sub.ends_at.data.replace(tzinfo=tz),
                )
        return out

    def area_data(self) -> list[AreaChange]:
        """The filled-in area rows; a row whose name and budget were cleared is an area to
        remove."""
        return [
            AreaChange(
                name=(r.form.name.data or "").strip(),
                budget=int(r.form.budget.data),
                id=int(r.form.area_id.data) if r.form.area_id.data else None,
                whole_municipality=bool(r.form.whole_municipality.data),
            )
            for r in self.areas.entries
            if (r.form.name.data or "").strip() and r.form.budget.data
        ]

    def category_data(self) -> list[tuple[str, str]]:
        return [
            ((r.form.name_sv.data or "").strip(), (r.form.name_en.data or "").strip())
            for r in self.categories.entries
            if (r.form.name_sv.data or "").strip()
        ]
