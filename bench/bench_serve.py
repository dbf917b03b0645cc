"""Latency and throughput of ``aigc-check serve`` beside one ``aigc-check check`` process per file.

    python bench/bench_serve.py [--workers 2] [--requests 1500] [--seconds 20] [--json bench/out/serve.json]

Starts the service on a free loopback port (127.0.0.1 only), then for each
concurrency (1, 4, 16 client connections, keep-alive) sends requests until
``--requests`` are answered or ``--seconds`` pass, whichever is first:

- ``mix``: every fixture in ``fixtures/files`` in turn (JPEG, PNG, WebP, GIF, TIFF,
  HEIF/AVIF, signed and unsigned, broken), raw body;
- ``jpeg-3mb``: a generated 3 MB JPEG of noise without C2PA, raw body and multipart.

Client and server share the machine's cores, so high-concurrency figures include the
client's own cost; "in the service" is the server's own time per request (its Server-Timing
header: from the request's headers to the answer, upload included).  The baseline runs
``aigc-check check --format json FILE`` as a new process per file for a sample of the same
files.  Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aigc_check import Checker  # noqa: E402
from aigc_check.service.launch import ServerProcess  # noqa: E402

FIXTURES = ROOT / "fixtures" / "files"
TARGET_BYTES = 3 * 1024 * 1024


def noise_jpeg(target: int = TARGET_BYTES) -> bytes:
    """A JPEG of random pixels (incompressible, so the size is real), grown until it reaches ``target``."""
    from PIL import Image

    side = 1024
    while True:
        image = Image.frombytes("RGB", (side, side * 3 // 4), os.urandom(side * side * 3 // 4 * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=92)
        if out.tell() >= target:
            return out.getvalue()
        side = int(side * 1.02)  # small steps: the result stays within a few % of the target


def multipart(data: bytes, filename: str, declared: str = "none") -> tuple[bytes, str]:
    boundary = "bench" + os.urandom(8).hex()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="declared"\r\n\r\n{declared}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def raw(data: bytes, filename: str) -> tuple[bytes, str, str]:
    return data, "application/octet-stream", f"/v1/check?declared=none&name={filename}"


def run_load(
    url: str, requests: list[tuple[bytes, str, str]], concurrency: int, max_requests: int, max_seconds: float
) -> dict:
    """``concurrency`` keep-alive connections send ``requests`` round-robin; returns latency stats."""
    parts = urlsplit(url)
    latencies: list[float] = []
    server_totals: list[float] = []  # the service's own time, from its Server-Timing header
    failures: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds
    counter = iter(range(max_requests))

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine: list[float] = []
        mine_server: list[float] = []
        for i in counter:
            if time.monotonic() > deadline:
                break
            body, content_type, path = requests[i % len(requests)]
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            timing = response.getheader("Server-Timing", "")
            if "total;dur=" in timing:
                mine_server.append(float(timing.rsplit("total;dur=", 1)[1]) / 1000)
            if response.status != 200:
                with lock:
                    failures.append(response.status)
        conn.close()
        with lock:
            latencies.extend(mine)
            server_totals.extend(mine_server)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    server_totals.sort()
    n = len(latencies)
    return {
        "concurrency": concurrency,
        "requests": n,
        "failures": len(failures),
        "server_p50_ms": server_totals[len(server_totals) // 2] * 1000 if server_totals else None,
        "p50_ms": latencies[n // 2] * 1000 if n else None,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else None,
        "rps": n / wall if wall else None,
    }


def per_process_cost(paths: list[Path]) -> float:
    """Median wall time of ``aigc-check check --format json FILE``, a new process per file."""
    times = []
    for p in paths:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "aigc_check", "check", "--format", "json", str(p)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def in_process_cost(paths: list[Path], repeat: int = 5) -> float:
    checker = Checker()
    best = []
    for p in paths:
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            checker.check(p)
            runs.append(time.perf_counter() - started)
        best.append(min(runs))
    return statistics.median(best) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--requests", type=int, default=1500, help="at most this many requests per run")
    ap.add_argument("--seconds", type=float, default=20.0, help="at most this long per run")
    ap.add_argument("--process-sample", type=int, default=20, help="files for the process-per-file baseline")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    import tempfile

    fixture_paths = sorted(p for p in FIXTURES.iterdir() if p.is_file())
    big = noise_jpeg()
    with tempfile.TemporaryDirectory() as tmp:
        big_path = Path(tmp) / "noise-3mb.jpg"
        big_path.write_bytes(big)
        mix = [raw(p.read_bytes(), p.name) for p in fixture_paths]
        big_raw = [raw(big, big_path.name)]
        big_body, big_type = multipart(big, big_path.name)
        big_multipart = [(big_body, big_type, "/v1/check")]
        loads = {"mix (raw body)": mix, "jpeg-3mb (raw body)": big_raw, "jpeg-3mb (multipart)": big_multipart}

        results = {"workers": args.workers, "cpus": os.cpu_count(), "jpeg_3mb_bytes": len(big), "runs": []}
        with ServerProcess(["--workers", str(args.workers), "--queue", "64"]) as server:
            for requests in loads.values():  # warm-up: first requests pay page faults and caches
                run_load(server.url, requests, 1, 20, 5)
            for name, requests in loads.items():
                for c in args.concurrency:
                    r = run_load(server.url, requests, c, args.requests, args.seconds)
                    r["load"] = name
                    results["runs"].append(r)
                    print(
                        f"{name:22s} c={c:<3d} n={r['requests']:<5d} p50 {r['p50_ms']:7.2f} ms  "
                        f"p99 {r['p99_ms']:7.2f} ms  {r['rps']:6.0f} req/s  "
                        f"(in the service: p50 {r['server_p50_ms']:6.2f} ms)  failures {r['failures']}",
                        flush=True,
                    )

        step = max(1, len(fixture_paths) // args.process_sample)
        sample = fixture_paths[::step][: args.process_sample]
        results["process_per_file_ms"] = per_process_cost(sample + [big_path])
        results["in_process_mix_ms"] = in_process_cost(fixture_paths)
        results["in_process_jpeg_3mb_ms"] = in_process_cost([big_path])

    serial_mix = next(r for r in results["runs"] if r["load"].startswith("mix") and r["concurrency"] == 1)
    best_mix = max((r for r in results["runs"] if r["load"].startswith("mix")), key=lambda r: r["rps"])
    per_process = results["process_per_file_ms"]
    results["ratio_process_to_service_p50"] = per_process / serial_mix["p50_ms"]
    results["ratio_service_rps_to_process_rps"] = best_mix["rps"] / (1000 / per_process)
    print(
        f"\none 'aigc-check check' process per file: median {per_process:.1f} ms "
        f"({1000 / per_process:.1f} files/s on one core)"
    )
    print(
        f"in-process check: mix median {results['in_process_mix_ms']:.2f} ms, "
        f"3 MB JPEG {results['in_process_jpeg_3mb_ms']:.2f} ms"
    )
    print(
        f"process per file / service p50 (mix, c=1): {results['ratio_process_to_service_p50']:.0f}x; "
        f"service req/s (best) / process-per-file files/s: {results['ratio_service_rps_to_process_rps']:.0f}x"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
