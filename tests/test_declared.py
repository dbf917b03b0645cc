"""One rule for a declaration, applied by every entry point (``Declared.parse``): surrounding white
space is dropped, case is ignored, absent or empty means the entry point's default, anything else is
refused with the same message."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES

from aigc_check import Checker, check
from aigc_check.cli import main
from aigc_check.errors import DeclarationError
from aigc_check.model import Declared
from aigc_check.scan.batch import ScanItem
from aigc_check.scan.declarations import DeclarationIndex, SidecarError
from aigc_check.service.jsonl import BadLineError, parse_request

LABELLED = FIXTURES / "gb-jpeg-xmp-element.jpg"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ai", Declared.AI),
        (" AI ", Declared.AI),
        ("Not-AI", Declared.NOT_AI),
        ("\tnone\n", Declared.NONE),
        (None, Declared.NONE),
        ("", Declared.NONE),
        ("   ", Declared.NONE),
        (Declared.AI, Declared.AI),
    ],
)
def test_parse(text, expected):
    assert Declared.parse(text) is expected


def test_parse_default_and_refusals():
    assert Declared.parse("", "not-ai") is Declared.NOT_AI
    assert Declared.parse_or_none(" ") is None
    for bad in ("maybe", "a i", "yes", 1, ["ai"]):
        with pytest.raises(DeclarationError, match="declared must be one of ai, not-ai, none"):
            Declared.parse(bad)


def test_python_api_parses_and_refuses():
    assert check(LABELLED, " AI ").declared is Declared.AI
    with pytest.raises(DeclarationError):
        Checker().check(LABELLED, "maybe")


def test_cli(capsys):
    assert main(["check", "--format", "json", "--declared", " AI ", str(LABELLED)]) == 0
    assert json.loads(capsys.readouterr().out)["declared"] == "ai"
    assert main(["check", "--declared", "maybe", str(LABELLED)]) == 2
    assert "declared must be one of" in capsys.readouterr().err


def test_stdin_jsonl_request():
    request = parse_request(json.dumps({"path": "a.jpg", "declared": "AI"}), Declared.NONE)
    assert request.declared is Declared.AI
    assert parse_request(json.dumps({"path": "a.jpg", "declared": ""}), Declared.NOT_AI).declared is Declared.NOT_AI
    with pytest.raises(BadLineError, match="declared must be one of"):
        parse_request(json.dumps({"path": "a.jpg", "declared": "maybe"}), Declared.NONE)


def test_sidecar(tmp_path):
    sidecar = tmp_path / "posts.csv"
    sidecar.write_text("path,declared\na.jpg, AI \nb.jpg,\n", encoding="utf-8")
    index = DeclarationIndex(str(sidecar), str(tmp_path / "index.db"))
    a, b = index.lookup(str(tmp_path / "a.jpg"), str(tmp_path)), index.lookup(str(tmp_path / "b.jpg"), str(tmp_path))
    index.close()
    assert a is not None and b is not None
    assert a.declared is Declared.AI
    assert b.declared is None  # empty: the scan's --declared applies
    sidecar.write_text("path,declared\na.jpg,maybe\n", encoding="utf-8")
    with pytest.raises(SidecarError, match="line 2: declared must be one of"):
        DeclarationIndex(str(sidecar), str(tmp_path / "index2.db"))


def test_scan_and_spark_items():
    assert ScanItem.coerce({"path": "a.jpg", "declared": "AI"}).declared is Declared.AI
    assert ScanItem.coerce({"path": "a.jpg", "declared": None}, Declared.NOT_AI).declared is Declared.NOT_AI
    bad = ScanItem.coerce({"path": "a.jpg", "declared": "maybe"})
    assert bad.declared_error and "maybe" in bad.declared_error
