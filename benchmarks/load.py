"""Mixed traffic against gunicorn on loopback with locust: the highest cast rate held.

    .venv/bin/python benchmarks/load.py [--engine sqlite|postgresql] [--duration 300]
        [--stage 30] [--step 10] [--port 5402] [--workers 2] [--threads 2]

It builds a throwaway database with the real migrations (a SQLite file or a fresh
PostgreSQL database): a process in its proposal phase with participants' accounts, and a
process in its voting phase with real codes. It serves pb with gunicorn on 127.0.0.1 and
runs locust (its library, in this process, on the same machine: the load generator's CPU
is part of what the two cores spend) in stages of ``--stage`` seconds, each with ``--step``
more users of each kind than the one before, for at most ``--duration`` seconds:

- voters: fetch the ballot page, then cast one ballot a second each with a fresh code;
- visitors (as many as voters): the front page, the vote's process page, the proposal list
  and a proposal, one page a second each;
- participants (a quarter as many, at least one): log in once, then every 4 seconds either
  publish a proposal or support (or withdraw support from) a proposal from the list.

Each stage is measured from a few seconds after its users have all started (logging in
and fetching the ballot page happen once per user, not in steady traffic).

A stage is *held* when no request failed (a status of 400 or more, or a cast without a
receipt), the p99 of all its requests is under 300 ms, and it cast at least 90 % of the
rate its voters asked for. The run stops at the first stage that is not held. Memory:
the resident size of gunicorn's master and workers when the first stage starts and when
the last ends. Afterwards everything held is mixed, and it checks that every receipt handed
out is found and used codes = ballots.

Last line, JSON: {"engine", "casts_per_s_held", "p99_ms", "errors", "rss_growth_mb"} (the
p99 and errors of the highest held stage, or of the first stage if none was held), then
"stages" (each stage's users, casts per second, p99 and errors), "lost" and "load_avg".
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
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


def _load(
    args: argparse.Namespace, port: int, data: dict[str, Any], server_pid: int
) -> dict[str, Any]:
    import gevent
    import voting
    from locust import FastHttpUser, constant_throughput, task
    from locust.env import Environment

    codes: list[str] = list(data["codes"])
    emails: list[str] = list(data["emails"])
    receipts: list[str] = []
    events: list[tuple[float, str, float, bool]] = []  # (time, kind, ms, failed)
    numbers = itertools.count()
    failures: list[str] = []  # the first few, printed

    class Voter(FastHttpUser):
        wait_time = constant_throughput(1)
        weight = 4

        def on_start(self) -> None:
            r = self.client.get(f"/p/{voting.SLUG}/vote?lang=en", name="vote page")
            self.token = _token(r.text or "")

        @task
        def cast(self) -> None:
            if not codes:
                return
            code = codes.pop()
            n = len(codes)
            body = urllib.parse.urlencode({
                "code": code, "pick": [f"|B{n % 8}", f"|B{(n + 3) % 8}"], "action": "cast",
                "csrf_token": self.token}, doseq=True)  # fmt: skip
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

    class Visitor(FastHttpUser):
        wait_time = constant_throughput(1)
        weight = 4
        pages = ("/", f"/p/{voting.SLUG}", f"/p/{PROPOSE_SLUG}/proposals")

        @task
        def browse(self) -> None:
            n = int(time.monotonic() * 1000)
            if n % 4 < 3:
                self.client.get(self.pages[n % 4], name="browse")
                return
            r = self.client.get(f"/p/{PROPOSE_SLUG}/proposals", name="browse")
            ids = re.findall(rf"/p/{PROPOSE_SLUG}/proposals/(\d+)", r.text or "")
            if ids:
                self.client.get(f"/p/{PROPOSE_SLUG}/proposals/{ids[n % len(ids)]}",
                                name="browse")  # fmt: skip

    class Participant(FastHttpUser):
        wait_time = constant_throughput(0.25)
        weight = 1

        def on_start(self) -> None:
            self.email = emails[next(numbers) % len(emails)]
            page = self.client.get("/account/login?lang=en", name="log in").text or ""
            self.client.post("/account/login?lang=en", name="log in",
                             data={"email": self.email, "password": PASSWORD,
                                   "csrf_token": _token(page)})  # fmt: skip
            self.supported: set[str] = set()

        @task
        def propose(self) -> None:
            form = self.client.get(f"/p/{PROPOSE_SLUG}/proposals/new?lang=en", name="propose")
            self.client.post(
                f"/p/{PROPOSE_SLUG}/proposals/new?lang=en", name="propose",
                data={"title": f"Idé {uuid.uuid4().hex[:8]}", "description": "Bänkar och träd.", "cost_estimate": "50000",
                      "consent": "y", "action": "publish", "csrf_token": _token(form.text or "")},
            )  # fmt: skip

        @task(3)
        def support(self) -> None:
            page = self.client.get(f"/p/{PROPOSE_SLUG}/proposals", name="support").text or ""
            ids = re.findall(rf"/p/{PROPOSE_SLUG}/proposals/(\d+)", page)
            if not ids:
                return
            pid = ids[int(time.monotonic() * 1000) % len(ids)]
            action = "unsupport" if pid in self.supported else "support"
            self.supported ^= {pid}
            self.client.post(f"/p/{PROPOSE_SLUG}/proposals/{pid}/{action}", name="support",
                             data={"csrf_token": _token(page)})  # fmt: skip

    env = Environment(user_classes=[Voter, Visitor, Participant], host=f"http://127.0.0.1:{port}")

    def on_request(request_type: str, name: str, response_time: float, response_length: int,
                   exception: Exception | None, **_kw: Any) -> None:  # fmt: skip
        events.append((time.monotonic(), name, response_time, exception is not None))
        if exception is not None and len(failures) < 5:
            failures.append(f"{name}: {exception}")

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    stages: list[dict[str, Any]] = []
    rss_start = _rss_mb(server_pid)
    for level in range(1, max(1, int(args.duration // args.stage)) + 1):
        voters = args.step * level
        total = max(3, voters * 9 // 4)  # by weight: voters, as many visitors, 1/4 participants
        runner.start(total, spawn_rate=max(total, 50))
        # Measured once every user has started (participants log in, voters fetch the
        # ballot page: once each, not steady traffic) and a few seconds have passed.
        settle = time.monotonic()
        while runner.spawning_greenlet is not None and not runner.spawning_greenlet.dead:
            gevent.sleep(0.2)
        gevent.sleep(min(5.0, args.stage / 3))
        t0 = time.monotonic()
        gevent.sleep(max(1.0, args.stage - (t0 - settle)))
        t1 = time.monotonic()
        mine = [e for e in events if t0 <= e[0] < t1]
        times = sorted(e[2] for e in mine)
        casts = sum(1 for e in mine if e[1] == "cast" and not e[3])
        errors = sum(1 for e in mine if e[3])
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))] if times else 0.0
        asked = runner.user_classes_count.get("Voter", 0)
        stage = {"voters": asked, "users": total, "casts_per_s": round(casts / (t1 - t0), 1),
                 "p99_ms": round(p99, 1), "errors": errors, "requests": len(mine)}  # fmt: skip
        for kind in sorted({e[1] for e in mine}):
            kind_times = sorted(e[2] for e in mine if e[1] == kind)
            stage[f"p99_ms {kind}"] = round(kind_times[int(len(kind_times) * 0.99)], 1)
        stage["held"] = bool(
            errors == 0 and p99 < TARGET_P99_MS and casts / (t1 - t0) >= 0.9 * asked
        )
        stages.append(stage)
        print(f"stage {level}: {json.dumps(stage)}", file=sys.stderr)
        if not stage["held"] or len(codes) < voters * args.stage * 2:
            break
    runner.quit()
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    rss_end = _rss_mb(server_pid)
    return {"stages": stages, "receipts": receipts, "rss_growth_mb": rss_end - rss_start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--duration", type=float, default=300, help="seconds, at most")
    parser.add_argument("--stage", type=float, default=30, help="seconds per stage")
    parser.add_argument("--step", type=int, default=10, help="voters added per stage")
    parser.add_argument("--port", type=int, default=5402)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--_setup", help=argparse.SUPPRESS)
    parser.add_argument("--_check", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._setup or args._check:  # the child processes (no locust imported there)
        spec = json.loads(Path(args._setup or args._check).read_text())
        out = Path(spec["out"])
        if args._setup:
            _setup(spec["url"], Path(spec["instance"]), spec["codes"], spec["participants"], out)
        else:
            _check(spec["url"], Path(spec["instance"]), spec["receipts"], out)
        return

    import voting  # SQLAlchemy only: no app, no locust in this process yet

    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-load-"))
    instance = tmp / "instance"
    url, name = voting.throwaway_database(args.engine, args.pg_url, tmp)
    stages = max(1, int(args.duration // args.stage))
    needed = int(sum(args.step * k * args.stage * 1.2 for k in range(1, stages + 1))) + 100
    participants = max(1, args.step * stages // 4)

    def child(mode: str, **spec: Any) -> Any:
        out = tmp / f"{mode}.json"
        spec_file = tmp / f"{mode}-spec.json"
        spec_file.write_text(json.dumps({**spec, "url": url, "instance": str(instance),
                                         "out": str(out)}))  # fmt: skip
        subprocess.run([sys.executable, __file__, f"--_{mode}", str(spec_file)], check=True)
        return json.loads(out.read_text())

    data = child("setup", codes=needed, participants=participants)
    env = {**os.environ, "PB_INSTANCE_PATH": str(instance), "PB_DATABASE_URL": url,
           "PB_ENV": "development", "PB_PROPOSALS_PER_PERSON": "1000000"}  # fmt: skip
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-w", str(args.workers), "-k", "gthread", "--threads", str(args.threads),
         "-b", f"127.0.0.1:{args.port}", "--log-level", "warning", "pb:create_app()"],
        env=env, cwd=str(HERE.parent),
    )  # fmt: skip
    load_before = os.getloadavg()[0]
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
        result = _load(args, args.port, data, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    check = child("check", receipts=result["receipts"])
    voting.drop_database(args.pg_url, name)
    held = [s for s in result["stages"] if s["held"]]
    best = max(held, key=lambda s: s["casts_per_s"]) if held else result["stages"][0]
    print(json.dumps({
        "engine": args.engine,
        "casts_per_s_held": best["casts_per_s"] if held else 0.0,
        "p99_ms": best["p99_ms"], "errors": best["errors"],
        "rss_growth_mb": round(result["rss_growth_mb"], 1),
        "stages": result["stages"], "workers": args.workers, "threads": args.threads,
        "lost": check["lost"], "ballots": check["ballots"], "receipts": check["receipts"],
        "load_avg": round(max(load_before, os.getloadavg()[0]), 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
