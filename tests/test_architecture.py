"""Dependencies point one way (issue #8, item 11): the import-linter contracts in
pyproject.toml hold. `.ci/run` runs `lint-imports` too; this keeps it in the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.fail("lint-imports is missing: pip install -e '.[test]'")
    run = subprocess.run(
        [exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_views_extend_the_csp_instead_of_rewriting_it(make_app: object) -> None:
    from flask import Flask

    from pb.security import content_security_policy, extend_csp

    app = make_app()  # type: ignore[operator]
    assert isinstance(app, Flask)
    with app.test_request_context():
        base = content_security_policy()
        extend_csp("img-src", "https://tiles.example.org", "'self'")
        extend_csp("img-src", "https://tiles.example.org")
        after = content_security_policy()
    assert "img-src 'self' data:;" in base
    assert "img-src 'self' data: https://tiles.example.org;" in after
    assert after.replace(" https://tiles.example.org", "") == base
    with app.test_request_context(), pytest.raises(ValueError):
        extend_csp("script-src-elem", "https://evil.example.org")
