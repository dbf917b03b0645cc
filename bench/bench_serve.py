"""Latency and throughput of ``aigc-check serve``, each beside its physical limit measured in the same run.

    python bench/bench_serve.py [--workers 2] [--requests 600] [--seconds 15] [--json bench/out/serve.json]
                                [--baseline-tree DIR ...]   # also run the loads on other checkouts' servers
    python bench/bench_serve.py --asgi-servers [--asgi-path DIR]   # the ASGI servers alone
    python bench/bench_serve.py --interleave 5 --requests 150 --seconds 4 --baseline-tree DIR ...
                                # the raw 3 MB load on each server in turn, 5 rounds: medians
    python bench/bench_serve.py --only 'by path' --interleave 3 --baseline-tree DIR   # only those loads

Starts the service on a free loopback port (127.0.0.1 only) with ``--allow-root`` on a temporary
folder, then for each concurrency (1 and 16 keep-alive client connections) sends requests until
``--requests`` are answered or ``--seconds`` pass, whichever is first:

- ``jpeg-3mb raw``: a generated 3 MB JPEG of noise without C2PA, as the raw body;
- ``jpeg-3mb raw, socket client``: the same from the raw-socket client below (with 16 clients
  ``http.client``'s own CPU, on the cores the server uses, is a large part of what bounds the
  throughput);
- ``jpeg-3mb multipart``: the same as ``multipart/form-data``;
- ``jpeg-3mb by path``: ``{"path": ...}`` naming the same file (check by reference);
- ``jpeg-3mb by path, socket client``: the same requests from a client of a raw socket (each
  request's bytes made once, the answer read by its length) instead of ``http.client``, whose own
  Python costs a few tenths of a millisecond a request: the difference is the client's, not the server's;
- ``mix raw`` and ``mix by path``: every fixture in ``fixtures/files`` in turn.

Beside them, with the same clients and bytes:

- ``loopback copy``: the 3 MB sent over a raw loopback socket to a sink process that answers one
  byte per upload: the least an upload by value can cost (no HTTP, no parsing, no check);
- ``read the file``: opening and reading the whole 3 MB file, and the in-process check of it
  (``Checker.check``): the least a by-reference check can cost.

``--asgi-servers`` measures instead the ASGI servers themselves on the same 3 MB raw upload: a
minimal app that only reads the body (``body_sink_app``) under uvicorn (httptools, httptools with
the service's heap thresholds, h11), granian and hypercorn, each where installed (``--asgi-path``
adds a folder they were installed to, e.g. ``pip install --target /tmp/asgi granian hypercorn``).

``--baseline-tree`` runs the upload loads again on a server started from another checkout (e.g. a
``git archive`` of the commit before a change; repeatable) in the same run, so before and after
share the machine's state; a tree without check by reference gets only the upload loads.  Client and server
share the machine's cores, so 16-client figures include the clients' own cost; "service" is the
server's own time per request (its Server-Timing total), "upload" the part of it spent receiving
and spooling the body (Server-Timing ``upload``); "cpu/req" the CPU time the event loop's
process and the worker processes used per request (from /proc), and the client's (this
process), which other jobs on a shared machine disturb far less than wall time; "ceiling" what
the cores allow at that CPU per request (cores / the three together: the bound many clients
meet on one machine) and, in brackets, what the event loop's one core allows.  Not a test: run
it by hand.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aigc_check import Checker  # noqa: E402
from aigc_check.service.launch import ServerProcess  # noqa: E402

FIXTURES = ROOT / "fixtures" / "files"
TARGET_BYTES = 3 * 1024 * 1024
Request = tuple[bytes, str, str]  # body, content type, path and query


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


def multipart(data: bytes, filename: str, declared: str = "none") -> Request:
    boundary = "bench" + os.urandom(8).hex()
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="declared"\r\n\r\n{declared}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}", "/v1/check"


def raw(data: bytes, filename: str) -> Request:
    return data, "application/octet-stream", f"/v1/check?declared=none&name={filename}"


def by_path(path: Path) -> Request:
    return json.dumps({"path": str(path), "declared": "none"}).encode(), "application/json", "/v1/check"


def summary(latencies: list[float], wall: float, extra: dict | None = None) -> dict:
    latencies = sorted(latencies)
    n = len(latencies)
    return {
        "requests": n,
        "p50_ms": latencies[n // 2] * 1000 if n else None,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else None,
        "rps": n / wall if wall else None,
        **(extra or {}),
    }


def run_clients(concurrency: int, max_requests: int, max_seconds: float, make_client: Callable) -> dict:
    """``concurrency`` threads, each with its own connection (``make_client()`` returns a function that
    sends request ``i`` and returns its server time or None), sharing ``max_requests``."""
    latencies: list[float] = []
    server_times: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds
    counter = iter(range(max_requests))

    def client() -> None:
        send, close = make_client()
        mine: list[float] = []
        mine_server: list[float] = []
        try:
            for i in counter:
                if time.monotonic() > deadline:
                    break
                started = time.perf_counter()
                server_time = send(i)
                mine.append(time.perf_counter() - started)
                if server_time is not None:
                    mine_server.append(server_time)
        except Exception as exc:  # reported, not raised: a bench run reports what failed
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            close()
        with lock:
            latencies.extend(mine)
            server_times.extend(mine_server)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    server_times.sort()
    extra = {
        "concurrency": concurrency,
        "failures": len(failures),
        "service_p50_ms": server_times[len(server_times) // 2] * 1000 if server_times else None,
    }
    return summary(latencies, wall, extra)


def http_load(url: str, requests: list[Request], concurrency: int, max_requests: int, max_seconds: float) -> dict:
    parts = urlsplit(url)
    statuses: list[int] = []
    uploads: list[float] = []  # the Server-Timing "upload" stage: receiving and spooling the body

    def make_client():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

        def send(i: int) -> float | None:
            body, content_type, path = requests[i % len(requests)]
            conn.request("POST", path, body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                statuses.append(response.status)
            timing = response.getheader("Server-Timing", "")
            if "upload;dur=" in timing:
                uploads.append(float(timing.split("upload;dur=", 1)[1].split(",", 1)[0]))
            return float(timing.rsplit("total;dur=", 1)[1]) / 1000 if "total;dur=" in timing else None

        return send, conn.close

    result = run_clients(concurrency, max_requests, max_seconds, make_client)
    result["non_200"] = len(statuses)
    uploads.sort()
    result["upload_p50_ms"] = uploads[len(uploads) // 2] if uploads else None
    return result


def _response_head(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """Read one HTTP/1.1 response with a ``Content-Length`` off ``sock`` (what is read past it stays in
    ``buffer``): its status, its header fields (names in lower case) and its body."""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            fields = dict(line.split(":", 1) for line in lines[1:])
            headers = {name.strip().lower(): value.strip() for name, value in fields.items()}
            size = int(headers.get("content-length", "0"))
            if len(buffer) >= end + 4 + size:
                body = bytes(buffer[end + 4 : end + 4 + size])
                del buffer[: end + 4 + size]
                return int(lines[0].split()[1]), headers, body
        chunk = sock.recv(256 * 1024)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buffer += chunk


def socket_load(url: str, requests: list[Request], concurrency: int, max_requests: int, max_seconds: float) -> dict:
    """As :func:`http_load`, with a client of a raw socket instead of ``http.client``: each request's bytes
    made once, one ``sendall``, the answer read by its ``Content-Length``.  What is left of the client
    time is the server's and the loopback's, which shows how much of ``http_load``'s p50 is
    ``http.client``'s own (headers built and parsed in Python, a ``makefile`` reader per response)."""
    parts = urlsplit(url)
    statuses: list[int] = []
    wire = [
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
        for body, content_type, path in requests
    ]

    def make_client():
        sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client sets it
        buffer = bytearray()

        def send(i: int) -> float | None:
            sock.sendall(wire[i % len(wire)])
            status, headers, _ = _response_head(sock, buffer)
            if status != 200:
                statuses.append(status)
            timing = headers.get("server-timing", "")
            return float(timing.rsplit("total;dur=", 1)[1]) / 1000 if "total;dur=" in timing else None

        return send, sock.close

    result = run_clients(concurrency, max_requests, max_seconds, make_client)
    result["non_200"] = len(statuses)
    return result


def _cpu_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def with_cpu(pid: int, run: Callable[[], dict]) -> dict:
    """``run()``'s figures plus the CPU the server used per request: its event loop's and its workers'.
    CPU time is much less disturbed by other jobs on a shared machine than wall time (Linux /proc only)."""
    if not os.path.isdir(f"/proc/{pid}"):
        return run()
    tick = os.sysconf("SC_CLK_TCK")
    workers = _descendants(pid)
    loop_before, workers_before = _cpu_ticks(pid), sum(_cpu_ticks(w) for w in workers)
    client_before = time.process_time()  # this process is the client (all its threads)
    result = run()
    client_after = time.process_time()
    loop_after, workers_after = _cpu_ticks(pid), sum(_cpu_ticks(w) for w in workers)
    n = max(result["requests"], 1)
    result["loop_cpu_ms"] = (loop_after - loop_before) / tick * 1000 / n
    result["workers_cpu_ms"] = (workers_after - workers_before) / tick * 1000 / n
    result["client_cpu_ms"] = (client_after - client_before) * 1000 / n
    # What the machine's cores allow at this CPU per request: the server's and the client's, which
    # share them here (the bound a throughput of many clients meets), and the event loop's alone (one
    # core at most).  Twice a throughput is out of reach where it is above the first.
    total = result["loop_cpu_ms"] + result["workers_cpu_ms"] + result["client_cpu_ms"]
    result["cores"] = len(os.sched_getaffinity(0))
    result["ceiling_rps"] = result["cores"] * 1000 / total if total > 0 else None
    result["loop_ceiling_rps"] = 1000 / result["loop_cpu_ms"] if result["loop_cpu_ms"] > 0 else None
    return result


# -- the physical limits --------------------------------------------------------------------------------


def _sink(listener: socket.socket, size: int) -> None:
    """Per connection: receive ``size`` bytes into one buffer, answer one byte; repeat."""

    def serve(conn: socket.socket) -> None:
        buffer = bytearray(size)
        view = memoryview(buffer)
        with conn:
            while True:
                got = 0
                while got < size:
                    n = conn.recv_into(view[got:])
                    if not n:
                        return
                    got += n
                conn.sendall(b"k")

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def loopback_copy(data: bytes, concurrency: int, max_requests: int, max_seconds: float) -> dict:
    """The same bytes over raw loopback sockets to a sink in another process, one byte back each."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    sink = multiprocessing.get_context("fork").Process(target=_sink, args=(listener, len(data)), daemon=True)
    sink.start()
    address = listener.getsockname()
    try:

        def make_client():
            sock = socket.create_connection(address)

            def send(i: int) -> None:
                sock.sendall(data)
                if sock.recv(1) != b"k":
                    raise ConnectionError("the sink went away")

            return send, sock.close

        return run_clients(concurrency, max_requests, max_seconds, make_client)
    finally:
        sink.kill()
        sink.join()
        listener.close()


def read_file_cost(path: Path, repeat: int = 200) -> dict:
    """Opening and reading the whole file, and the in-process check of it (median of ``repeat``)."""
    reads = []
    for _ in range(repeat):
        started = time.perf_counter()
        fd = os.open(path, os.O_RDONLY)
        try:
            while os.read(fd, 1024 * 1024):
                pass
        finally:
            os.close(fd)
        reads.append(time.perf_counter() - started)
    checker = Checker()
    checks = []
    for _ in range(repeat):
        started = time.perf_counter()
        checker.check(path)
        checks.append(time.perf_counter() - started)
    return {"read_ms": statistics.median(reads) * 1000, "check_ms": statistics.median(checks) * 1000}


# -- the ASGI servers alone --------------------------------------------------------------------------------------


async def body_sink_app(scope: dict, receive: Callable, send: Callable) -> None:
    """Reads the whole body and answers its size: what any server costs before the app does anything."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    size, more, started = 0, True, time.perf_counter()
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    timing = f"total;dur={(time.perf_counter() - started) * 1000:.3f}".encode()
    body = str(size).encode()
    headers = [(b"content-length", str(len(body)).encode()), (b"server-timing", timing)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


HEAP_THRESHOLDS = {"MALLOC_MMAP_THRESHOLD_": str(16 * 1024**2), "MALLOC_TRIM_THRESHOLD_": str(256 * 1024**2)}
ASGI_SERVERS = {  # name: (module that must be importable, command after "python -m", extra environment)
    "uvicorn httptools": ("uvicorn", ["uvicorn", "--http", "httptools", "--loop", "uvloop"], {}),
    "uvicorn httptools, heap thresholds": (
        "uvicorn",
        ["uvicorn", "--http", "httptools", "--loop", "uvloop"],
        HEAP_THRESHOLDS,
    ),
    "uvicorn h11": ("uvicorn", ["uvicorn", "--http", "h11", "--loop", "uvloop"], {}),
    "granian": ("granian", ["granian", "--interface", "asgi", "--workers", "1", "--loop", "uvloop"], {}),
    "hypercorn": ("hypercorn", ["hypercorn", "-k", "uvloop"], {}),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def asgi_servers(big: bytes, args: argparse.Namespace) -> list[dict]:
    import importlib.util

    rows = []
    extra_path = [str(p) for p in args.asgi_path]
    path = os.pathsep.join([*extra_path, str(ROOT / "bench"), str(ROOT)])
    for name, (module, command, env) in ASGI_SERVERS.items():
        sys.path[:0] = extra_path
        try:
            if importlib.util.find_spec(module) is None:
                print(f"{name}: not installed, skipped", flush=True)
                continue
        finally:
            del sys.path[: len(extra_path)]
        port = _free_port()
        if module == "hypercorn":
            where = ["--bind", f"127.0.0.1:{port}"]
        else:
            where = ["--host", "127.0.0.1", "--port", str(port)]
        argv = [sys.executable, "-m", *command, *where, "bench_serve:body_sink_app"]
        process = subprocess.Popen(
            argv,
            env={**os.environ, **env, "PYTHONPATH": path},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            url = f"http://127.0.0.1:{port}"
            requests = [raw(big, "noise-3mb.jpg")]
            http_load(url, requests, 1, 20, 5)
            for c in args.concurrency:
                r = http_load(url, requests, c, args.requests, args.seconds)
                r.update(server="asgi", load=name, concurrency=c)
                rows.append(r)
                print_row(r)
        finally:
            process.terminate()
            process.wait(10)
    return rows


# -- the run ---------------------------------------------------------------------------------------------------


def interleaved(
    servers: dict, big: bytes, loads: dict[str, Load], by_reference: set[str], args: argparse.Namespace
) -> list[dict]:
    """Each load (the raw 3 MB, or those ``--only`` names) on every server in turn (and, for uploads,
    the loopback copy, their limit), ``--interleave`` rounds, each row ``--requests`` or
    ``--seconds``: a machine whose load drifts within minutes then moves every server alike, and
    the medians per load, server and concurrency are compared, not single rows."""
    rows: list[dict] = []
    for _ in range(args.interleave):
        for c in args.concurrency:
            if any(not load.by_reference for load in loads.values()):
                r = loopback_copy(big, c, args.requests, args.seconds)
                r.update(server="limit", load="loopback copy 3 MB", concurrency=c)
                rows.append(r)
            for load_name, load in loads.items():
                for name, server in servers.items():
                    if load.by_reference and name not in by_reference:
                        continue
                    r = with_cpu(
                        server.pid,
                        lambda server=server, c=c, load=load: load.run(server.url, c, args.requests, args.seconds),
                    )
                    r.update(server=name, load=load_name, concurrency=c)
                    rows.append(r)
    medians = []
    # In the order the rows ran, grouped by concurrency (the limit first, then each load's servers).
    groups = sorted(dict.fromkeys((r["load"], r["server"], r["concurrency"]) for r in rows), key=lambda g: g[2])
    for load_name, name, c in groups:
        mine = [r for r in rows if (r["load"], r["server"], r["concurrency"]) == (load_name, name, c)]
        median = {"server": name, "load": f"{load_name}, median", "concurrency": c, "failures": 0}
        for key in ("requests", "p50_ms", "p99_ms", "rps", "service_p50_ms", "upload_p50_ms"):
            values = [r[key] for r in mine if r.get(key) is not None]
            median[key] = statistics.median(values) if values else None
        for key in ("loop_cpu_ms", "workers_cpu_ms"):
            values = [r[key] for r in mine if key in r]
            if values:
                median[key] = statistics.median(values)
        median["failures"] = sum(r["failures"] + r.get("non_200", 0) for r in mine)
        median["requests"] = sum(r["requests"] for r in mine)
        median["rps_each"] = [round(r["rps"]) for r in mine]
        print_row(median)
        medians.append(median)
    return [*rows, *medians]


@dataclass(frozen=True)
class Load:
    """A load's requests and the client that sends them (``http_load``, or ``socket_load``)."""

    requests: list[Request]
    client: Callable[[str, list[Request], int, int, float], dict] = http_load

    @property
    def by_reference(self) -> bool:
        return all(content_type == "application/json" for _, content_type, _ in self.requests)

    def run(self, url: str, concurrency: int, max_requests: int, max_seconds: float) -> dict:
        return self.client(url, self.requests, concurrency, max_requests, max_seconds)


def _require_code_of(tree: Path) -> None:
    """Stop unless a server started as a baseline's is (``cwd`` and ``PYTHONPATH`` the tree) imports
    that tree's package, not this checkout's or the installed one."""
    where = subprocess.run(
        [sys.executable, "-c", "import aigc_check; print(aigc_check.__file__)"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(where).resolve().is_relative_to(tree):
        sys.exit(f"a server started from {tree} would run {where}, not that tree's code")


def print_row(r: dict) -> None:
    service = f"(service p50 {r['service_p50_ms']:6.2f} ms)" if r.get("service_p50_ms") is not None else " " * 24
    if r.get("upload_p50_ms") is not None:
        service += f"  upload p50 {r['upload_p50_ms']:5.2f} ms"
    if "loop_cpu_ms" in r:
        service += (
            f"  cpu/req: loop {r['loop_cpu_ms']:5.2f} ms, workers {r['workers_cpu_ms']:5.2f} ms, "
            f"client {r['client_cpu_ms']:5.2f} ms"
        )
        if r.get("ceiling_rps") and r.get("loop_ceiling_rps"):
            ceiling, loop = r["ceiling_rps"], r["loop_ceiling_rps"]
            service += f"  ceiling {ceiling:5.0f} req/s on {r['cores']} cores (loop {loop:5.0f})"
    print(
        f"{r['server']:17s} {r['load']:34s} c={r['concurrency']:<3d} n={r['requests']:<5d} "
        f"p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  {r['rps']:6.0f} req/s  {service}  "
        f"failures {r['failures'] + r.get('non_200', 0)}",
        flush=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--requests", type=int, default=600, help="at most this many requests per run")
    ap.add_argument("--seconds", type=float, default=15.0, help="at most this long per run")
    ap.add_argument(
        "--baseline-tree",
        type=Path,
        action="append",
        default=[],
        help="a checkout whose server runs the upload loads too (repeatable: each is named by its folder)",
    )
    ap.add_argument("--no-mix", action="store_true", help="only the 3 MB JPEG loads")
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="only the loads whose name holds TEXT (repeatable), e.g. 'by path'; with --interleave, those loads",
    )
    ap.add_argument("--asgi-servers", action="store_true", help="measure the ASGI servers alone instead")
    ap.add_argument(
        "--interleave",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="instead of one row per load: the raw 3 MB load on each server in turn, ROUNDS times; medians",
    )
    ap.add_argument("--asgi-path", type=Path, action="append", default=[], help="where granian etc. are installed")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if args.asgi_servers:
        big = noise_jpeg()
        results = {"jpeg_3mb_bytes": len(big), "runs": asgi_servers(big, args)}
        limits = [loopback_copy(big, c, args.requests, args.seconds) for c in args.concurrency]
        for c, r in zip(args.concurrency, limits, strict=True):
            r.update(server="limit", load="loopback copy 3 MB", concurrency=c)
            print_row(r)
        results["runs"] += limits
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=2))
        return 0

    fixture_paths = sorted(p for p in FIXTURES.iterdir() if p.is_file())
    big = noise_jpeg()
    results: dict = {"workers": args.workers, "cpus": os.cpu_count(), "jpeg_3mb_bytes": len(big), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        big_path = Path(tmp) / "noise-3mb.jpg"
        big_path.write_bytes(big)
        uploads: dict[str, Load] = {
            "jpeg-3mb raw": Load([raw(big, big_path.name)]),
            "jpeg-3mb raw, socket client": Load([raw(big, big_path.name)], socket_load),
            "jpeg-3mb multipart": Load([multipart(big, big_path.name)]),
        }
        references = {
            "jpeg-3mb by path": Load([by_path(big_path)]),
            "jpeg-3mb by path, socket client": Load([by_path(big_path)], socket_load),
        }
        if not args.no_mix:
            uploads["mix raw"] = Load([raw(p.read_bytes(), p.name) for p in fixture_paths])
            references["mix by path"] = Load([by_path(p) for p in fixture_paths])
        if args.only:
            uploads = {name: load for name, load in uploads.items() if any(o in name for o in args.only)}
            references = {name: load for name, load in references.items() if any(o in name for o in args.only)}

        results["read_file"] = read_file_cost(big_path)
        print(
            f"limit     read the 3 MB file whole: {results['read_file']['read_ms']:.3f} ms; "
            f"its in-process check: {results['read_file']['check_ms']:.3f} ms",
            flush=True,
        )
        base_args = ["--workers", str(args.workers), "--queue", "64"]
        roots = ["--allow-root", str(ROOT / "fixtures"), "--allow-root", tmp]
        servers = {"this": ServerProcess([*base_args, *roots])}
        by_reference = {"this"}  # the servers that run the by-reference loads too
        for tree in args.baseline_tree:
            name = "baseline" if len(args.baseline_tree) == 1 else tree.resolve().name
            _require_code_of(tree.resolve())
            has_reference = (tree / "aigc_check" / "service" / "reference.py").is_file()
            # Started in the tree itself: ``python -m`` would put this checkout (the working folder)
            # before PYTHONPATH, and run this code under the baseline's name (as it did before this fix).
            servers[name] = ServerProcess(
                [*base_args, *(roots if has_reference else [])],
                env={"PYTHONPATH": str(tree.resolve())},
                cwd=str(tree.resolve()),
            )
            if has_reference:
                by_reference.add(name)
        try:
            for name, server in servers.items():
                server.start()
                loads = [*uploads.values(), *(references.values() if name in by_reference else [])]
                for warm_up in loads:  # page faults, caches
                    warm_up.run(server.url, 1, 20, 5)
            if args.interleave:
                chosen = {**uploads, **references} if args.only else {"jpeg-3mb raw": uploads["jpeg-3mb raw"]}
                results["interleaved"] = interleaved(servers, big, chosen, by_reference, args)
            # Each load's rows back to back (the limit, this server, the baseline), so that they share
            # the machine's state of the moment: the ratios hold when the absolute figures drift.
            for load, requests in ({} if args.interleave else {**uploads, **references}).items():
                for c in args.concurrency:
                    if load.startswith("jpeg-3mb") and load in uploads:
                        rows = [
                            (
                                "limit",
                                "loopback copy 3 MB",
                                lambda c=c: loopback_copy(big, c, args.requests, args.seconds),
                            )
                        ]
                    else:
                        rows = []
                    for name, server in servers.items():
                        if name not in by_reference and load in references:
                            continue  # no check by reference there
                        rows.append(
                            (
                                name,
                                load,
                                lambda server=server, requests=requests, c=c: with_cpu(
                                    server.pid, lambda: requests.run(server.url, c, args.requests, args.seconds)
                                ),
                            )
                        )
                    for name, shown, run in rows:
                        r = run()
                        r.update(server=name, load=shown, concurrency=c)
                        results["runs"].append(r)
                        print_row(r)
        finally:
            for server in servers.values():
                server.stop()

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
