"""A user's policy that extends a shipped one (``"extends": "douyin"``, overriding one measure)
works from ``serve`` (the check answer, the page's policy texts and its language) and from the
Spark scan (the executors load the same file); a broken one stops both before any file is read.
The CLI and the local scan are tested in test_policy_packs.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURES, TEST_ROOT_CA
from policy_helpers import write_policy
from spark_helpers import require_spark, small_session

from aigc_check import CheckOptions
from aigc_check.errors import PolicyError

AI_FILE = FIXTURES / "gen-a1111-parameters.png"  # traces only: suspected-ai under douyin
SIGNED = FIXTURES / "c2pa-ai-created.jpg"
DOUYIN_SUSPECTED = "疑似使用了AI生成技术，请谨慎甄别"


@pytest.fixture
def user_policy(tmp_path):
    return write_policy(
        tmp_path, {"extends": "douyin", "id": "my-douyin", "measures": {"unlabelled-ai": ["warn"]}}, "my-douyin"
    )


@pytest.fixture
def broken_policy(tmp_path):
    return write_policy(tmp_path, {"extends": "douyin", "id": "broken", "measurez": {}}, "broken")


def test_serve_checks_with_a_user_pack(user_policy):
    serve_helpers = pytest.importorskip("serve_helpers")
    from aigc_check.service.launch import ServerProcess

    with ServerProcess(["--workers", "1", "--policy", str(user_policy)]) as server:
        answer = serve_helpers.post_multipart(server.url, AI_FILE).json
        texts = serve_helpers.request(server.url, "GET", "/v1/policy").json
        page = serve_helpers.request(server.url, "GET", "/", headers={"Accept-Language": "en"}).body
        default_page = serve_helpers.request(server.url, "GET", "/").body
    assert (answer["policy"], answer["verdict"], answer["measures"]) == ("my-douyin", "unlabelled-ai", ["warn"])
    assert answer["label"] == "suspected-ai" and answer["label_text"]["zh"] == DOUYIN_SUSPECTED
    assert texts["id"] == "my-douyin" and texts["label_text"]["suspected-ai"]["zh"] == DOUYIN_SUSPECTED
    assert b'<html lang="en">' in page and b'<html lang="zh">' in default_page  # douyin: Chinese first


def test_serve_refuses_to_start_with_a_broken_user_pack(broken_policy):
    proc = subprocess.run(
        [sys.executable, "-m", "aigc_check", "serve", "--port", "0", "--policy", str(broken_policy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "broken.json" in proc.stderr and "measurez" in proc.stderr


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    require_spark(module_level=False)
    session = small_session("aigc-check-user-policy", str(tmp_path_factory.mktemp("warehouse")))
    yield session
    session.stop()


def test_spark_scans_with_a_user_pack_and_a_trust_list(spark, user_policy, tmp_path):
    from aigc_check.spark import InputColumns, row_to_result, scan

    trust_list = tmp_path / "trust.pem"
    trust_list.write_text(TEST_ROOT_CA.read_text())
    frame = spark.createDataFrame([(str(AI_FILE), None), (str(SIGNED), None)], "uri string, declared string")
    options = CheckOptions(policy=str(user_policy), trust_list_file=str(trust_list))
    rows = scan(spark, frame, columns=InputColumns(uri="uri", declared="declared"), options=options).collect()
    got = {r["path"]: row_to_result(r.asDict(recursive=True)) for r in rows}
    ai = got[str(AI_FILE)]
    assert (ai["policy"], ai["measures"], ai["label_text"]["zh"]) == ("my-douyin", ["warn"], DOUYIN_SUSPECTED)
    # The trust list reached the executors: it replaces the shipped one and holds the test root.
    assert got[str(SIGNED)]["c2pa"]["validation_state"] == "Trusted"


def test_spark_cli_with_a_user_pack(spark, user_policy, tmp_path):
    from aigc_check.cli import ExitStatus, main

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(AI_FILE, folder / AI_FILE.name)
    out = tmp_path / "out"
    code = main(
        ["scan", "--engine", "spark", "--master", "local[2]", str(folder), "--out", str(out), "--output-format", "json"]
        + ["--policy", str(user_policy)]
    )
    assert code == ExitStatus.VIOLATION
    [row] = [json.loads(line) for part in sorted(out.glob("part-*.json")) for line in part.read_text().splitlines()]
    assert row["policy"] == "my-douyin"


def test_spark_refuses_a_broken_user_pack_on_the_driver(spark, broken_policy):
    from aigc_check.spark import InputColumns, scan

    frame = spark.createDataFrame([(str(AI_FILE), None)], "uri string, declared string")
    with pytest.raises(PolicyError, match="measurez"):
        scan(
            spark,
            frame,
            columns=InputColumns(uri="uri", declared="declared"),
            options=CheckOptions(policy=str(broken_policy)),
        )
