"""A warm app process freezes what it holds once (pb._freeze_when_warm), so that the
garbage collector's full collections stop scanning it."""

from __future__ import annotations

from typing import Any


def test_a_warm_process_freezes_what_it_holds_once(make_app: Any) -> None:
    """Outside tests, the 200th request moves what the process holds out of the garbage
    collector's sight (pb._freeze_when_warm); ENV=test apps never do."""
    import gc

    from pb import FREEZE_AFTER

    gc.unfreeze()
    try:
        tested = make_app()
        for _ in range(FREEZE_AFTER[0]):
            tested.test_client().get("/healthz")
        assert gc.get_freeze_count() == 0
        app = make_app(ENV="development")
        client = app.test_client()
        for _ in range(FREEZE_AFTER[0] - 1):
            client.get("/healthz")
        assert gc.get_freeze_count() == 0
        client.get("/healthz")
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
