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
- a request with a query other than ``?lang=`` (unless the route allows more arguments, as
  the proposal list its filters and pages; never a search or a code in a link), or a long
  path or query;
- an answer other than 200 (a 404, 410 or a redirect) or one a view built as a response
  object (which may carry its own headers).

The key is the path, the query and the language (no page shows the host or the scheme).
The page is rendered with a marker secret to this process as its form token (Flask-WTF's
``generate_csrf`` answers what ``g`` holds), so the marker stands exactly where a token goes
and nowhere else; every answer, a hit or the miss that rendered it, gets the visitor's own
token in its place (``generate_csrf`` again, which starts their session as rendering
would). The before- and after-request hooks (security headers, ``Cache-Control``, the map's
CSP) run for a hit as for a miss: only the view and its template are skipped. Each app has
its own cache (``app.extensions``), bounded in entries (512) and bytes (32 MiB), expired
entries dropped as new ones come; several app processes each keep their own, which is why
the time is short.
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
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from pb.i18n import LOCALES

P = ParamSpec("P")
R = TypeVar("R")

MAX_ENTRIES = 512
MAX_BYTES = 32 * 2**20  # all entries together, UTF-8
MAX_BODY = 512 * 1024  # bytes; a larger page is not kept
MAX_KEY = 256  # characters of path or query; a longer request is not kept
EXTENSION = "pb.pagecache"


@dataclass(frozen=True)
class Entry:
    expires: float
    body: bytes
    has_token: bool


class PageCache:
    """Rendered pages by key, each until its time is up; the least recently used goes first
    when more than ``max_entries`` or ``max_bytes`` are kept, and expired ones at the front
    are dropped whenever a page is stored. Safe to share between a worker's threads."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        # Secret to this process: a page never carries it out (see ``public_page``).
        self.marker = f"pb-form-token-{secrets.token_hex(16)}"
        self._entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], now: float) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.expires <= now:
                if entry is not None:
                    self._drop(key)
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: tuple[Any, ...], entry: Entry, now: float) -> None:
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = entry
            self.bytes += len(entry.body)
            while self._entries and (
                len(self._entries) > self.max_entries
                or self.bytes > self.max_bytes
                or next(iter(self._entries.values())).expires <= now
            ):
                self._drop(next(iter(self._entries)))

    def _drop(self, key: tuple[Any, ...]) -> None:
        self.bytes -= len(self._entries.pop(key).body)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = PageCache()


def cache_of(app: Flask) -> PageCache:
    return cast(PageCache, app.extensions[EXTENSION])


def _allowed(args: frozenset[str]) -> bool:
    """A GET or HEAD by a visitor not logged in, with no message waiting in the session, a
    known language if any, only ``args`` in the query, each once, and a short address."""
    if request.method not in ("GET", "HEAD"):
        return False
    if len(request.path) > MAX_KEY or len(request.query_string) > MAX_KEY:
        return False
    query = list(request.args.items(multi=True))
    if len(query) != len(request.args) or not {name for name, _ in query} <= args:
        return False
    if request.args.get("lang", LOCALES[0]) not in LOCALES:
        return False
    return not current_user.is_authenticated and "_flashes" not in session


def _token_field() -> str:
    return str(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))


def _with_token(result: Any, marker: str) -> Any:
    """The view's answer with this visitor's own form token where the marker is (a string,
    a (body, status...) tuple or a response object)."""
    if isinstance(result, str | bytes):
        found = marker in result if isinstance(result, str) else marker.encode() in result
        if not found:
            return result
        token = generate_csrf()
        if isinstance(result, str):
            return result.replace(marker, token)
        return result.replace(marker.encode(), token.encode())
    if isinstance(result, tuple) and result:
        return (_with_token(result[0], marker), *result[1:])
    if isinstance(result, Response) and result.is_sequence:
        data = result.get_data()
        if marker.encode() in data:
            result.set_data(data.replace(marker.encode(), generate_csrf().encode()))
    return result


def _render(view: Callable[..., Any], marker: str, a: Any, kw: Any) -> Any:
    """Run the view with the marker as its form token (Flask-WTF's ``generate_csrf`` answers
    what ``g`` holds), so that the page holds the marker exactly where a token goes and
    nowhere else (a token echoed in a search, say, stays as it was); the answer, an error
    page a view raised included, then gets the visitor's own token."""
    field = _token_field()
    had = field in g
    prior = g.pop(field, None)
    setattr(g, field, marker)
    try:
        result = view(*a, **kw)
    except HTTPException as exc:
        _restore(field, had, prior)
        if exc.response is not None:
            _with_token(exc.response, marker)
        raise
    except BaseException:
        _restore(field, had, prior)
        raise
    _restore(field, had, prior)
    return result


def _restore(field: str, had: bool, prior: Any) -> None:
    g.pop(field, None)
    if had:
        setattr(g, field, prior)


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
            key = (request.path, request.query_string, str(get_locale()))
            now = time.monotonic()
            entry = cache.get(key, now)
            if entry is not None:
                return _with_token(entry.body, cache.marker) if entry.has_token else entry.body
            result = _render(view, cache.marker, a, kw)
            body: str | None = result if isinstance(result, str) else None
            if isinstance(result, tuple) and len(result) == 2 and result[1] == 200:
                body = result[0] if isinstance(result[0], str) else None
            if body is not None:
                data = body.encode()
                if len(data) <= MAX_BODY:
                    entry = Entry(now + seconds, data, cache.marker.encode() in data)
                    cache.put(key, entry, now)
            return cast(R | ResponseReturnValue, _with_token(result, cache.marker))

        return wrapped

    return decorator


__all__ = ["PageCache", "cache_of", "init_app", "public_page"]
