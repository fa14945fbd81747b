"""Account forms."""

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
# What browsers and password managers fill in (WCAG 1.3.5, identify input purpose).
NEW_PASSWORD = {"autocomplete": "new-password"}
CURRENT_PASSWORD = {"autocomplete": "current-password"}


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class RegisterForm(FlaskForm):
    """The first step: the address to send the link to, and the language of the e-mail."""

    email = EmailField(
        _l("E-mail address"),
        filters=[strip],
        validators=[InputRequired(), Length(max=254), Email(check_deliverability=False)],
        description=_l("We send a link to this address; open it to finish."),
        render_kw={"autocomplete": "email"},
    )
    locale = SelectField(
        _l("Language for e-mails"),
        choices=[SelectChoice("sv", "Svenska"), SelectChoice("en", "English")],
        default="sv",
    )


LANGUAGES = [SelectChoice("sv", "Svenska"), SelectChoice("en", "English")]


class LanguageForm(FlaskForm):
    """The language of the e-mails pb sends you (pages follow the switch in the header)."""

    locale = SelectField(_l("Language for e-mails"), choices=LANGUAGES, default="sv")


class FinishRegistrationForm(FlaskForm):
    """The second step, from the link in the e-mail: name and password."""

    display_name = StringField(
        _l("Name shown with what you write"),
        filters=[strip],
        # InputRequired, not DataRequired: a name of spaces gets the message that says why.
        validators=[InputRequired(), Length(max=80)],
        render_kw={"autocomplete": "name"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(min=PASSWORD_MIN, max=200)],
        description=_l("At least %(n)s characters.", n=PASSWORD_MIN),
        render_kw=NEW_PASSWORD,
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw=NEW_PASSWORD,
    )

    def validate_display_name(self, field: Field) -> None:
        problem = display_name_problem(field.data or "")
        if problem is not None:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        filters=[strip],
        validators=[InputRequired(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"), validators=[InputRequired(), Length(max=200)], render_kw=CURRENT_PASSWORD
    )
    remember = BooleanField(_l("Keep me logged in on this device"))


def new_password() -> PasswordField:
    """The new password, by the rules every password follows."""
    return PasswordField(
        _l("New password"),
        validators=[InputRequired(), Length(min=PASSWORD_MIN, max=200)],
        description=_l("At least %(n)s characters.", n=PASSWORD_MIN),
        render_kw=NEW_PASSWORD,
    )


def new_password_again() -> PasswordField:
    return PasswordField(
        _l("New password again"),
        validators=[InputRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw=NEW_PASSWORD,
    )


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[InputRequired(), Length(max=200)],
        render_kw=CURRENT_PASSWORD,
    )
    password = new_password()
    confirm = new_password_again()


class ResetPasswordForm(FlaskForm):
    """A new password, from the link in the e-mail (the same rules as when registering)."""

    password = new_password()
    confirm = new_password_again()


class ForgotPasswordForm(FlaskForm):
    """A forgotten password: the address to send a link to."""

    email = EmailField(
        _l("E-mail address"),
        filters=[strip],
        validators=[InputRequired(), Length(max=254), Email(check_deliverability=False)],
        description=_l("The address of your account. We send a link to it."),
        render_kw={"autocomplete": "email"},
    )


class DeleteAccountForm(FlaskForm):
    """Deleting one's account: the password, and a tick that one understands."""

    password = PasswordField(_l("Your password"), validators=[InputRequired(), Length(max=200)])
    understood = BooleanField(
        _l("I understand that my account cannot be brought back."),
        validators=[InputRequired(message=_l("Tick the box to confirm."))],
    )
