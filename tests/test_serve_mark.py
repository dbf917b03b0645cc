"""``POST /v1/mark`` over real HTTP on a loopback port: the marked file back, the record in a header
or a multipart body, refusals, bad values, the upload limit."""

from __future__ import annotations

import base64
import email
import email.policy
import json

import pytest
from conftest import FIXTURES
from serve_helpers import ServerProcess, multipart_body, query, request

from aigc_check import Checker

PROPAGATOR = "001191110102MA01ABCDE22XHS1"
MAX_BYTES = 64 * 1024


@pytest.fixture(scope="module")
def server():
    with ServerProcess(["--workers", "1", "--max-bytes", str(MAX_BYTES)]) as s:
        yield s


def post(url: str, data: bytes, **params: str):
    return request(url, "POST", "/v1/mark?" + query(**params), data, {"Content-Type": "application/octet-stream"})


def test_marked_file_and_header(server):
    data = (FIXTURES / "gen-flux.jpg").read_bytes()
    answer = post(server.url, data, propagator=PROPAGATOR, propagate_id="note-1")
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["x-aigc-check-action"] == "marked"
    record = json.loads(base64.b64decode(answer.headers["x-aigc-check-result"]))
    assert record["schema"] == "aigc-check-mark/1" and record["label"]["PropagateID"] == "note-1"
    labels = [e for e in Checker().check(answer.body).evidence if e.source == "gb45438"]
    assert len(labels) == 1 and json.loads(labels[0].value) == record["label"]


def test_multipart_reply_and_form_declaration(server):
    body, content_type = multipart_body({"declared": "ai"}, ("p.png", (FIXTURES / "plain.png").read_bytes()))
    answer = request(
        server.url, "POST", "/v1/mark?" + query(propagator=PROPAGATOR, reply="multipart"), body,
        {"Content-Type": content_type},
    )  # fmt: skip
    assert answer.status == 200, answer.body
    message = email.message_from_bytes(
        b"Content-Type: " + answer.headers["content-type"].encode() + b"\r\n\r\n" + answer.body,
        policy=email.policy.HTTP,
    )
    parts = list(message.iter_parts())
    record = json.loads(parts[0].get_content())
    assert record["action"] == "marked" and record["label"]["Label"] == "2"  # declared ai: may be
    assert parts[1].get_content_type() == "image/png"
    assert len(record["label"]["PropagateID"]) == 32  # the default template: {sha256}


def test_c2pa_refused_409(server):
    answer = post(server.url, (FIXTURES / "c2pa-ai-created.jpg").read_bytes(), propagator=PROPAGATOR)
    assert answer.status == 409
    assert answer.json["error"]["code"] == "c2pa-would-break" and answer.json["result"]["action"] == "refused"


def test_unreadable_422(server):
    # binary: named plain text would be judged as text, and copied unchanged
    answer = post(server.url, b"\x00\x01 not a media file", propagator=PROPAGATOR)
    assert answer.status == 422 and answer.json["result"]["action"] == "error"


def test_bad_values_400(server):
    answer = post(server.url, (FIXTURES / "gen-flux.jpg").read_bytes(), propagator="has space")
    assert answer.status == 400 and answer.json["error"]["code"] == "bad-value"
    answer = post(server.url, (FIXTURES / "gen-flux.jpg").read_bytes())
    assert answer.status == 400  # no propagator given or configured


def test_same_upload_limit_as_check(server):
    answer = post(server.url, b"\xff\xd8" + bytes(MAX_BYTES + 10), propagator=PROPAGATOR)
    assert answer.status == 413
