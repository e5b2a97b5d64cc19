"""Web form benchmark: a real server (`tonghop serve`, uvicorn, 2 web processes) on this machine,
20 commune users typing their June report into the form at once (httpx clients).

    .venv/bin/python bench/entry.py [--per-client 5] [--workers 2]

1. Field check round trip (POST /entry/save of one changed field: saved to the draft, the whole
   draft checked by the warm validator and the history check, the answer back), goal p95 <=
   100 ms with 20 people typing at once, measured two ways:
   - burst: the 20 users send each field at the same instant (a barrier before every field),
     the worst case;
   - typing: each user types at its own pace, one field every 0.3-1.0 s (a fast clerk).
2. Submit (POST /entry/submit and the verdict page it leads to: the draft as the canonical CSV
   through the upload's path), 20 at once, goal as the CSV upload's: p95 <= 300 ms.
3. The whole check (POST /entry/validate: the upload's dry run), 20 at once (no goal).
4. For comparison, the same values uploaded as a CSV file (POST /submit), 20 at once, on the
   same server in the same minutes.
The machine is shared: the load average at the start and end is recorded. Results go to
data/bench/entry-results.json and are printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from portal import (  # noqa: E402
    KEEPALIVE,
    PASSWORD,
    SAMPLES,
    TODAY,
    build,
    p95,
    server_cpu,
    start_server,
    wait_until_up,
)

from service import entry  # noqa: E402
from validations.catalog import load_catalog  # noqa: E402

DATA = ROOT / "data" / "bench" / "entry"
CSRF = re.compile(r'data-csrf="([^"]+)"')
PERIOD = "2024-06"


def stats(lat: list[float]) -> dict:
    s = sorted(lat)
    return {
        "n": len(s),
        "p50_ms": round(1000 * s[len(s) // 2], 1),
        "p95_ms": round(1000 * p95(s), 1),
        "max_ms": round(1000 * s[-1], 1),
    }


def june(code: str) -> list[tuple[str, str]]:
    src = next((SAMPLES / PERIOD).rglob(f"{code}_{PERIOD}.csv"))
    with open(src, encoding="utf-8") as fh:
        return [(r["indicator"], r["value"]) for r in csv.DictReader(fh)]


class Clerk:
    """One commune's user with the form open."""

    def __init__(self, url: str, code: str):
        self.code = code
        self.c = httpx.Client(base_url=url, timeout=120, follow_redirects=True, limits=KEEPALIVE)
        page = self.c.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
        self.c.post(
            "/login", data={"csrf_token": token, "name": f"xa.{code}", "password": PASSWORD}
        )
        page = self.c.get(f"/entry?unit={code}&period={PERIOD}")
        page.raise_for_status()
        self.token = CSRF.search(page.text)[1]  # type: ignore[index]
        self.seq = 0
        self.errors: list[str] = []
        self.server_ms: list[float] = []  # the route's own time (Server-Timing)

    def save(self, indicator: str, value: str) -> float:
        body = {
            "unit": self.code,
            "period": PERIOD,
            "client": f"bench-{self.code}",
            "since": self.seq,
            "changes": [{"indicator": indicator, "value": value}],
        }
        t = time.perf_counter()
        r = self.c.post("/entry/save", json=body, headers={"X-CSRF-Token": self.token})
        dt = time.perf_counter() - t
        if r.status_code != 200 or indicator not in r.json()["fields"]:
            self.errors.append(f"{self.code} save {r.status_code}")
        else:
            self.seq = r.json()["seq"]
            timing = r.headers.get("server-timing", "")
            if "dur=" in timing:
                self.server_ms.append(float(timing.split("dur=")[1]) / 1000)
        return dt

    def submit(self) -> float:
        t = time.perf_counter()
        r = self.c.post(
            "/entry/submit",
            data={"csrf_token": self.token, "unit": self.code, "period": PERIOD},
        )
        dt = time.perf_counter() - t
        if r.status_code != 200 or "/uploads/" not in str(r.url):
            self.errors.append(f"{self.code} submit {r.status_code} {r.url}")
        elif r.history and "dur=" in r.history[0].headers.get("server-timing", ""):
            timing = r.history[0].headers["server-timing"]
            self.server_ms.append(float(timing.split("dur=")[1]) / 1000)
        return dt

    def upload(self) -> float:
        """The same values sent as a file on *Gửi báo cáo* (the comparison)."""
        if not hasattr(self, "upload_token"):
            page = self.c.get("/submit").text
            self.upload_token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
            self.csv = entry.canonical_csv(
                self.code,
                PERIOD,
                [entry.Entry(i, v) for i, v in june(self.code)],
                load_catalog(),
            )
        t = time.perf_counter()
        r = self.c.post(
            "/submit",
            data={"csrf_token": self.upload_token},
            files={"file": (f"{self.code}_{PERIOD}.csv", self.csv)},
        )
        dt = time.perf_counter() - t
        if r.status_code != 200 or "/uploads/" not in str(r.url):
            self.errors.append(f"{self.code} upload {r.status_code} {r.url}")
        return dt

    def validate(self) -> float:
        t = time.perf_counter()
        r = self.c.post(
            "/entry/validate",
            json={"unit": self.code, "period": PERIOD},
            headers={"X-CSRF-Token": self.token},
        )
        dt = time.perf_counter() - t
        if r.status_code != 200:
            self.errors.append(f"{self.code} validate {r.status_code}")
        return dt


def together(clerks: list[Clerk], work) -> list[float]:  # type: ignore[no-untyped-def]
    """Run `work(clerk, barrier)` in one thread per clerk; the latencies it returns."""
    lat: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(clerks))

    def run(k: Clerk) -> None:
        try:
            got = work(k, barrier)
        except threading.BrokenBarrierError:
            return
        except Exception as exc:  # one clerk failing must not leave the others waiting
            k.errors.append(f"{k.code}: {type(exc).__name__}: {exc}")
            barrier.abort()
            return
        with lock:
            lat.extend(got)

    threads = [threading.Thread(target=run, args=(k,)) for k in clerks]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return lat


def rounds(clerks: list[Clerk], act: str, n: int) -> list[float]:
    """`n` rounds of every clerk doing `act` (submit, validate) at the same instant."""

    def work(k: Clerk, barrier: threading.Barrier) -> list[float]:
        out = []
        for _ in range(n):
            barrier.wait()
            out.append(getattr(k, act)())
        return out

    return together(clerks, work)


def burst(clerks: list[Clerk], fields: dict[str, list[tuple[str, str]]]) -> list[float]:
    steps = max(len(f) for f in fields.values())  # forms of different lengths: go round again

    def work(k: Clerk, barrier: threading.Barrier) -> list[float]:
        mine = fields[k.code]
        out = []
        for i in range(steps):
            barrier.wait()  # every field: 20 saves at the same moment
            out.append(k.save(*mine[i % len(mine)]))
        return out

    return together(clerks, work)


def typing(clerks: list[Clerk], fields: dict[str, list[tuple[str, str]]], seed: int) -> list[float]:
    def work(k: Clerk, barrier: threading.Barrier) -> list[float]:
        rnd = random.Random(f"{seed}-{k.code}")
        barrier.wait()
        out = []
        for code, value in fields[k.code]:
            time.sleep(rnd.uniform(0.3, 1.0))  # reading the paper, typing, Tab
            out.append(k.save(code, value))
        return out

    return together(clerks, work)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--per-client", type=int, default=5, help="submits per user")
    ap.add_argument("--workers", type=int, default=2, help="web processes (serve --workers)")
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--checks-only", action="store_true", help="only the field checks")
    args = ap.parse_args()
    os.environ["TONGHOP_TODAY"] = TODAY
    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    t0 = time.perf_counter()
    base = DATA.parent / "entry-base"  # January to June, built once (bench/portal.py's build)
    if not (base / "communes.json").exists():
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        _, built = build(base)
        (base / "communes.json").write_text(json.dumps(built))
    communes = json.loads((base / "communes.json").read_text())
    wh = DATA / "tonghop.duckdb"
    shutil.copy(base / "tonghop.duckdb", wh)
    from tonghop.portal.accounts import Accounts

    acc = Accounts(DATA / "accounts.sqlite")
    for c in communes:
        acc.add(f"xa.{c}", c, "submitter", PASSWORD)
    print(f"warehouse and {len(communes)} accounts ready in {time.perf_counter() - t0:.1f} s")
    url = f"http://127.0.0.1:{args.port}"
    server = start_server(DATA, wh, args.port, "inline", args.workers)
    results: dict = {
        "machine": {"nproc": os.cpu_count(), "load_at_start": os.getloadavg()},
        "web_processes": args.workers,
        "users": len(communes),
    }
    try:
        wait_until_up(url)
        clerks = [Clerk(url, c) for c in communes]  # each form opened: its history read once
        fields = {k.code: june(k.code) for k in clerks}
        warm = {k.code: fields[k.code][:2] for k in clerks}
        burst(clerks, warm)  # warm-up: the validator's first batches, the connections
        before = server_cpu(server.pid)
        for k in clerks:
            k.server_ms.clear()
        results["field_check_burst"] = stats(burst(clerks, fields))
        results["field_check_burst"]["route"] = stats([x for k in clerks for x in k.server_ms])
        after = server_cpu(server.pid)
        n = results["field_check_burst"]["n"]
        results["field_check_burst"]["server_cpu_ms_per_check"] = {
            k: round(1000 * (after[k] - before[k]) / n, 1) for k in after
        }
        print(f"field check, 20 at the same instant: {results['field_check_burst']}")
        again = {c: [(i, v if v != "0" else "1") for i, v in f] for c, f in fields.items()}
        for k in clerks:
            k.server_ms.clear()
        results["field_check_typing"] = stats(typing(clerks, again, 1))
        results["field_check_typing"]["route"] = stats([x for k in clerks for x in k.server_ms])
        print(f"field check, 20 typing at their own pace: {results['field_check_typing']}")
        if args.checks_only:
            raise SystemExit(0)
        results["whole_check"] = stats(rounds(clerks, "validate", 3))
        print(f"whole check (dry run), 20 at once: {results['whole_check']}")
        rounds(clerks, "submit", 1)  # warm-up: the first ingest
        before = server_cpu(server.pid)
        for k in clerks:
            k.server_ms.clear()
        results["submit"] = stats(rounds(clerks, "submit", args.per_client))
        results["submit"]["route"] = stats([x for k in clerks for x in k.server_ms])
        after = server_cpu(server.pid)
        n = results["submit"]["n"]
        results["submit"]["server_cpu_ms_per_submit"] = {
            k: round(1000 * (after[k] - before[k]) / n, 1) for k in after
        }
        print(f"submit, 20 at once: {results['submit']}")
        rounds(clerks, "upload", 1)  # warm-up
        results["upload_same_csv"] = stats(rounds(clerks, "upload", args.per_client))
        print(f"the same values uploaded as a CSV file, 20 at once: {results['upload_same_csv']}")
        results["errors"] = [e for k in clerks for e in k.errors][:10]
        if results["errors"]:
            print("errors:", results["errors"])
        for k in clerks:
            k.c.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    results["machine"]["load_at_end"] = os.getloadavg()
    goals = {
        "field_check_burst": 100,
        "field_check_typing": 100,
        "submit": 300,
    }
    results["goals_met"] = {k: results[k]["p95_ms"] <= ms for k, ms in goals.items()}
    (DATA.parent / "entry-results.json").write_text(json.dumps(results, indent=1, default=str))
    print(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
