"""What hostile connections cost ``aigc-check serve``: memory, descriptors, and /healthz latency meanwhile.

    python bench/bench_transport.py [--connections 1000] [--rounds 2] [--json bench/out/transport.json]

Starts the service on a free loopback port (127.0.0.1 only) with the default transport limits
(16 KiB of headers, 10 s header deadline, 1,024 connections) and ``--queue`` so that every
trickled upload is admitted (the costly case: each holds a spooled file), then runs each scenario
``--rounds`` times with ``--connections`` client connections at once:

- ``headers-trickle``: a slowloris; each connection sends a request line and then one header byte
  per ``--interval`` seconds: the header deadline answers 408 and closes;
- ``headers-endless``: each connection sends one header line that never ends, as fast as it can
  (up to ``--endless-bytes`` each): 431 at the header cap;
- ``body-trickle``: each connection announces a 10 MB upload to ``/v1/check`` and sends 64 bytes
  per ``--interval`` seconds: the upload deadline (``--read-timeout``) answers 408 and closes;
- ``over-limit``: ``--over-limit`` silent connections, more than ``--max-connections``: the ones
  beyond the limit are answered 503 at once; the others get the header deadline's 408.

Meanwhile a process of its own samples the event-loop process (the ``serve`` process itself; the checks run
in child processes) every ``--sample`` seconds: VmRSS from /proc/PID/status, its open descriptors
(/proc/PID/fd), and the latency of ``GET /healthz`` on a new connection.  After each round, once
every client connection is gone, it checks that the descriptors are back to the baseline and
samples RSS a while longer.  Each scenario stops by itself: when the server has closed every
connection, or after ``--max-seconds`` when the client closes what is left.  Not a test: run it
by hand (Linux: it reads /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import resource
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aigc_check.service.launch import ServerProcess  # noqa: E402

HOST = "127.0.0.1"  # loopback only, whatever the server's address says


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        sys.exit(f"the open-file limit is {soft}, {needed} are needed: lower --connections")


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of ``pid``, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def healthz_ms(port: int, timeout: float = 5.0) -> float | None:
    """Latency of ``GET /healthz`` on a new connection; None if it failed or was not 200."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        ok = response.status == 200
    except OSError:
        ok = False
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000 if ok else None


@dataclass
class Samples:
    rss_kib: list[int] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    health_failures: int = 0
    timeline: list[tuple[float, int, int, float | None]] = field(default_factory=list)  # (s, RSS KiB, fds, ms)


def _sample(pid: int, port: int, interval: float, stop: Any, out: Any) -> None:
    samples = Samples()
    origin = time.monotonic()
    while not stop.is_set():
        started = time.monotonic()
        rss, fds = proc_status(pid)["VmRSS"], open_fds(pid)
        latency = healthz_ms(port)
        samples.rss_kib.append(rss)
        samples.fds.append(fds)
        if latency is None:
            samples.health_failures += 1
        else:
            samples.health_ms.append(latency)
        samples.timeline.append((started - origin, rss, fds, latency))
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    out.send(samples)


class Sampler:
    """Samples the server process from a process of its own, so the clients' load here does not
    delay the /healthz probes (they share no interpreter lock)."""

    def __init__(self, pid: int, port: int, interval: float) -> None:
        self._stop = multiprocessing.Event()
        self._receive, send = multiprocessing.Pipe(duplex=False)
        self._process = multiprocessing.Process(target=_sample, args=(pid, port, interval, self._stop, send))
        self._process.start()

    def stop(self) -> Samples:
        self._stop.set()
        samples: Samples = self._receive.recv()
        self._process.join()
        return samples


# -- the clients ------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str  # the answer's status code, "reset", "none" (closed without an answer) or "client-timeout"
    seconds: float  # from the connection's start to the server's close


async def one_connection(port: int, scenario: str, args: argparse.Namespace, deadline: float) -> Outcome:
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return Outcome("connect-failed", 0.0)
    if scenario in ("headers-trickle", "headers-endless"):
        head, step = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: ", b"a"
    elif scenario == "body-trickle":
        head = (
            b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: image/jpeg\r\nContent-Length: 10000000\r\n\r\n"
        )
        step = b"\xff" * 64
    else:  # over-limit: connect and say nothing
        head, step = b"", b""
    if scenario == "headers-endless":
        step = b"a" * 1024

    reply = bytearray()
    status = "none"

    async def read_all() -> None:
        nonlocal status
        try:
            while chunk := await reader.read(65536):
                reply.extend(chunk)
        except (ConnectionResetError, BrokenPipeError):
            status = "reset"

    read_task = asyncio.create_task(read_all())
    try:
        if head:
            writer.write(head)
        sent = 0
        while not read_task.done() and time.monotonic() < deadline:
            if scenario == "headers-endless":
                if sent >= args.endless_bytes or reply:  # stop writing once answered, as a client would
                    await asyncio.wait([read_task], timeout=max(0.0, deadline - time.monotonic()))
                    break
                writer.write(step)
                sent += len(step)
                await writer.drain()
                await asyncio.sleep(0)  # let the reader see an answer before the next write
            else:
                if step:
                    writer.write(step)
                    await writer.drain()
                await asyncio.wait([read_task], timeout=args.interval)
    except (ConnectionResetError, BrokenPipeError):
        pass
    if not read_task.done():
        await asyncio.wait([read_task], timeout=max(0.0, min(1.0, deadline - time.monotonic())))
    ended = time.monotonic()
    if not read_task.done():
        read_task.cancel()
        status = "client-timeout"
    writer.close()
    if reply.startswith(b"HTTP/1.1 "):
        status = reply[9:12].decode()
    return Outcome(status, ended - started)


async def run_clients(port: int, scenario: str, count: int, args: argparse.Namespace) -> list[Outcome]:
    deadline = time.monotonic() + args.max_seconds
    return await asyncio.gather(*(one_connection(port, scenario, args, deadline) for _ in range(count)))


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def run_scenario(server: ServerProcess, scenario: str, count: int, args: argparse.Namespace) -> dict:
    port = urlsplit(server.url).port
    assert port is not None
    pid = server.pid
    for _ in range(5):  # warm-up, and let the previous round's connections go
        healthz_ms(port)
    time.sleep(1)
    base_fds = open_fds(pid)
    base = proc_status(pid)
    sampler = Sampler(pid, port, args.sample)
    started = time.monotonic()
    outcomes = asyncio.run(run_clients(port, scenario, count, args))
    clients_done = time.monotonic() - started
    # Every client connection is closed now; the server must let go of them too.
    settle_deadline = time.monotonic() + 10
    while open_fds(pid) > base_fds and time.monotonic() < settle_deadline:
        time.sleep(0.05)
    released = time.monotonic() - started - clients_done
    time.sleep(args.after)  # RSS after the storm, sampled still
    samples = sampler.stop()
    after = proc_status(pid)
    statuses = Counter(o.status for o in outcomes)
    close_times = [o.seconds for o in outcomes if o.status not in ("client-timeout", "connect-failed")]
    return {
        "scenario": scenario,
        "connections": count,
        "statuses": dict(statuses),
        "close_s_p50": percentile(close_times, 0.5),
        "close_s_max": max(close_times) if close_times else None,
        "clients_done_s": clients_done,
        "rss_base_mib": base["VmRSS"] / 1024,
        "rss_peak_mib": max(samples.rss_kib) / 1024,
        "hwm_mib": after["VmHWM"] / 1024,  # the process's peak RSS so far (catches spikes between samples)
        "rss_after_mib": after["VmRSS"] / 1024,
        "fds_base": base_fds,
        "fds_peak": max(samples.fds),
        "fds_after": open_fds(pid),
        "fds_released_s": released,
        "healthz_samples": len(samples.health_ms) + samples.health_failures,
        "healthz_failures": samples.health_failures,
        "healthz_p50_ms": statistics.median(samples.health_ms) if samples.health_ms else None,
        "healthz_max_ms": max(samples.health_ms) if samples.health_ms else None,
        "timeline": samples.timeline,
    }


def show(r: dict) -> str:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
    closed = (
        f"closed p50 {r['close_s_p50']:.2f} s, max {r['close_s_max']:.2f} s"
        if r["close_s_p50"] is not None
        else "none closed by the server"
    )
    rss = (
        f"RSS {r['rss_base_mib']:.0f} -> peak {r['rss_peak_mib']:.0f} (HWM {r['hwm_mib']:.0f}) "
        f"-> after {r['rss_after_mib']:.0f} MiB"
    )
    fds = f"fds {r['fds_base']} -> {r['fds_peak']} -> {r['fds_after']} ({r['fds_released_s']:.2f} s)"
    health = (
        f"healthz p50 {r['healthz_p50_ms']:.1f} ms, max {r['healthz_max_ms']:.1f} ms"
        if r["healthz_p50_ms"] is not None
        else "healthz: no answer"
    )
    failed = f"{r['healthz_failures']}/{r['healthz_samples']} failed"
    return f"{r['scenario']:16s} n={r['connections']:<5d} [{statuses}] {closed} | {rss} | {fds} | {health}, {failed}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=1000, help="client connections at once per scenario")
    ap.add_argument("--over-limit", type=int, default=1500, help="connections of the over-limit scenario")
    ap.add_argument("--max-connections", type=int, default=1024, help="the server's --max-connections")
    ap.add_argument("--rounds", type=int, default=2, help="runs of each scenario on the same server")
    ap.add_argument(
        "--scenarios", nargs="+", default=["headers-trickle", "headers-endless", "body-trickle", "over-limit"]
    )
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between a trickling client's sends")
    ap.add_argument("--endless-bytes", type=int, default=1024**2, help="bytes each endless header line may send")
    ap.add_argument("--read-timeout", type=float, default=10.0, help="the server's --read-timeout")
    ap.add_argument("--max-seconds", type=float, default=40.0, help="a scenario's client side ends after this long")
    ap.add_argument("--sample", type=float, default=0.25, help="seconds between samples")
    ap.add_argument("--after", type=float, default=3.0, help="seconds sampled after the connections are gone")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    # Both ends of every connection live on this host; the server inherits the raised limit too.
    raise_fd_limit(2 * max(args.connections, args.over_limit) + 256)
    server_args = [
        "--workers",
        "2",
        "--queue",
        str(max(0, args.connections - 2)),  # every trickled upload is admitted and spooled
        "--read-timeout",
        str(args.read_timeout),
        "--max-connections",
        str(args.max_connections),
    ]
    results: dict = {"server_args": server_args, "cpus": os.cpu_count(), "runs": []}
    with ServerProcess(server_args) as server:
        results["rss_start_mib"] = proc_status(server.pid)["VmRSS"] / 1024
        for scenario in args.scenarios:
            count = args.over_limit if scenario == "over-limit" else args.connections
            for round_ in range(1, args.rounds + 1):
                r = run_scenario(server, scenario, count, args)
                r["round"] = round_
                results["runs"].append(r)
                print(show(r), flush=True)
        results["rss_end_mib"] = proc_status(server.pid)["VmRSS"] / 1024
    print(f"server RSS: {results['rss_start_mib']:.0f} MiB at start, {results['rss_end_mib']:.0f} MiB at the end")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
