"""Mixed traffic against gunicorn on loopback with locust: the highest cast rate held.

    .venv/bin/python benchmarks/load.py [--engine sqlite|postgresql] [--duration 300]
        [--stage 15] [--settle 3] [--start 10] [--max-rate 640] [--voters 48]
        [--port 5402] [--workers 2|4] [--worker-class sync|gthread] [--threads 1]

gunicorn runs as the docs deploy pb, sync workers (2 on SQLite, 4 on PostgreSQL), the same
options as voting.py; until 1 December 2026 it ran 2 gthread workers x 2 threads
(``--worker-class gthread --workers 2 --threads 2``).

It builds a throwaway database with the real migrations (a SQLite file or a fresh
PostgreSQL database): a process in its proposal phase with participants' accounts, and a
process in its voting phase with real codes. It serves pb with gunicorn on 127.0.0.1 and
runs locust (its library, in this process, on the same machine: the load generator's CPU
is part of what the two cores spend) with a fixed crowd of simulated users, paced to a
total rate of casts that changes from stage to stage:

- voters (``--voters``): each action fetches the ballot page and casts a ballot with a
  fresh code, as a person does; together they cast the stage's rate R a second;
- visitors (as many as voters): the front page, the vote's process page, the proposal list,
  or the list and then a proposal from it; together R page views a second;
- participants (a quarter as many as voters): each logged in once, then they publish a
  proposal or support (or withdraw support from) a proposal from the list; together R/16
  actions a second, each a GET and a POST (whose redirect is followed).

Every user paces itself (a random phase, then one action every ``users / share of R``
seconds, catching up at most one action when late); a slow answer delays that user's next
action, so a stage the server cannot keep up with casts fewer than it asked for.

Before the stages, all users start (participants log in there, not in the measured traffic) and run for ``--warmup`` seconds at half the first rate, untimed, so that
every worker has compiled its templates and filled its pools. Each stage then sets its rate,
waits ``--settle`` seconds and measures ``--stage`` seconds. A stage is *held* when no
request failed (a status of 400 or more, or a cast without a receipt), the p99 of all its
requests is under 300 ms, and it cast at least 90 % of the rate it asked for. The rate
doubles from ``--start`` while stages hold; after the first that does not, it bisects
between the highest held and the lowest not held, until they are within 5 % (or 2 casts/s)
of each other, ``--max-rate`` is reached, or ``--duration`` seconds of stages are spent.
When the codes run low the users pause and a child process issues more.

Per stage it measures the CPU (user + system) of gunicorn's master and workers, of this
process (locust) and, on PostgreSQL, of the database's backends, in milliseconds per
request; the resident size of gunicorn's processes; and the load average. Memory:
``rss_growth_mb`` is the resident size at the last stage's end minus at the first stage's
start (after the warm-up). Afterwards everything held is mixed, and it checks that every
receipt handed out is found and used codes = ballots.

``--app ceiling`` sends the same mix to ``benchmarks/_ceiling_app.py`` instead of pb
(constant pages, the cast's durable core; see ``ceiling.py``): the most the stack and locust
allow on this machine before pb does anything.

Last line, JSON: {"engine", "casts_per_s_held", "p99_ms", "errors", "rss_growth_mb"} (the
p99 and errors of the highest held stage, or of the first stage if none was held), then
"stages" (each stage's asked and achieved rates, p99 overall and per kind of request, errors,
CPU per request and RSS), "lost" and "load_avg".
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

PROPOSE_SLUG = "bench-propose"
PASSWORD = "bench-pass-123"
TARGET_P99_MS = 300.0
PARTICIPANT_SHARE = 1 / 16  # participants' actions a second per cast a second


def _setup(url: str, instance: Path, codes: int, participants: int, out: Path) -> None:
    """Run in a process of its own (locust patches sockets and threads on import)."""
    import voting

    from pb import create_app
    from pb.accounts import services as accounts
    from pb.accounts.models import Role
    from pb.db import get_engine, get_session, utcnow
    from pb.processes.models import PhaseKind

    issued = voting._setup(url, instance, codes)
    app = create_app({"ENV": "development", "DATABASE_URL": url})
    with app.test_request_context():
        session = get_session()
        admin = accounts.register(session, email="bench2@example.org", password=PASSWORD,
                                  display_name="Bench", role=Role.ADMIN)  # fmt: skip
        voting.make_process(session, admin, PROPOSE_SLUG, PhaseKind.PROPOSALS, utcnow())
        emails = []
        for i in range(participants):
            email = f"p{i}@example.org"
            accounts.register(session, email=email, password=PASSWORD, display_name=f"P {i}")
            emails.append(email)
        session.commit()
        get_engine().dispose()
    out.write_text(json.dumps({"codes": issued, "emails": emails}))


def _issue(url: str, instance: Path, count: int, out: Path) -> None:
    """More codes for the vote, in a process of its own."""
    import voting

    from pb import create_app
    from pb.accounts.models import User
    from pb.db import get_engine, get_session, utcnow
    from pb.processes.models import CodeChannel
    from pb.processes.services import load_process
    from pb.voting import services

    os.environ["PB_INSTANCE_PATH"] = str(instance)
    app = create_app({"ENV": "development", "DATABASE_URL": url})
    with app.test_request_context():
        session = get_session()
        admin = session.query(User).filter_by(email="bench@example.org").one()
        issued = services.issue_codes(
            session, load_process(voting.SLUG), count=count, channel=CodeChannel.SCHOOL,
            purpose="bench", actor=admin, now=utcnow(),
        )  # fmt: skip
        session.commit()
        get_engine().dispose()
    out.write_text(json.dumps({"codes": issued.codes}))


def _check(url: str, instance: Path, receipts: list[str], out: Path) -> None:
    import voting

    out.write_text(json.dumps(voting._check(url, instance, receipts)))


def _rss_mb(pid: int) -> float:
    import psutil

    try:
        master = psutil.Process(pid)
        procs = [master, *master.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / 2**20
    except psutil.Error:
        return 0.0


def _token(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return m.group(1) if m else ""


def _p(times: list[float], q: float) -> float:
    return times[min(len(times) - 1, int(len(times) * q))] if times else 0.0


def _held_rate(stages: list[dict[str, Any]]) -> float | None:
    """The highest rate asked whose every stage held."""
    rates = {s["asked"] for s in stages if s["held"]}
    rates -= {s["asked"] for s in stages if not s["held"]}
    return max(rates) if rates else None


class Cpu:
    """CPU seconds of gunicorn (master and workers), this process and PostgreSQL's backends."""

    def __init__(self, server_pid: int, pg: tuple[str, str] | None) -> None:
        self.server_pid, self.pg = server_pid, pg

    def read(self) -> dict[str, float]:
        import voting

        out = {
            "app": voting._cpu_seconds([self.server_pid], children=True),
            "locust": time.process_time(),
        }
        if self.pg is not None:
            out["db"] = voting._cpu_seconds(voting._backends(*self.pg))
        return out


def _load(
    args: argparse.Namespace,
    port: int,
    data: dict[str, Any],
    server_pid: int,
    more_codes: Any,
    cpu: Cpu,
) -> dict[str, Any]:
    import gevent
    import voting
    from locust import FastHttpUser, constant, task
    from locust.env import Environment

    codes: list[str] = list(data["codes"])
    emails: list[str] = list(data["emails"])
    receipts: list[str] = []
    events: list[tuple[float, str, float, bool]] = []  # (time, kind, ms, failed)
    failures: list[str] = []  # the first few, printed
    pace = {"rate": 0.0}  # casts a second asked of all voters together
    n_voters = args.voters
    n_participants = max(1, args.voters // 4)
    numbers = iter(range(10**9))
    ready: list[Any] = []  # users that have started (participants: logged in)

    class Paced(FastHttpUser):
        """One action every ``count / (rate × share)`` seconds, from a random phase drawn
        anew whenever the rate changes."""

        abstract = True
        wait_time = constant(0)
        share = 1.0
        count = 1

        def interval(self) -> float:
            per_user = pace["rate"] * self.share / self.count
            return 1 / per_user if per_user > 0 else 0.0

        def on_start(self) -> None:
            self.last, self.rate = 0.0, -1.0
            ready.append(self)

        @task
        def paced(self) -> None:
            interval, now = self.interval(), time.monotonic()
            if not interval:
                gevent.sleep(0.5)
                return
            if self.rate != pace["rate"]:  # a new rate: a new random phase
                self.rate, self.last = pace["rate"], now - random.random() * interval
            due = self.last + interval
            if now < due:
                gevent.sleep(min(due - now, 1.0))
                return
            self.last = max(due, now - interval)
            self.act()

        def act(self) -> None:
            raise NotImplementedError

    class Voter(Paced):
        fixed_count = count = n_voters

        def act(self) -> None:
            if not codes:
                return
            r = self.client.get(f"/p/{voting.SLUG}/vote?lang=en", name="ballot page")
            token = _token(r.text or "")
            code = codes.pop()
            n = len(codes)
            body = urllib.parse.urlencode({
                "code": code, "pick": [f"|B{n % 8}", f"|B{(n + 3) % 8}"], "action": "cast",
                "csrf_token": token}, doseq=True)  # fmt: skip
            with self.client.post(
                f"/p/{voting.SLUG}/vote/ballot?lang=en",
                name="cast",
                catch_response=True,
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ) as r:
                m = re.search(r'id="receipt">([^<]+)<', r.text or "")
                if m:
                    receipts.append(m.group(1).strip())
                else:
                    r.failure(f"no receipt ({r.status_code})")

    class Visitor(Paced):
        fixed_count = count = n_voters
        pages = (("/", "front page"), (f"/p/{voting.SLUG}", "process page"),
                 (f"/p/{PROPOSE_SLUG}/proposals", "proposal list"))  # fmt: skip

        def act(self) -> None:
            n = next(numbers)
            if n % 4 < 3:
                path, name = self.pages[n % 4]
                self.client.get(path, name=name)
                return
            r = self.client.get(f"/p/{PROPOSE_SLUG}/proposals", name="proposal list")
            ids = re.findall(rf"/p/{PROPOSE_SLUG}/proposals/(\d+)", r.text or "")
            if ids:
                self.client.get(f"/p/{PROPOSE_SLUG}/proposals/{ids[n % len(ids)]}",
                                name="proposal page")  # fmt: skip

    class Participant(Paced):
        fixed_count = count = n_participants
        share = PARTICIPANT_SHARE

        def on_start(self) -> None:
            self.email = emails[next(numbers) % len(emails)]
            page = self.client.get("/account/login?lang=en", name="log in").text or ""
            self.client.post("/account/login?lang=en", name="log in",
                             data={"email": self.email, "password": PASSWORD,
                                   "csrf_token": _token(page)})  # fmt: skip
            self.supported: set[str] = set()
            super().on_start()

        def act(self) -> None:
            if next(numbers) % 4 == 0:
                form = self.client.get(f"/p/{PROPOSE_SLUG}/proposals/new?lang=en",
                                       name="propose form")  # fmt: skip
                self.client.post(
                    f"/p/{PROPOSE_SLUG}/proposals/new?lang=en", name="publish",
                    data={"title": f"Idé {uuid.uuid4().hex[:8]}", "description": "Bänkar och träd.",
                          "cost_estimate": "50000", "consent": "y", "action": "publish",
                          "csrf_token": _token(form.text or "")},
                )  # fmt: skip
                return
            page = self.client.get(f"/p/{PROPOSE_SLUG}/proposals", name="proposal list")
            ids = re.findall(rf"/p/{PROPOSE_SLUG}/proposals/(\d+)", page.text or "")
            if not ids:
                return
            pid = random.choice(ids)
            action = "unsupport" if pid in self.supported else "support"
            self.supported ^= {pid}
            self.client.post(f"/p/{PROPOSE_SLUG}/proposals/{pid}/{action}", name="support",
                             data={"csrf_token": _token(page.text or "")})  # fmt: skip

    env = Environment(user_classes=[Voter, Visitor, Participant], host=f"http://127.0.0.1:{port}")

    def on_request(request_type: str, name: str, response_time: float, response_length: int,
                   exception: Exception | None, **_kw: Any) -> None:  # fmt: skip
        events.append((time.monotonic(), name, response_time, exception is not None))
        if exception is not None and len(failures) < 5:
            failures.append(f"{name}: {exception}")

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    total = n_voters * 2 + n_participants
    pace["rate"] = args.start / 2
    runner.start(total, spawn_rate=min(total, 100))
    started = time.monotonic()
    while len(ready) < total and time.monotonic() - started < 300:
        gevent.sleep(0.2)
    gevent.sleep(args.warmup)
    # This process's own pauses: a full collection stalls every request under way.
    gc.collect()
    gc.freeze()
    pauses: list[float] = []
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            pauses.append((time.perf_counter() - gc_started[0]) * 1000)

    gc.callbacks.append(on_gc)
    warm_errors = sum(1 for e in events if e[3])

    stages: list[dict[str, Any]] = []
    rss_start = _rss_mb(server_pid)
    stages_end = time.monotonic() + args.duration
    rate, held_best, failed_low = float(args.start), 0.0, None
    confirming = False
    while True:
        needed = int(rate * (args.stage + args.settle) * 1.3) + 50
        if len(codes) < needed:  # pause, issue more in a child process, resume
            pace["rate"] = 0.0
            codes[:0] = more_codes(max(needed * 3, 2000))
        pace["rate"] = rate
        gevent.sleep(args.settle)
        pauses.clear()
        before, t0 = cpu.read(), time.monotonic()
        gevent.sleep(args.stage)
        t1, after = time.monotonic(), cpu.read()
        mine = [e for e in events if t0 <= e[0] < t1]
        times = sorted(e[2] for e in mine)
        seconds = t1 - t0
        casts = sum(1 for e in mine if e[1] == "cast" and not e[3])
        errors = sum(1 for e in mine if e[3])
        p99 = _p(times, 0.99)
        requests = max(1, len(mine))
        stage: dict[str, Any] = {
            "asked": round(rate, 1), "casts_per_s": round(casts / seconds, 1),
            "p99_ms": round(p99, 1), "p50_ms": round(_p(times, 0.5), 1), "errors": errors,
            "requests_per_s": round(len(mine) / seconds, 1),
        }  # fmt: skip
        for kind, value in after.items():
            stage[f"cpu_ms_per_request {kind}"] = round((value - before[kind]) * 1000 / requests, 2)
        for kind in sorted({e[1] for e in mine}):
            kind_times = sorted(e[2] for e in mine if e[1] == kind)
            stage[f"p99_ms {kind}"] = round(_p(kind_times, 0.99), 1)
        stage["locust_gc_max_ms"] = round(max(pauses, default=0.0), 1)
        stage["rss_mb"] = round(_rss_mb(server_pid), 1)
        stage["load_avg"] = round(os.getloadavg()[0], 1)
        stage["held"] = bool(errors == 0 and p99 < TARGET_P99_MS and casts / seconds >= 0.9 * rate)
        slow = sorted(mine, key=lambda e: -e[2])[:3]
        print(f"stage {len(stages) + 1}: {json.dumps(stage)} slowest: "
              + ", ".join(f"{e[1]} {e[2]:.0f} ms at +{e[0] - t0:.1f} s" for e in slow),
              file=sys.stderr)  # fmt: skip
        stages.append(stage)
        if stage["held"]:
            held_best = max(held_best, rate)
        else:
            failed_low = rate if failed_low is None else min(failed_low, rate)
        if not confirming:
            if failed_low is None:
                following = min(rate * 2, float(args.max_rate))
                confirming = rate >= args.max_rate
            elif failed_low - held_best <= max(2.0, 0.05 * held_best) or failed_low < 2:
                confirming = True
            else:
                following = (held_best + failed_low) / 2 if held_best else failed_low / 2
        if confirming:  # the rest of the time: hold the best rate no stage has failed at
            held = _held_rate(stages)
            if held is None:
                break
            following = held
        rate = round(following, 1)
        if time.monotonic() + args.settle + args.stage > stages_end:
            break
    pace["rate"] = 0.0
    gevent.sleep(3)  # answers under way arrive (stopping users cuts their requests)
    runner.quit()
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    rss_end = _rss_mb(server_pid)
    return {"stages": stages, "receipts": receipts, "rss_growth_mb": rss_end - rss_start,
            "warmup_errors": warm_errors}  # fmt: skip


def main() -> None:
    import voting  # SQLAlchemy only: no app, no locust in this process yet

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--duration", type=float, default=300, help="seconds of stages, at most")
    parser.add_argument("--stage", type=float, default=15, help="seconds measured per stage")
    parser.add_argument("--settle", type=float, default=3, help="seconds before measuring")
    parser.add_argument("--warmup", type=float, default=10, help="seconds, untimed")
    parser.add_argument("--start", type=float, default=10, help="casts/s of the first stage")
    parser.add_argument("--max-rate", type=float, default=640, help="casts/s, at most")
    parser.add_argument("--voters", type=int, default=48, help="voters (and visitors)")
    parser.add_argument("--port", type=int, default=5402)
    parser.add_argument(
        "--app", choices=["pb", "ceiling"], default="pb",
        help="ceiling: the same mix against benchmarks/_ceiling_app.py (constant pages, the "
        "cast's durable core), what the stack and locust allow before pb does anything",
    )  # fmt: skip
    voting.add_server_options(parser)
    parser.add_argument("--_setup", help=argparse.SUPPRESS)
    parser.add_argument("--_issue", help=argparse.SUPPRESS)
    parser.add_argument("--_check", help=argparse.SUPPRESS)
    args = parser.parse_args()
    voting.server_defaults(parser, args)
    if args._setup or args._check or args._issue:  # child processes (no locust imported)
        spec = json.loads(Path(args._setup or args._check or args._issue).read_text())
        out = Path(spec["out"])
        if args._setup:
            _setup(spec["url"], Path(spec["instance"]), spec["codes"], spec["participants"], out)
        elif args._issue:
            _issue(spec["url"], Path(spec["instance"]), spec["count"], out)
        else:
            _check(spec["url"], Path(spec["instance"]), spec["receipts"], out)
        return

    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-load-"))
    instance = tmp / "instance"
    url, name = voting.throwaway_database(args.engine, args.pg_url, tmp)
    participants = max(1, args.voters // 4)

    def child(mode: str, **spec: Any) -> Any:
        out = tmp / f"{mode}.json"
        spec_file = tmp / f"{mode}-spec.json"
        spec_file.write_text(json.dumps({**spec, "url": url, "instance": str(instance),
                                         "out": str(out)}))  # fmt: skip
        subprocess.run([sys.executable, __file__, f"--_{mode}", str(spec_file)], check=True)
        return json.loads(out.read_text())

    first = int(args.start * (args.warmup + 4 * (args.stage + args.settle))) + 500
    env = {**os.environ, "PB_INSTANCE_PATH": str(instance), "PB_DATABASE_URL": url,
           "PB_ENV": "development", "PB_PROPOSALS_PER_PERSON": "1000000"}  # fmt: skip
    app_spec = "pb:create_app()"
    if args.app == "ceiling":
        import ceiling

        data = {"codes": ceiling._setup(url, first),
                "emails": [f"p{i}@example.org" for i in range(participants)]}  # fmt: skip
        env["CEILING_URL"] = url
        app_spec = "benchmarks._ceiling_app:create_app()"
    else:
        data = child("setup", codes=first, participants=participants)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-w", str(args.workers), "-k", args.worker_class,
         "--threads", str(args.threads),
         "-b", f"127.0.0.1:{args.port}", "--log-level", "warning", app_spec],
        env=env, cwd=str(HERE.parent),
    )  # fmt: skip
    load_before = os.getloadavg()[0]
    pg = (args.pg_url, name) if name else None
    try:
        deadline = time.monotonic() + 60
        import http.client

        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
                conn.request("GET", "/")
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        if args.app == "ceiling":
            more = lambda n: ceiling._add_codes(url, n)  # noqa: E731
        else:
            more = lambda n: child("issue", count=n)["codes"]  # noqa: E731
        result = _load(args, args.port, data, server.pid, more, Cpu(server.pid, pg))
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.app == "ceiling":
        check = ceiling._check(url, result["receipts"])
    else:
        check = child("check", receipts=result["receipts"])
    voting.drop_database(args.pg_url, name)
    rate = _held_rate(result["stages"])
    held = [s for s in result["stages"] if s["asked"] == rate] or result["stages"][:1]
    print(json.dumps({
        "engine": args.engine, **({"app": "ceiling"} if args.app == "ceiling" else {}),
        "casts_per_s_held": min(s["casts_per_s"] for s in held) if rate else 0.0,
        "p99_ms": max(s["p99_ms"] for s in held), "errors": sum(s["errors"] for s in held),
        "stages_held_at_that_rate": len(held) if rate else 0,
        "rss_growth_mb": round(result["rss_growth_mb"], 1),
        "stages": result["stages"], "workers": args.workers, "threads": args.threads,
        "worker_class": args.worker_class,
        "voters": args.voters, "warmup_errors": result["warmup_errors"],
        "lost": check["lost"], "ballots": check["ballots"], "receipts": check["receipts"],
        "load_avg": round(max(load_before, os.getloadavg()[0]), 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
