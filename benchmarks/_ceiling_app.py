"""The least a Flask app can do for a cast, for ``ceiling.py`` (not pb; never deployed).

``create_app()`` serves, under gunicorn:

- ``GET /hello``: a constant 13-byte answer (no database, no template, no session);
- ``GET /p/<slug>/vote``: a constant page holding a ``csrf_token`` field, so that
  ``voting.py``'s clients can run against it unchanged;
- ``POST /p/<slug>/vote/ballot``: a cast reduced to its durable core: the code's keyed
  hash (HMAC-SHA256), one transaction that marks the code used with a conditional update
  and stores the choices with a random id and receipt, and a short page with the receipt.
  No CSRF check, session, rate limit, template, ORM, rules check or audit;
- for ``load.py --app ceiling``, every other request of its mix answered with a constant
  page (no database, no template, no session): the front page, a process page, the proposal
  list (with links to proposals), a proposal, the log-in page and form, the propose form;
  publishing and supporting answer 303 to a proposal, as pb does.

The database is ``CEILING_URL`` (tables made by ``ceiling.py``), with pb's own engine
settings (``pb.db.make_engine``: WAL and ``PB_SQLITE_SYNCHRONOUS`` on SQLite).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets

import sqlalchemy as sa
from flask import Flask, redirect, request
from werkzeug.wrappers import Response

from pb.db import make_engine

PEPPER = b"ceiling-benchmark-pepper"
PAGE = '<!doctype html><title>pb</title><form><input name="csrf_token" value="ceiling"></form>'


def code_hash(code: str) -> str:
    return hmac.new(PEPPER, code.encode(), hashlib.sha256).hexdigest()


def create_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(
        os.environ["CEILING_URL"],
        sqlite_synchronous=os.environ.get("PB_SQLITE_SYNCHRONOUS", "NORMAL"),
    )
    mark = sa.text("UPDATE ceiling_codes SET used = 1 WHERE hash = :h AND used = 0")
    hold = sa.text("INSERT INTO ceiling_held (id, choices, receipt) VALUES (:id, :c, :r)")

    @app.get("/hello")
    def hello() -> str:
        return "Hello, world!"

    @app.get("/p/<slug>/vote")
    def page(slug: str) -> str:
        return '<form><input name="csrf_token" value="ceiling"></form>'

    @app.get("/")
    @app.get("/p/<slug>")
    @app.get("/p/<slug>/proposals/<int:pid>")
    @app.get("/p/<slug>/proposals/new")
    @app.route("/account/login", methods=["GET", "POST"])
    def constant(slug: str = "", pid: int = 0) -> str:
        return PAGE

    @app.get("/p/<slug>/proposals")
    def proposals(slug: str) -> str:
        return PAGE + "".join(f'<a href="/p/{slug}/proposals/{n}">{n}</a>' for n in range(1, 21))

    @app.post("/p/<slug>/proposals/new")
    @app.post("/p/<slug>/proposals/<int:pid>/<any(support, unsupport):action>")
    def change(slug: str, pid: int = 1, action: str = "") -> Response:
        return redirect(f"/p/{slug}/proposals/{pid}", code=303)

    @app.post("/p/<slug>/vote/ballot")
    def cast(slug: str) -> tuple[str, int]:
        code = request.form.get("code", "")
        choices = json.dumps(sorted(request.form.getlist("pick")))
        receipt = secrets.token_hex(8)
        with engine.begin() as conn:
            if conn.execute(mark, {"h": code_hash(code)}).rowcount != 1:
                return "This code has already been used.", 409
            conn.execute(hold, {"id": secrets.token_hex(16), "c": choices, "r": receipt})
        return f'<p id="receipt">{receipt}</p>', 200

    return app
