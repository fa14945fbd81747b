"""A micro-cache of public pages for visitors who are not logged in.

The front page, a process's page, its proposal list and proposals, the vote's start page and
the results are the same for every visitor who is not logged in, apart from the form token (CSRF) in
their forms. Rendering one costs 2 to 6 ms of CPU; at a busy vote most requests are these.
So each app process keeps what it rendered for ``PAGE_CACHE_SECONDS`` (2 s by default, 0
turns it off; off in tests unless a test turns it on) and serves it again to the next
visitor, with that visitor's own form token put in. A visitor sees a public page at most
that many seconds old; a logged-in person always sees it fresh.

What is never served from the cache, and never stored:
- anything for a logged-in person, and any request whose session holds a message to show
  ("Your proposal was published") -- the page would lose it or show it to someone else;
- a request with a query other than ``?lang=`` (unless the route allows more arguments):
  a search, a filter, a code in a link;
- an answer other than 200 (a 404, 410 or a redirect) or one a view built as a response
  object (which may carry its own headers).

The key is the host, scheme, path, query and language. The page is stored with the form
token of the request that rendered it replaced by a random marker of this process; a hit
puts the current visitor's token (Flask-WTF's ``generate_csrf``, which also starts their
session as rendering would) in its place. The before- and after-request hooks (security
headers, ``Cache-Control``, the map's CSP) run for a hit as for a miss: only the view and
its template are skipped. Each app has its own cache (``app.extensions``), bounded in
entries; several app processes each keep their own, which is why the time is short.
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

from flask import Flask, current_app, g, request, session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from pb.i18n import LOCALES

P = ParamSpec("P")
R = TypeVar("R")

MAX_ENTRIES = 512
MAX_BODY = 512 * 1024  # characters; a larger page is not kept
EXTENSION = "pb.pagecache"


@dataclass(frozen=True)
class Entry:
    expires: float
    body: str
    has_token: bool


class PageCache:
    """Rendered pages by key, each until its time is up; the least recently used goes first
    when ``MAX_ENTRIES`` are kept. Safe to share between a worker's threads."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.marker = f"pb-form-token-{secrets.token_hex(16)}"
        self._entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], now: float) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.expires <= now:
                if entry is not None:
                    del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple[Any, ...], entry: Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = PageCache()


def cache_of(app: Flask) -> PageCache:
    return cast(PageCache, app.extensions[EXTENSION])


def _allowed(args: frozenset[str]) -> bool:
    """A GET or HEAD by a visitor not logged in, with no message waiting in the session, a
    known language if any, and only ``args`` in the query, each once."""
    if request.method not in ("GET", "HEAD"):
        return False
    query = list(request.args.items(multi=True))
    if len(query) != len(request.args) or not {name for name, _ in query} <= args:
        return False
    if request.args.get("lang", LOCALES[0]) not in LOCALES:
        return False
    return not current_user.is_authenticated and "_flashes" not in session


def public_page(
    args: tuple[str, ...] = (), when: Callable[[], bool] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Serve this GET view from the micro-cache to visitors who are not logged in.
    ``args``: query arguments besides ``lang`` that may vary the page (each at most once);
    ``when``: a further condition on the request (e.g. not a random order)."""
    allowed = frozenset(("lang", *args))

    def decorator(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @functools.wraps(view)
        def wrapped(*a: P.args, **kw: P.kwargs) -> R | ResponseReturnValue:
            seconds = current_app.config["PAGE_CACHE_SECONDS"]
            if not seconds or not _allowed(allowed) or (when is not None and not when()):
                return view(*a, **kw)
            cache = cache_of(current_app._get_current_object())  # type: ignore[attr-defined]
            key = (request.host, request.scheme, request.path, request.query_string,
                   str(get_locale()))  # fmt: skip
            now = time.monotonic()
            entry = cache.get(key, now)
            if entry is not None:
                if entry.has_token:
                    return entry.body.replace(cache.marker, generate_csrf())
                return entry.body
            result = view(*a, **kw)
            body: str | None = result if isinstance(result, str) else None
            if isinstance(result, tuple) and len(result) == 2 and result[1] == 200:
                body = result[0] if isinstance(result[0], str) else None
            if body is not None and len(body) <= MAX_BODY:
                token = g.get("csrf_token")
                has_token = bool(token) and token in body
                stored = body.replace(token, cache.marker) if has_token else body
                cache.put(key, Entry(now + seconds, stored, has_token))
            return result

        return wrapped

    return decorator


__all__ = ["PageCache", "cache_of", "init_app", "public_page"]
