"""The privacy page, and a person's own data: download it as JSON, delete the account."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from pb.accounts import privacy
from pb.accounts.forms import DeleteAccountForm
from pb.db import get_session, utcnow
from pb.security import login_required
from pb.web import attempt

bp = Blueprint("privacy", __name__)


@bp.get("/privacy")
def page() -> Any:
    cfg = current_app.config
    return render_template(
        "accounts/privacy.html",
        controller=cfg["PRIVACY_CONTROLLER"],
        contact=cfg["PRIVACY_CONTACT"],
        code_email_days=cfg["PRIVACY_CODE_EMAIL_DAYS"],
        follow_days=cfg["PRIVACY_FOLLOW_DAYS"],
        sent_mail_days=cfg["PRIVACY_SENT_MAIL_DAYS"],
    )


@bp.get("/account/data")
@login_required
def mine() -> Any:
    return render_template("accounts/data.html", form=DeleteAccountForm())


@bp.get("/account/data.json")
@login_required
def download() -> Any:
    body = privacy.as_json(privacy.export(get_session(), current_user._get_current_object()))
    stamp = utcnow().strftime("%Y-%m-%d")
    return current_app.response_class(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="pb-my-data-{stamp}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/account/delete")
@login_required
def delete() -> Any:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        with attempt() as done:
            privacy.delete_account(
                get_session(), current_user._get_current_object(), form.password.data or ""
            )
        if done.ok:
            logout_user()
            flash(_("Your account is deleted. What you wrote stays, without your name."), "info")
            return redirect(url_for("main.home"), code=303)
        form.password.errors.append(done.message)
        return render_template("accounts/data.html", form=form), done.status
    return render_template("accounts/data.html", form=form), 400
