"""Remote C2PA manifests (XMP dcterms:provenance -> an http URL), fetched only under --allow-network,
within a total deadline and a byte cap, once per checker: against a loopback HTTP server in this
process serving manifest stores signed by the test CA (fixtures/makers/signing.py)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ROOT, TEST_ROOT_CA

from aigc_check import Checker, CheckOptions

sys.path.insert(0, str(ROOT / "fixtures"))
from makers.ca import TestCA as CertificateAuthority
from makers.signing import remote_manifest_asset

SLOW_SECONDS = 4.0  # the slow routes' delay: well past the tests' timeout of TIMEOUT
TIMEOUT = 0.5


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(out, "JPEG")
    return out.getvalue()


class ManifestServer:
    """A threading http.server on 127.0.0.1 with one route per case; it counts the requests."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server.hits[self.path] += 1
                if self.path.startswith("/slow-head"):  # nothing at all until past the deadline
                    time.sleep(SLOW_SECONDS)
                if self.path.startswith("/drip"):  # headers at once, then a byte every 0.2 s
                    self.send_response(200)
                    self.end_headers()
                    for _ in range(int(SLOW_SECONDS / 0.2)):
                        try:
                            self.wfile.write(b"x")
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.2)
                    return
                if self.path.startswith("/huge-unannounced"):  # no Content-Length, more than the cap
                    self.send_response(200)
                    self.end_headers()
                    try:
                        for _ in range(64):
                            self.wfile.write(b"\0" * 65536)
                    except OSError:
                        pass
                    return
                if self.path.startswith("/to-ftp"):
                    self.send_response(302)
                    self.send_header("Location", "ftp://127.0.0.1/m.c2pa")
                    self.end_headers()
                    return
                if self.path.startswith("/loop"):
                    self.send_response(302)
                    self.send_header("Location", "/loop")
                    self.end_headers()
                    return
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", "/ok.c2pa")
                    self.end_headers()
                    return
                body = server.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/c2pa")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server():
    s = ManifestServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def assets(server, tmp_path_factory) -> dict[str, Path]:
    """One file per route, each pointing at its route; the good manifest is served at /ok.c2pa and
    /slow-head.c2pa, an oversized answer at /big.c2pa, garbage at /garbage.c2pa."""
    ca = CertificateAuthority(ROOT / "fixtures" / "ca")
    folder = tmp_path_factory.mktemp("remote")
    out: dict[str, Path] = {}
    routes = ("ok", "slow-head", "drip", "big", "huge-unannounced", "missing", "garbage", "redirect", "other")
    for number, route in enumerate(routes):
        data, manifest = remote_manifest_asset(
            ca, f"remote-{route}.jpg", f"{server.base}/{route}.c2pa", _jpeg((40 * number % 256, 90, 200))
        )
        path = folder / f"remote-{route}.jpg"
        path.write_bytes(data)
        out[route] = path
        if route in ("ok", "slow-head"):
            server.routes[f"/{route}.c2pa"] = manifest
        if route == "other":  # this file's URL serves the manifest of another file: its hash fails
            server.routes["/other.c2pa"] = server.routes["/ok.c2pa"]
    server.routes["/big.c2pa"] = b"\0" * (2 * 1024 * 1024)
    server.routes["/garbage.c2pa"] = b"not a JUMBF manifest store at all"
    server.hits.clear()
    return out


def networked(**kw) -> Checker:
    return Checker(
        CheckOptions(
            allow_network=True,
            trust_anchor_files=(str(TEST_ROOT_CA),),
            remote_timeout=kw.pop("remote_timeout", TIMEOUT),
            remote_max_bytes=kw.pop("remote_max_bytes", 256 * 1024),
            **kw,
        )
    )


def codes(result) -> set[str]:
    return {e.code for e in result.errors}


def findings(result) -> set[str]:
    return {f.code for f in result.findings}


def test_a_remote_manifest_signed_by_the_test_ca_is_fetched_validated_and_trusted(server, assets):
    result = networked().check(assets["ok"])
    assert server.hits["/ok.c2pa"] == 1
    assert result.c2pa.present and result.c2pa.validation_state == "Trusted"
    assert result.c2pa.remote_url == f"{server.base}/ok.c2pa"
    assert result.status.value == "ai-generated" and result.certainty == "definitive"
    assert "c2pa-remote-manifest" not in findings(result) and not result.errors
    assert result.disclosure.signature_trusted


def test_nothing_is_fetched_without_allow_network(server, assets):
    before = sum(server.hits.values())
    for path in assets.values():
        result = Checker(CheckOptions(trust_anchor_files=(str(TEST_ROOT_CA),))).check(path)
        assert "c2pa-remote-manifest" in findings(result)
        assert "network access is off" in next(f.message for f in result.findings if f.code == "c2pa-remote-manifest")
        assert not result.c2pa.present and result.c2pa.remote_url
    assert sum(server.hits.values()) == before


@pytest.mark.parametrize("route", ["slow-head", "drip"])
def test_a_slow_server_times_out_within_the_deadline(server, assets, route):
    started = time.monotonic()
    result = networked().check(assets[route])
    took = time.monotonic() - started
    assert "c2pa-remote-timeout" in codes(result)
    assert took < SLOW_SECONDS - 1, f"the fetch took {took:.1f} s, the deadline is {TIMEOUT} s"
    assert not result.c2pa.present and result.verdict.value != "unreadable"  # not fatal: the file is whole
    message = next(f.message for f in result.findings if f.code == "c2pa-remote-manifest")
    assert "fetch failed" in message


@pytest.mark.parametrize("route", ["big", "huge-unannounced"])
def test_an_oversized_answer_is_refused(server, assets, route):
    result = networked(remote_max_bytes=256 * 1024).check(assets[route])
    assert "c2pa-remote-too-large" in codes(result)
    assert not result.c2pa.present


def test_a_404_is_reported(server, assets):
    result = networked().check(assets["missing"])
    assert "c2pa-remote-http-404" in codes(result)
    assert "c2pa-remote-manifest" in findings(result)


def test_a_redirect_is_followed(server, assets):
    # /redirect.c2pa sends the client to /ok.c2pa: that manifest is another file's, so it fails its hash
    result = networked().check(assets["redirect"])
    assert server.hits["/redirect.c2pa"] >= 1
    assert result.c2pa.present and result.c2pa.validation_state == "Invalid"


def test_a_manifest_for_another_file_fails_validation(server, assets):
    result = networked().check(assets["other"])
    assert result.c2pa.present and result.c2pa.validation_state == "Invalid"
    assert any("dataHash" in code for code in result.c2pa.failure_codes), result.c2pa.failure_codes


def test_a_garbage_answer_is_a_clear_error(server, assets):
    result = networked().check(assets["garbage"])
    assert "c2pa-unreadable" in codes(result)
    assert result.c2pa.validation_state == "Unreadable"


def test_one_checker_fetches_each_url_once_and_remembers_failures(server, assets):
    checker = networked()
    server.hits.clear()
    for _ in range(3):
        assert checker.check(assets["ok"]).c2pa.validation_state == "Trusted"
        assert "c2pa-remote-http-404" in codes(checker.check(assets["missing"]))
    assert server.hits["/ok.c2pa"] == 1 and server.hits["/missing.c2pa"] == 1
    networked().check(assets["ok"])  # another checker (another scan) asks again
    assert server.hits["/ok.c2pa"] == 2


def test_the_cli_fetches_under_allow_network(server, assets):
    def run(*extra: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "aigc_check", "check", "--format", "json", "--trust-anchors", str(TEST_ROOT_CA)]
            + list(extra)
            + [str(assets["ok"])],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode in (0, 1), done.stderr
        return json.loads(done.stdout)

    server.hits.clear()
    offline = run()
    assert server.hits["/ok.c2pa"] == 0 and offline["c2pa"]["present"] is False
    online = run("--allow-network")
    assert server.hits["/ok.c2pa"] == 1
    assert online["c2pa"]["validation_state"] == "Trusted" and online["status"] == "ai-generated"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("file:///etc/passwd", "bad-url"),
        ("/to-ftp", "bad-url"),
        ("/loop", "unreachable"),
        ("http://127.0.0.1:1/", "unreachable"),
    ],
)
def test_the_fetcher_refuses_what_is_not_http(server, url, code):
    from aigc_check.net import FetchError, FetchLimits, fetch

    with pytest.raises(FetchError) as info:
        fetch(server.base + url if url.startswith("/") else url, FetchLimits(TIMEOUT, 1024))
    assert info.value.code == code
