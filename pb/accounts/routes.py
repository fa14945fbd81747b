"""Register (an e-mailed link finishes it), log in, log out, change password."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from pb.accounts import services
from pb.accounts.forms import (
    ChangePasswordForm,
    FinishRegistrationForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
)
from pb.audit import AuditAction, record
from pb.db import get_session
from pb.errors import user_error
from pb.i18n import locale_code
from pb.security import client_ip, is_safe_redirect, limiter, login_required
from pb.web import attempt

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _next_url() -> str:
    target = request.args.get("next") or request.form.get("next")
    return target if target and is_safe_redirect(target) else url_for("main.home")


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    """The first step of creating an account: an address to mail a link to. Every accepted
    address gets the same answer and an e-mail (a link to finish, or a note that it already
    has an account), so this page does not tell which addresses have accounts."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        email = services.normalize_email(form.email.data or "")
        refused = _mail_with_brakes(
            form,
            "accounts/register.html",
            lambda n: ngettext(
                "Too many accounts have been asked for. Try again in %(num)d minute.",
                "Too many accounts have been asked for. Try again in %(num)d minutes.",
                n,
            ),
            [("register.ip", client_ip()), ("register.all", "all")],
            ("register.email", email),
            lambda: services.request_registration(
                get_session(), email=email, locale=form.locale.data
            ),
        )
        return refused or redirect(url_for("accounts.register_sent"), code=303)
    return render_template("accounts/register.html", form=form), 400 if form.errors else 200


@bp.get("/register/sent")
def register_sent() -> Any:
    return render_template("accounts/register_sent.html")


@bp.route("/register/finish/<token>", methods=["GET", "POST"])
def register_finish(token: str) -> Any:
    """The second step, from the e-mailed link: name and password; then logged in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    try:
        email, locale = services.registration_link(token)
    except services.RegistrationLinkInvalid as exc:
        raise user_error(400, str(exc.message)) from None
    session = get_session()
    if services.find_by_email(session, email) is not None:
        flash(str(services.EmailTaken.message), "info")
        return redirect(url_for("accounts.login"), code=303)
    form = FinishRegistrationForm()
    if form.validate_on_submit():
        with attempt(session) as done:
            user = services.register(
                session,
                email=email,
                password=form.password.data or "",
                display_name=form.display_name.data or "",
                locale=locale,
            )
        if done.error:
            form.form_errors.append(done.message)
            return render_template("accounts/register_finish.html", form=form, email=email), (
                done.status
            )
        login_user(user)
        flash(_("Welcome! Your account is ready."), "success")
        return redirect(url_for("main.home"), code=303)
    return render_template("accounts/register_finish.html", form=form, email=email), (
        400 if form.errors else 200
    )


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def _mail_with_brakes(
    form: Any,
    template: str,
    refusal: Callable[[int], str],
    limits: list[tuple[str, str]],
    per_address: tuple[str, str],
    send: Callable[[], None],
) -> Any:
    """The brakes of a page that mails a link to any address typed in: past one of
    ``limits`` (limiter name, key) the page is refused with a 429 that says in how many
    minutes to try again (``refusal``); past a few mails an hour to one address
    (``per_address``) ``send`` is skipped without a word, so the answer stays the same.
    Returns the refusal, or None once the mail is queued (or silently skipped)."""
    wait = max(limiter(name).resets_in(key) for name, key in limits)
    if wait:
        form.form_errors.append(refusal(_minutes(wait.total_seconds())))
        return render_template(template, form=form), 429
    for name, key in limits:
        limiter(name).hit(key)
    by_address, address = limiter(per_address[0]), per_address[1]
    if by_address.test(address):
        by_address.hit(address)
        with attempt():
            send()
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = services.normalize_email(form.email.data or "")
        by_email, by_ip = limiter("login.email"), limiter("login.ip")
        # resets_in is zero while a key may still act: one query per limiter answers both
        # "is it blocked?" and "for how long?".
        wait = max(lim.resets_in(key) for lim, key in ((by_email, email), (by_ip, client_ip())))
        if wait:
            n = _minutes(wait.total_seconds())
            form.form_errors.append(
                ngettext(
                    "Too many failed attempts. Try again in %(num)d minute.",
                    "Too many failed attempts. Try again in %(num)d minutes.",
                    n,
                )
            )
            return render_template("accounts/login.html", form=form), 429
        session = get_session()
        user = services.authenticate(session, email, form.password.data or "")
        if user is None:
            by_email.hit(email)
            by_ip.hit(client_ip())
            form.form_errors.append(_("The e-mail address or the password is wrong."))
            status = 400
        else:
            by_email.clear(email)
            with attempt(session):
                record(session, AuditAction.USER_LOGIN, actor=user, subject=user)
            login_user(user, remember=bool(form.remember.data))
            return redirect(_next_url(), code=303)
    elif form.errors:
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.home"), code=303)


@bp.route("/", methods=["GET", "POST"])
@login_required
def me() -> Any:
    """Your page: who you are, the language of your e-mails, your proposals and what you
    follow (the packages above add those sections), and a way to change your password."""
    user = current_user._get_current_object()
    form = LanguageForm(locale=user.locale or "sv")
    if form.validate_on_submit():
        with attempt() as done:
            services.set_locale(user, form.locale.data or "sv")
        if done.ok:
            flash(_("Saved. E-mails to you will be in this language."), "success")
            return redirect(url_for("accounts.me"), code=303)
    return render_template("accounts/me.html", form=form, user=user), 400 if form.errors else 200


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with attempt() as done:
            services.change_password(
                get_session(),
                current_user._get_current_object(),
                form.current.data or "",
                form.password.data or "",
            )
        if not done.ok:
            form.current.errors.append(done.message)
        else:
            login_user(current_user._get_current_object())  # new session version for this browser
            flash(
                _("Your password has been changed. Other devices have been logged out."), "success"
            )
            return redirect(url_for("accounts.change_password"), code=303)
    return render_template("accounts/password.html", form=form), 400 if form.errors else 200


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> Any:
    """A forgotten password: an address to mail a link to. Every accepted address gets the
    same answer and an e-mail (a link, or a note that no account has the address), so this
    page does not tell which addresses have accounts."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = services.normalize_email(form.email.data or "")
        refused = _mail_with_brakes(
            form,
            "accounts/forgot.html",
            lambda n: ngettext(
                "Too many new passwords have been asked for. Try again in %(num)d minute.",
                "Too many new passwords have been asked for. Try again in %(num)d minutes.",
                n,
            ),
            [("password-reset.ip", client_ip())],
            ("password-reset.email", email),
            lambda: services.request_password_reset(
                get_session(), email=email, locale=locale_code()
            ),
        )
        return refused or redirect(url_for("accounts.forgot_sent"), code=303)
    return render_template("accounts/forgot.html", form=form), 400 if form.errors else 200


@bp.get("/password/forgot/sent")
def forgot_sent() -> Any:
    return render_template("accounts/forgot_sent.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    """From the e-mailed link: a new password. Then every session of the account ends and
    the person logs in with it."""
    session = get_session()
    try:
        services.reset_link_user(session, token)
    except services.ResetLinkInvalid as exc:
        return render_template("accounts/reset_invalid.html", message=exc.message), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with attempt(session) as done:
            user = services.reset_password(session, token, form.password.data or "")
        if done.error:  # the link was used meanwhile
            return render_template("accounts/reset_invalid.html", message=done.message), 400
        limiter("login.email").clear(user.email)  # failed guesses of the old password end
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your password has been changed. Log in with your new password."), "success")
        return redirect(url_for("accounts.login"), code=303)
    return render_template("accounts/reset.html", form=form), 400 if form.errors else 200
