"""Working-database benchmarks: batch throughput into SQLite and PostgreSQL, and API latency under load.

Run: .venv/bin/python bench/bench_store.py [--home DIR] [--limit N] [--workers N] [--requests N]

1. Batch: the evaluation notes (../shared/eval/*.jsonl) coded by the baseline coder, first without a database
   (the baseline run), then into a fresh SQLite file and a fresh PostgreSQL schema (when reachable), then a
   rerun into SQLite (every record found by its hash: the resume path). Prints records/s, the engine's time
   and the storage time separately, and the ratio to the run without a database.
2. API: `medcoder serve` in its own process on loopback over a fresh SQLite file; a second process sends a
   coder's typical calls (worklist, read an encounter, accept a code, submit a record) from several threads,
   a bounded number of requests, and prints p50/p99 latency per call.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import ensure_built, peak_rss_mb, settings_for  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"
PG = os.environ.get("MEDCODER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _input(path: Path, limit: int) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for name in ("aci_bench_dev.jsonl", "codiesp_en_dev.jsonl"):
            for line in (EVAL / name).read_text(encoding="utf-8").splitlines():
                if count >= limit:
                    return count
                record = json.loads(line)
                out.write(json.dumps({k: record[k] for k in ("id", "text", "setting") if k in record}) + "\n")
                count += 1
    return count


def _pg_schema() -> tuple[str, str] | None:
    import psycopg

    plain = PG.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=3) as conn:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as e:
        print(f"PostgreSQL unreachable ({e}); skipping it")
        return None
    return schema, f"{PG}?options=-csearch_path%3D{schema}"


def _drop_pg(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def bench_batch(settings: Any, tmp: Path, limit: int, workers: int) -> None:
    from medcoder.service.batch import code_batch
    from medcoder.service.coder import search_coder

    src = tmp / "in.jsonl"
    n = _input(src, limit)
    coder = search_coder(settings)
    print(f"batch: {n} notes (ACI-Bench dev + CodiEsp dev), baseline coder, {workers} worker(s), chunks of 64")
    rows = []
    base = code_batch(src, tmp / "out0.jsonl", coder=coder, workers=workers)
    rows.append(("no database (baseline run)", base))
    rows.append(("SQLite", code_batch(src, tmp / "out1.jsonl", coder=coder, workers=workers,
                                      db_url=f"sqlite:///{tmp / 'bench.sqlite'}")))
    pg = _pg_schema()
    if pg is not None:
        try:
            rows.append(("PostgreSQL", code_batch(src, tmp / "out2.jsonl", coder=coder, workers=workers,
                                                  db_url=pg[1])))
            rows.append(("PostgreSQL rerun (resume)", code_batch(src, tmp / "out3.jsonl", coder=coder,
                                                                 workers=workers, db_url=pg[1])))
        finally:
            _drop_pg(pg[0])
    rows.append(("SQLite rerun (resume)", code_batch(src, tmp / "out4.jsonl", coder=coder, workers=workers,
                                                     db_url=f"sqlite:///{tmp / 'bench.sqlite'}")))
    print(f"  {'target':<28} {'rec/s':>8} {'wall s':>7} {'engine s':>9} {'storage s':>10} {'store rec/s':>12}"
          f" {'vs baseline':>11}")
    base_rate = base.records / base.wall_seconds
    for name, s in rows:
        rec_s = s.records / s.wall_seconds
        store_rate = (s.stored or s.resumed) / s.storage_seconds if s.storage_seconds else float("nan")
        print(f"  {name:<28} {rec_s:8.1f} {s.wall_seconds:7.2f} {s.coding_seconds:9.2f} {s.storage_seconds:10.2f}"
              f" {store_rate:12.1f} {rec_s / base_rate:10.2f}x")
    print("  (engine s: the coder's time summed over records; storage s: database lookups and writes in the main"
          " process, overlapped with coding of the next chunk)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(base_url: str, key: str, requests: int, threads: int) -> dict[str, list[float]]:
    """The second process: a coder's typical calls from ``threads`` threads, ``requests`` in all."""
    import httpx

    latencies: dict[str, list[float]] = {}
    lock = threading.Lock()
    counter = iter(range(requests))

    def timed(name: str, fn: Any) -> Any:
        t0 = time.perf_counter()
        response = fn()
        with lock:
            latencies.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
        if response.status_code >= 500:
            raise RuntimeError(response.text)
        return response

    def worker(n: int) -> None:
        with httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=60) as client:
            for i in counter:
                kind = i % 4
                if kind == 0:
                    timed("GET worklist", lambda: client.get("/v1/encounters", params={"status": "new",
                                                                                         "page_size": 20}))
                elif kind in (1, 2):
                    page = client.get("/v1/encounters", params={"page": 1 + i % 10, "page_size": 5}).json()
                    if not page["items"]:
                        continue
                    eid = page["items"][i % len(page["items"])]["id"]
                    detail = timed("GET encounter", lambda eid=eid: client.get(f"/v1/encounters/{eid}")).json()
                    open_codes = [s for s in detail["suggestions"] if s["status"] == "suggested"]
                    if kind == 2 and open_codes:
                        s = open_codes[0]
                        timed("POST accept", lambda s=s: client.post(f"/v1/suggestions/{s['id']}/accept",
                                                                     json={"version": s["version"]}))
                else:
                    text = f"ASSESSMENT AND PLAN\nEssential hypertension. Gout. Asthma.\nLoad note {n}-{i}.\n"
                    timed("POST record", lambda text=text: client.post("/v1/records", json={"content": text}))

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies


def bench_api(settings: Any, tmp: Path, requests: int, threads: int) -> None:
    port = _free_port()
    db = f"sqlite:///{tmp / 'api.sqlite'}"
    env = {**os.environ, "MEDCODER_HOME": str(settings.home), "MEDCODER_SECRET": "bench-secret-0123456789",
           "MEDCODER_DB_URL": db}
    cli = [sys.executable, "-c", "from medcoder.cli import app; app()"]
    key = subprocess.run([*cli, "apikey", "create", "--role", "coder", "--name", "bench"], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--coder", "baseline"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(300):
            try:
                httpx.get(base + "/v1/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as client:
            for i in range(60):  # a worklist to work on
                client.post("/v1/records", json={"content": f"ASSESSMENT\nEssential hypertension.\nGout.\nSeed {i}.",
                                                 "date_of_service": f"2026-05-{1 + i % 28:02d}"})
        started = time.perf_counter()
        result = subprocess.run([sys.executable, __file__, "--load", base, key, str(requests), str(threads)],
                                capture_output=True, text=True, check=True, timeout=600)
        wall = time.perf_counter() - started
        latencies: dict[str, list[float]] = json.loads(result.stdout)
    finally:
        server.terminate()
        server.wait(timeout=30)
    total = sum(len(v) for v in latencies.values())
    print(f"api: `medcoder serve` (uvicorn, SQLite) on loopback; load from a second process, {threads} threads, "
          f"{total} timed requests in {wall:.1f}s")
    print(f"  {'call':<16} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}")
    for name, values in sorted(latencies.items()):
        values.sort()
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"  {name:<16} {len(values):5d} {statistics.median(values):8.1f} {p99:8.1f}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--load":
        base, key, requests, threads = sys.argv[2:6]
        print(json.dumps(load(base, key, int(requests), int(threads))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--home")
    parser.add_argument("--limit", type=int, default=10_000, help="Notes to batch (default: all dev notes).")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    settings = settings_for(args.home)
    ensure_built(settings)
    with tempfile.TemporaryDirectory() as tmp:
        bench_batch(settings, Path(tmp), args.limit, args.workers)
        bench_api(settings, Path(tmp), args.requests, args.threads)
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
