"""Account forms. Cross-record checks (e-mail taken) become field errors."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import Email, EqualTo, InputRequired, Length, ValidationError

from pb.accounts.services import display_name_problem
from pb.forms import FlaskForm

PASSWORD_MIN = 10


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class RegisterForm(FlaskForm):
    display_name = StringField(
        _l("Name shown with what you write"), validators=[InputRequired(), Length(max=80)]
    )
    email = EmailField(
        _l("E-mail address"),
        filters=[strip],
        validators=[InputRequired(), Length(max=254), Email(check_deliverability=False)],
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(min=PASSWORD_MIN, max=200)],
        description=_l("At least %(n)s characters.", n=PASSWORD_MIN),
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
    locale = SelectField(
        _l("Language for e-mails"),
        choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")],
        default="sv",
    )

    def validate_display_name(self, field: Field) -> None:
        problem = display_name_problem(field.data or "")
        if problem is not None:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"), filters=[strip], validators=[InputRequired(), Length(max=254)]
    )
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=200)])
    password = PasswordField(
        _l("New password"),
        validators=[InputRequired(), Length(min=PASSWORD_MIN, max=200)],
        description=_l("At least %(n)s characters.", n=PASSWORD_MIN),
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )
