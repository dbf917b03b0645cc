"""``POST /v1/check`` with a JSON reference: allowed roots and URI prefixes, escapes refused, answers as uploads."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import FIXTURES
from serve_helpers import ServerProcess, expected_answer, post_raw, query, request, without_timing

from aigc_check import Checker
from aigc_check.errors import UsageError
from aigc_check.model import Declared
from aigc_check.scan.objects import ObjectReader
from aigc_check.service import allowed_path, reference
from aigc_check.service.allowed_path import open_allowed
from aigc_check.service.config import ServeConfig
from aigc_check.service.errors import BadRequestError, PathNotAllowedError
from aigc_check.service.pool import CheckJob, run_job
from aigc_check.service.reference import parse_reference

SAMPLE = [
    "gb-jpeg-xmp-element.jpg",
    "camera-canon.jpg",
    "c2pa-ai-created.png",
    "c2pa-capture.jpg",
    "gb-png-itxt.png",
    "broken-truncated-in-app1.jpg",
]
PREFIX = "memory://uploads/allowed"  # the worker's in-memory store is empty: every object is missing there


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> dict[str, Path]:
    """An allowed root with real files and hostile links, and a folder outside it with a secret."""
    base = tmp_path_factory.mktemp("byref")
    root, outside = base / "root", base / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    for name in SAMPLE:
        shutil.copyfile(FIXTURES / name, root / name)
    shutil.copyfile(FIXTURES / "camera-canon.jpg", root / "sub" / "nested.jpg")
    shutil.copyfile(FIXTURES / "gb-jpeg-xmp-element.jpg", outside / "secret.jpg")
    (root / "link-out.jpg").symlink_to(outside / "secret.jpg")  # a file link leaving the root
    (root / "dir-out").symlink_to(outside, target_is_directory=True)  # a folder link leaving the root
    (root / "link-in.jpg").symlink_to(root / "camera-canon.jpg")  # a link that stays inside
    os.mkfifo(root / "fifo.jpg")  # would block a reader that waits for a writer
    # The root itself reached through a symlink: roots are compared after resolution.
    (base / "root-link").symlink_to(root, target_is_directory=True)
    return {"base": base, "root": root, "outside": outside}


@pytest.fixture(scope="module")
def server(tree):
    with ServerProcess(
        ["--workers", "2", "--allow-root", str(tree["base"] / "root-link"), "--allow-uri-prefix", PREFIX]
    ) as s:
        yield s


@pytest.fixture(scope="module")
def closed_server():
    """Started without --allow-root or --allow-uri-prefix: by reference is off."""
    with ServerProcess(["--workers", "1"]) as s:
        yield s


def post_json(url: str, body: object, path: str = "/v1/check", raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body).encode()
    return request(url, "POST", path, data, {"Content-Type": "application/json"})


def assert_error(answer, status: int, code: str) -> str:
    assert answer.status == status, answer.body
    error = answer.json["error"]
    assert error["code"] == code and error["message"]
    return error["message"]


# -- the same answers as uploads ------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE)
@pytest.mark.parametrize("declared", ["none", "ai"])
def test_by_path_answer_equals_the_upload_answer(server, tree, name, declared):
    by_reference = post_json(server.url, {"path": str(tree["root"] / name), "declared": declared, "name": name})
    assert by_reference.status == 200, by_reference.body
    upload = post_raw(server.url, (FIXTURES / name).read_bytes(), query=query(declared=declared, name=name))
    assert upload.status == 200
    assert (
        without_timing(by_reference.json) == without_timing(upload.json) == expected_answer(FIXTURES / name, declared)
    )
    assert "open;dur=" in by_reference.headers["server-timing"]


def test_path_is_shown_as_given_without_a_name(server, tree):
    given = str(tree["root"] / "sub" / ".." / "camera-canon.jpg")  # a ".." that stays inside is fine
    answer = post_json(server.url, {"path": given})
    assert answer.status == 200 and answer.json["path"] == given
    assert without_timing(answer.json) == expected_answer(FIXTURES / "camera-canon.jpg", name=given)


def test_name_from_the_body_or_the_query_is_shown_without_folders(server, tree):
    path = str(tree["root"] / "camera-canon.jpg")
    assert post_json(server.url, {"path": path, "name": "a/b/shown.jpg"}).json["path"] == "shown.jpg"
    assert post_json(server.url, {"path": path}, "/v1/check?name=q.jpg").json["path"] == "q.jpg"
    assert post_json(server.url, {"path": path, "name": "body.jpg"}, "/v1/check?name=q.jpg").json["path"] == "body.jpg"


def test_declared_from_the_query_and_the_body(server, tree):
    path = str(tree["root"] / "gb-jpeg-xmp-element.jpg")
    from_query = post_json(server.url, {"path": path}, "/v1/check?declared=ai")
    assert from_query.json["declared"] == "ai"
    body_wins = post_json(server.url, {"path": path, "declared": "not-ai"}, "/v1/check?declared=ai")
    assert body_wins.json["declared"] == "not-ai"
    assert post_json(server.url, {"path": path}).json["declared"] == "none"


def test_a_link_that_stays_inside_is_followed(server, tree):
    answer = post_json(server.url, {"path": str(tree["root"] / "link-in.jpg"), "name": "camera-canon.jpg"})
    assert answer.status == 200
    assert without_timing(answer.json) == expected_answer(FIXTURES / "camera-canon.jpg")


# -- refused: outside the roots ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        lambda t: t["outside"] / "secret.jpg",
        lambda t: t["root"] / ".." / "outside" / "secret.jpg",  # .. out of the root
        lambda t: t["root"] / "sub" / ".." / ".." / "outside" / "secret.jpg",
        lambda t: t["root"] / "link-out.jpg",  # a file symlink out
        lambda t: t["root"] / "dir-out" / "secret.jpg",  # a folder symlink out
        lambda t: t["root"] / "dir-out" / "missing.jpg",  # missing, outside: refused, not unreadable
        lambda t: t["outside"] / "missing.jpg",
        lambda t: Path("/etc/passwd"),
        lambda t: t["base"],  # the root's parent
    ],
    ids=[
        "outside",
        "dotdot",
        "dotdot-deep",
        "file-link",
        "dir-link",
        "dir-link-missing",
        "missing-outside",
        "etc",
        "parent",
    ],
)
def test_paths_leaving_every_root_are_refused(server, tree, where):
    path = str(where(tree))
    message = assert_error(post_json(server.url, {"path": path}), 403, "path-not-allowed")
    assert "--allow-root" in message and "secret" not in message.replace(path, "")


def test_a_root_that_is_a_prefix_of_another_folder_does_not_allow_it(server, tree):
    sibling = tree["base"] / "root-sibling"  # ".../root-sibling" starts with ".../root"
    sibling.mkdir(exist_ok=True)
    shutil.copyfile(FIXTURES / "camera-canon.jpg", sibling / "a.jpg")
    assert_error(post_json(server.url, {"path": str(sibling / "a.jpg")}), 403, "path-not-allowed")


# -- inside a root, but not a readable file: a verdict ------------------------------------------------------


def test_missing_file_is_unreadable(server, tree):
    answer = post_json(server.url, {"path": str(tree["root"] / "no-such.jpg")})
    assert answer.status == 200
    assert answer.json["verdict"] == "unreadable"
    assert [e["code"] for e in answer.json["errors"]] == ["not-found"]  # ENOENT, named as such


@pytest.mark.parametrize("name", ["sub", "fifo.jpg"])
def test_folder_or_fifo_is_unreadable_at_once(server, tree, name):
    started = time.monotonic()
    answer = post_json(server.url, {"path": str(tree["root"] / name)})
    assert time.monotonic() - started < 5, "a FIFO must not be waited on"
    assert answer.status == 200 and answer.json["verdict"] == "unreadable"
    assert "regular file" in answer.json["errors"][0]["message"]


# -- object URIs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "memory://uploads/other/a.jpg",
        "memory://uploads/allowed-evil/a.jpg",  # the prefix ends at a "/" boundary
        "memory://uploads/allowed/../other/a.jpg",
        "memory://uploads/allowed/./a.jpg",
        "memory://uploads/allowed/a.jpg?versionId=1",
        "s3://bucket/allowed/a.jpg",
    ],
)
def test_uris_outside_the_prefixes_are_refused(server, uri):
    message = assert_error(post_json(server.url, {"uri": uri}), 403, "path-not-allowed")
    assert "--allow-uri-prefix" in message


@pytest.mark.parametrize("uri", ["file:///etc/passwd", "local:///etc/passwd", "/etc/passwd", "no-scheme"])
def test_local_files_are_not_uris(server, uri):
    assert "use 'path'" in assert_error(post_json(server.url, {"uri": uri}), 400, "bad-reference")


def test_allowed_uri_is_read_by_the_worker(server):
    """Allowed, and opened through fsspec in the worker, whose memory store does not hold it: unreadable."""
    answer = post_json(server.url, {"uri": PREFIX + "/a.jpg", "declared": "ai"})
    assert answer.status == 200
    body = answer.json
    assert body["verdict"] == "unreadable" and body["path"] == PREFIX + "/a.jpg" and body["declared"] == "ai"
    assert body["errors"][0]["code"] == "not-found"  # the object is not in the store


@pytest.mark.parametrize("name", SAMPLE)
def test_uri_job_reads_the_object_by_ranges_like_an_upload(name):
    """The worker's side of a URI job, in process, on fsspec's memory store: the upload's answer."""
    fsspec = pytest.importorskip("fsspec")

    uri = f"memory://uploads/allowed/{name}"
    with fsspec.open(uri, "wb") as f:
        f.write((FIXTURES / name).read_bytes())
    result = run_job(Checker(), ObjectReader(io_threads=0), CheckJob.for_uri(uri, Declared.NONE, name), None)
    assert without_timing(result.to_dict()) == expected_answer(FIXTURES / name)


# -- off by default -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [{"path": str(FIXTURES / "camera-canon.jpg")}, {"path": "/etc/passwd"}, {"uri": "s3://bucket/a.jpg"}]
)
def test_off_by_default(closed_server, body):
    message = assert_error(post_json(closed_server.url, body), 403, "path-not-allowed")
    assert "off" in message


# -- bad bodies ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "bad-json"),
        (b"\xff\xfe", "bad-json"),
        (b"", "bad-json"),
        (b"[1, 2]", "bad-reference"),
        (b'"/etc/passwd"', "bad-reference"),
        (b"{}", "bad-reference"),
        (b'{"path": "/a", "uri": "s3://b/k"}', "bad-reference"),
        (b'{"path": 7}', "bad-reference"),
        (b'{"path": ""}', "bad-reference"),
        (b'{"path": "relative/a.jpg"}', "bad-reference"),
        (b'{"path": "/a\\u0000b"}', "bad-reference"),
        (b'{"path": "/a", "decalred": "ai"}', "bad-reference"),  # a typo is not ignored
        (b'{"path": "/a", "declared": "maybe"}', "bad-declared"),
    ],
)
def test_bad_bodies_get_400_with_a_code(server, raw, code):
    assert_error(post_json(server.url, None, raw=raw), 400, code)


def test_an_oversized_reference_is_refused(server):
    raw = json.dumps({"path": "/" + "a" * (reference.MAX_REFERENCE_BYTES + 1)}).encode()
    assert_error(post_json(server.url, None, raw=raw), 413, "too-large")


def test_bad_declared_in_the_query(server, tree):
    answer = post_json(server.url, {"path": str(tree["root"] / "camera-canon.jpg")}, "/v1/check?declared=maybe")
    assert_error(answer, 400, "bad-declared")


# -- the open itself, in process: the resolution raced by a swap ---------------------------------------------


def test_a_folder_swapped_for_a_link_after_resolution_is_caught(tree, monkeypatch):
    """``realpath`` saw a real folder; by the open it is a link out.  The descriptor's own path tells."""
    roots = (str(tree["root"]),)
    raced = str(tree["root"] / "dir-out" / "secret.jpg")
    monkeypatch.setattr(allowed_path.os.path, "realpath", lambda p: p)  # the path as it resolved before the swap
    with pytest.raises(PathNotAllowedError):
        open_allowed(raced, roots)


def test_a_file_swapped_for_a_link_after_resolution_is_not_followed(tree, monkeypatch):
    roots = (str(tree["root"]),)
    monkeypatch.setattr(allowed_path.os.path, "realpath", lambda p: p)
    opened = open_allowed(str(tree["root"] / "link-out.jpg"), roots)
    assert opened.fd == -1 and opened.error is not None  # O_NOFOLLOW: ELOOP, an unreadable result


def test_open_allowed_hands_over_a_descriptor_of_the_file(tree):
    opened = open_allowed(str(tree["root"] / "camera-canon.jpg"), (str(tree["root"]),))
    try:
        assert os.pread(opened.fd, 4, 0) == (FIXTURES / "camera-canon.jpg").read_bytes()[:4]
    finally:
        opened.close()


# -- the path job: resolved, opened and checked in the worker ------------------------------------------------


@pytest.mark.parametrize("name", ["camera-canon.jpg", "link-in.jpg", "sub/nested.jpg"])
def test_path_job_in_process_answers_as_the_file(tree, name):
    """The worker's side of a path job, in process: the same result as checking the file itself."""
    roots = (str(tree["root"]),)
    path = str(tree["root"] / name)
    result = run_job(
        Checker(), ObjectReader(io_threads=0), CheckJob.for_path(path, Declared.NONE, "n.jpg"), None, roots
    )
    assert without_timing(result.to_dict()) == without_timing(Checker().check(path, Declared.NONE, "n.jpg").to_dict())


@pytest.mark.parametrize("where", ["link-out.jpg", "dir-out/secret.jpg", "sub/../../outside/secret.jpg"])
def test_path_job_outside_the_roots_is_refused_in_the_worker(tree, where):
    roots = (str(tree["root"]),)
    path = str(tree["root"]) + "/" + where
    with pytest.raises(PathNotAllowedError, match="is not under any folder"):
        run_job(Checker(), ObjectReader(io_threads=0), CheckJob.for_path(path, Declared.NONE, where), None, roots)


def test_the_event_loop_never_opens_a_path(tree, monkeypatch):
    """Real worker processes: the pool's own process never resolves or opens a referenced path (a
    slow or hung root cannot stall the event loop), a refusal comes back as ``PathNotAllowedError``
    and leaves the worker in the pool, and a missing file is an ``unreadable`` result."""
    from aigc_check.checker import CheckOptions
    from aigc_check.service import allowed_path, pool

    def never(*args):
        raise AssertionError("the event loop's process opened a referenced path")

    monkeypatch.setattr(allowed_path, "open_allowed", never)
    monkeypatch.setattr(pool, "open_allowed", never)
    roots = (str(tree["root"]),)

    async def main():
        workers = pool.WorkerPool(CheckOptions(), 1, allow_roots=roots)
        await workers.start()
        try:
            good = await workers.check(
                CheckJob.for_path(str(tree["root"] / "camera-canon.jpg"), Declared.NONE, "a"), 30
            )
            with pytest.raises(PathNotAllowedError):
                await workers.check(CheckJob.for_path(str(tree["outside"] / "secret.jpg"), Declared.NONE, "b"), 30)
            missing = await workers.check(CheckJob.for_path(str(tree["root"] / "gone.jpg"), Declared.NONE, "c"), 30)
            return good, missing, workers.restarts
        finally:
            await workers.close()

    good, missing, restarts = asyncio.run(main())
    assert json.loads(good.body)["verdict"] == good.verdict != "unreadable"
    assert missing.verdict == "unreadable" and json.loads(missing.body)["errors"][0]["code"] == "not-found"
    assert restarts == 0


def test_parse_reference_keeps_name_and_declared():
    ref = parse_reference(b'{"uri": "s3://b/k.jpg", "declared": "ai", "name": "k.jpg"}')
    assert (ref.path, ref.uri, ref.declared, ref.display) == (None, "s3://b/k.jpg", "ai", "k.jpg")
    with pytest.raises(BadRequestError):
        parse_reference(b'{"uri": null}')


# -- configuration ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"allow_roots": ("relative/dir",)},
        {"allow_roots": ("/no/such/folder/anywhere",)},
        {"allow_uri_prefixes": ("file:///srv/",)},
        {"allow_uri_prefixes": ("local:///srv/",)},
        {"allow_uri_prefixes": ("bucket/key",)},
        {"allow_uri_prefixes": ("s3://",)},
        {"memory_spool_bytes": -1},
    ],
)
def test_bad_options_are_refused_at_start(kwargs):
    with pytest.raises(UsageError):
        ServeConfig(**kwargs)


def test_roots_are_resolved_at_start(tree):
    config = ServeConfig(allow_roots=(str(tree["base"] / "root-link"),))
    assert config.allow_roots == (os.path.realpath(tree["root"]),) and config.by_reference
    assert not ServeConfig().by_reference
