"""The trust tests run the app as in production (secure cookies, HSTS, exceptions turned
into the 500 page, CSRF checked): a 500 is then an answer the tests see, not an exception."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "ENV": "production", "WTF_CSRF_ENABLED": True}
