"""The C2PA trust list: the shipped snapshot, a refreshed copy in its place (--trust-list on check,
scan, serve and the API), its validation (PEM certificates, count, expiry warnings), and
`aigc-check trust update` (from a file, or a URL only under --allow-network, written atomically)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import FIXTURES, TEST_ROOT_CA

from aigc_check import Checker, CheckOptions
from aigc_check.cli import ExitStatus, main
from aigc_check.errors import TrustAnchorError
from aigc_check.trust import load_trust_list, parse_trust_list, shipped_anchors

SIGNED = FIXTURES / "c2pa-ai-created.jpg"  # signed by the test CA (trusted only when its root is an anchor)


def cert_pem(days_left: float, name: str = "aigc-check expiring anchor") -> str:
    """A self-signed certificate that ends ``days_left`` days from now (negative: already expired)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=days_left))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_shipped_snapshot_validates():
    trust = load_trust_list()
    assert len(trust.anchors) == shipped_anchors().count("BEGIN CERTIFICATE") >= 10
    assert all(a.subject for a in trust.anchors)


def test_a_trust_list_replaces_the_shipped_snapshot(tmp_path, corpus):
    own = tmp_path / "own.pem"
    own.write_text(TEST_ROOT_CA.read_text())
    shipped_trusted = corpus / "huminify-c2pa-detector" / "lady.png"  # chains to an anchor of the shipped list
    default, replaced = Checker(), Checker(CheckOptions(trust_list_file=str(own)))
    assert default.check(shipped_trusted).c2pa.validation_state == "Trusted"
    assert replaced.check(shipped_trusted).c2pa.validation_state != "Trusted"
    assert default.check(SIGNED).c2pa.validation_state != "Trusted"
    assert replaced.check(SIGNED).c2pa.validation_state == "Trusted"


def test_extra_anchors_add_to_a_trust_list(tmp_path):
    shipped_copy = tmp_path / "copy.pem"
    shipped_copy.write_text(shipped_anchors())
    options = CheckOptions(trust_list_file=str(shipped_copy), trust_anchor_files=(str(TEST_ROOT_CA),))
    assert Checker(options).check(SIGNED).c2pa.validation_state == "Trusted"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no certificates here\n", "holds no PEM certificate"),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "certificate 1 is not valid X.509",
        ),
        ("-----BEGIN CERTIFICATE-----\nMIIB\n", "holds no PEM certificate"),
    ],
)
def test_a_damaged_trust_list_is_an_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.pem"
    path.write_text(text)
    with pytest.raises(TrustAnchorError, match=message) as info:
        Checker(CheckOptions(trust_list_file=str(path)))
    assert str(path) in str(info.value)


def test_an_unclosed_block_after_good_ones_is_an_error(tmp_path):
    text = TEST_ROOT_CA.read_text() + "-----BEGIN CERTIFICATE-----\nMIIB\n"
    with pytest.raises(TrustAnchorError, match="not closed"):
        parse_trust_list(text, "x.pem")


def test_the_second_of_three_certificates_damaged_is_named(tmp_path):
    good = TEST_ROOT_CA.read_text()
    bad = "-----BEGIN CERTIFICATE-----\nMIIBbroken\n-----END CERTIFICATE-----\n"
    with pytest.raises(TrustAnchorError, match="certificate 2 "):
        parse_trust_list(good + bad + good, "x.pem")


def test_expired_and_expiring_anchors_are_warned_about(tmp_path, capsys):
    path = tmp_path / "list.pem"
    path.write_text(
        TEST_ROOT_CA.read_text() + cert_pem(-3, "old anchor") + cert_pem(20, "ending anchor") + cert_pem(400, "fine")
    )
    notes = load_trust_list(str(path)).warnings()
    assert len(notes) == 2
    assert any("old anchor" in n and "expired" in n for n in notes)
    assert any("ending anchor" in n and "within 90 days" in n for n in notes)
    code, out, err = run(capsys, "check", "--format", "json", "--trust-list", str(path), str(SIGNED))
    assert code == ExitStatus.COMPLIANT or code == ExitStatus.VIOLATION
    assert json.loads(out)["c2pa"]["validation_state"] == "Trusted"  # the test root is in the list
    assert err.count("warning: trust list") == 2 and "old anchor" in err
    code, out, _ = run(capsys, "trust", "show", "--trust-list", str(path))
    assert code == 0 and "4 certificates, 2 warnings" in out and "CN=fine" in out


def test_a_bad_trust_list_on_the_command_line_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    code, out, err = run(capsys, "check", "--trust-list", str(path), str(SIGNED))
    assert code == ExitStatus.USAGE and "not valid X.509" in err and not out


def test_scan_uses_the_trust_list(tmp_path, capsys):
    own = tmp_path / "own.pem"
    own.write_text(TEST_ROOT_CA.read_text())
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / SIGNED.name).write_bytes(SIGNED.read_bytes())
    run(capsys, "scan", str(folder), "--out", str(tmp_path / "out"), "--no-html", "--trust-list", str(own))
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert [r["c2pa"]["validation_state"] for r in rows] == ["Trusted"]


def test_serve_uses_the_trust_list_from_its_environment(tmp_path):
    serve_helpers = pytest.importorskip("serve_helpers")
    from aigc_check.service.launch import ServerProcess

    own = tmp_path / "own.pem"
    own.write_text(TEST_ROOT_CA.read_text())
    with ServerProcess(["--workers", "1"], env={"AIGC_SERVE_TRUST_LIST": str(own)}) as server:
        answer = serve_helpers.post_multipart(server.url, SIGNED)
    assert answer.status == 200 and answer.json["c2pa"]["validation_state"] == "Trusted"


# --- trust update ---------------------------------------------------------------------------------


class ListServer:
    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                owner.hits += 1
                body = bodies.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def list_server():
    s = ListServer({"/list.pem": TEST_ROOT_CA.read_bytes(), "/garbage.pem": b"<html>moved</html>"})
    yield s
    s.close()


def test_update_from_a_file_writes_the_validated_list(tmp_path, capsys):
    dest = tmp_path / "trust" / "C2PA-TRUST-LIST.pem"
    code, out, _ = run(capsys, "trust", "update", "--from", str(TEST_ROOT_CA), "--to", str(dest))
    assert code == 0 and "1 certificates" in out
    assert dest.read_text() == TEST_ROOT_CA.read_text()
    assert list(dest.parent.iterdir()) == [dest]  # no temporary file left behind


def test_update_from_a_url_needs_allow_network(tmp_path, capsys, list_server):
    dest = tmp_path / "list.pem"
    dest.write_text("previous")
    code, _, err = run(capsys, "trust", "update", "--from", f"{list_server.base}/list.pem", "--to", str(dest))
    assert code == ExitStatus.USAGE and "--allow-network" in err
    assert list_server.hits == 0 and dest.read_text() == "previous"
    code, _, _ = run(
        capsys, "trust", "update", "--allow-network", "--from", f"{list_server.base}/list.pem", "--to", str(dest)
    )
    assert code == 0 and list_server.hits == 1 and dest.read_text() == TEST_ROOT_CA.read_text()


@pytest.mark.parametrize(("route", "message"), [("/garbage.pem", "no PEM certificate"), ("/gone.pem", "HTTP 404")])
def test_a_bad_download_leaves_the_old_list_in_place(tmp_path, capsys, list_server, route, message):
    dest = tmp_path / "list.pem"
    dest.write_text(TEST_ROOT_CA.read_text())
    code, _, err = run(
        capsys, "trust", "update", "--allow-network", "--from", list_server.base + route, "--to", str(dest)
    )
    assert code == ExitStatus.USAGE and message in err
    assert dest.read_text() == TEST_ROOT_CA.read_text() and list(tmp_path.iterdir()) == [dest]


def test_update_refuses_a_damaged_file(tmp_path, capsys):
    source, dest = tmp_path / "new.pem", tmp_path / "list.pem"
    source.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    code, _, err = run(capsys, "trust", "update", "--from", str(source), "--to", str(dest))
    assert code == ExitStatus.USAGE and "not valid X.509" in err and not dest.exists()
    assert Path(source).exists()
