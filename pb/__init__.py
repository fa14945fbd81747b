"""pb: participatory budgeting and voting for municipalities.

``create_app`` is the application factory: configuration (``pb.config``), extensions,
blueprints. Templates and static files live at the repository root.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


# After this many requests a process has compiled its templates and filled its pools and
# caches: what it holds then lives as long as the process.
FREEZE_AFTER = (200, 2000)


def _freeze_when_warm(app: Flask) -> None:
    """Move what a warm process holds out of the garbage collector's sight (``gc.freeze``).
    A worker holds ~135,000 tracked objects once warm, and a full collection of them took
    40-57 ms of CPU, stopping the worker about once per 1,000 requests; frozen, 1-3 ms
    (benchmarks/README.md, load.py). One collection at each step in ``FREEZE_AFTER``. Not
    under ENV=test, where one process makes many apps."""
    import gc

    served = [0]

    @app.teardown_request
    def _count(_exc: BaseException | None) -> None:
        served[0] += 1
        if served[0] in FREEZE_AFTER:
            gc.collect()
            gc.freeze()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    # Flask and pb.config are imported here, not at the top, so that `import pb.tally` (the
    # pure counting library researchers use) and `pb tally` load no web framework and no
    # settings.
    from flask import Flask, Response

    from pb import config as pb_config
    from pb.wrappers import PBRequest, RowIdConverter

    instance_path = Path(os.environ.get("PB_INSTANCE_PATH") or ROOT / "instance").resolve()
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.request_class = PBRequest
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    settings = pb_config.load(instance_path, test_config)
    app.config.update(settings)
    app.config.update(
        TESTING=settings["ENV"] == "test" or bool(settings.get("TESTING")),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings["SESSION_COOKIE_SECURE"],
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None if settings["ENV"] != "production" else 8 * 3600,
        # Each package keeps its own catalogue: pb/translations, pb/<domain>/translations.
        BABEL_TRANSLATION_DIRECTORIES=";".join(
            str(p) for p in sorted(Path(__file__).parent.glob("**/translations")) if p.is_dir()
        ),
        BABEL_DEFAULT_TIMEZONE=settings["TIMEZONE"],
        JSON_SORT_KEYS=False,
    )
    if test_config and "WTF_CSRF_ENABLED" in test_config:
        app.config["WTF_CSRF_ENABLED"] = test_config["WTF_CSRF_ENABLED"]

    if settings["TRUSTED_PROXIES"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]

    from pb import accounts, db, errors, i18n, pagecache, security

    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    accounts.init_app(app)
    errors.init_app(app)
    pagecache.init_app(app)

    from pb.accounts.data_routes import bp as privacy_bp
    from pb.accounts.routes import bp as accounts_bp
    from pb.mail.routes import bp as mail_bp
    from pb.main import bp as main_bp
    from pb.moderation.routes import bp as moderation_bp
    from pb.processes.routes import admin_bp as process_admin_bp
    from pb.processes.routes import bp as processes_bp
    from pb.proposals.api import bp as proposals_api_bp
    from pb.proposals.routes import bp as proposals_bp
    from pb.results.api import bp as results_api_bp
    from pb.results.follow_routes import bp as followup_bp
    from pb.results.routes import bp as results_bp
    from pb.voting.routes import bp as voting_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(processes_bp)
    app.register_blueprint(process_admin_bp)
    app.register_blueprint(proposals_bp)
    app.register_blueprint(proposals_api_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(voting_bp)
    app.register_blueprint(results_bp)  # results: pages, downloads
    app.register_blueprint(results_api_bp)
    app.register_blueprint(followup_bp)  # results: following projects, feedback
    app.register_blueprint(privacy_bp)  # the privacy page; download your data, delete account

    # Each package's share of a person's data (pb/accounts/privacy.py), lowest layer first.
    from pb.accounts import privacy
    from pb.moderation import privacy as moderation_privacy
    from pb.processes import privacy as processes_privacy
    from pb.proposals import privacy as proposals_privacy
    from pb.results import privacy as results_privacy
    from pb.voting import privacy as voting_privacy

    privacy.register(
        app,
        *privacy.CORE_PARTS,
        processes_privacy.PART,
        proposals_privacy.PART,
        moderation_privacy.PART,
        voting_privacy.PART,
        results_privacy.PART,
    )

    from pb.forms import error_links
    from pb.text import paragraphs

    app.jinja_env.filters["paragraphs"] = paragraphs
    app.jinja_env.globals["error_links"] = error_links
    from pb.web import template_url_for

    app.jinja_env.globals["url_for"] = template_url_for(app)

    if settings["ENV"] != "test":
        _freeze_when_warm(app)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", security.content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":  # the language follows the browser's, unless chosen
            response.vary.add("Accept-Language")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response

    return app
