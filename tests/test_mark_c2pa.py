"""C2PA re-signing for ``mark`` (``aigc_check/mark/c2pa_resign.py``).

A platform certificate is issued by the fixtures' test CA; the C2PA-signed AI fixtures are marked
(the XMP label inserted as a writer would, ``fixtures/makers/pipelines.py``; exiftool for MP4) and
re-signed.  The output must validate with c2pa-python, take the original's active manifest as its
parent ingredient, record a ``c2pa.edited.metadata`` action, and still be AI-generated (and
trusted) for ``check`` with the test CA as an anchor.  Refusals are ``ResignError``s."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import c2pa
import pytest
from conftest import FIXTURES, TEST_ROOT_CA

from aigc_check import CheckOptions, check
from aigc_check.compare_marks import Comparer, PairVerdict
from aigc_check.compare_marks.model import C2paChange, Change
from aigc_check.errors import AigcCheckError
from aigc_check.mark.c2pa_resign import ResignError, resign
from aigc_check.mark.writers import WriteError
from fixtures.makers import pipelines
from fixtures.makers.pipelines import ToolMissing

TRUSTING = CheckOptions(trust_anchor_files=(str(TEST_ROOT_CA),))


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    return pipelines.platform_credentials(tmp_path_factory.mktemp("platform-ca"))


def _exiftool_marked(name: str) -> Callable[[bytes, Path], bytes]:
    def mark(data: bytes, work: Path) -> bytes:
        src, dst = work / f"in-{name}", work / f"out-{name}"
        src.write_bytes(data)
        try:
            pipelines.exiftool_label(pipelines.propagated_value())(src, dst)
        except ToolMissing as exc:
            pytest.skip(str(exc))
        return dst.read_bytes()

    return mark


CASES = {
    "jpeg": (
        "c2pa-ai-created.jpg",
        "image/jpeg",
        lambda d, _w: pipelines.jpeg_with_label(d, pipelines.propagated_value()),
    ),
    "png": (
        "c2pa-ai-created.png",
        "image/png",
        lambda d, _w: pipelines.png_with_label(d, pipelines.propagated_value()),
    ),
    "mp4": ("av-c2pa-ai.mp4", "video/mp4", _exiftool_marked("av-c2pa-ai.mp4")),
}


def _store(data: bytes, mime: str) -> tuple[dict, str]:
    ctx = c2pa.Context.from_dict(
        {"trust": {"trust_anchors": TEST_ROOT_CA.read_text()}, "verify": {"ocsp_fetch": False}}
    )
    with c2pa.Reader(mime, io.BytesIO(data), context=ctx) as reader:
        return json.loads(reader.json()), reader.get_validation_state()


@pytest.mark.parametrize("kind", list(CASES))
def test_resigned_file_validates_with_the_original_as_parent(
    kind: str, credentials: tuple[bytes, bytes], tmp_path: Path
) -> None:
    name, mime, mark = CASES[kind]
    original = (FIXTURES / name).read_bytes()
    marked = mark(original, tmp_path)
    # The simulated mark broke the original manifest, as any label write does.
    assert check(marked, options=TRUSTING).c2pa.validation_state == "Invalid"

    out = resign(original, marked, mime, *credentials, "es256")

    store, state = _store(out, mime)
    assert state == "Trusted"
    original_store, _ = _store(original, mime)
    active = store["manifests"][store["active_manifest"]]
    parents = [i for i in active["ingredients"] if i.get("relationship") == "parentOf"]
    assert [p["active_manifest"] for p in parents] == [original_store["active_manifest"]]
    # The original manifest, with its AI claim, is still in the store.
    kept = store["manifests"][original_store["active_manifest"]]
    created = [
        a
        for assertion in kept["assertions"]
        if assertion["label"].startswith("c2pa.actions")
        for a in assertion["data"]["actions"]
        if a["action"] == "c2pa.created"
    ]
    assert created and created[0]["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    actions = [a for assertion in active["assertions"] if assertion["label"].startswith("c2pa.actions")
               for a in assertion["data"]["actions"]]  # fmt: skip
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited.metadata"]
    assert "GB 45438" in actions[1]["description"]
    assert active["signature_info"]["common_name"] == "aigc-check Test Platform Signer"

    result = check(out, options=TRUSTING)
    assert result.c2pa.validation_state == "Trusted"
    assert result.status.value == "ai-generated" and result.certainty == "definitive"
    assert result.c2pa.parent_manifest == original_store["active_manifest"]
    labels = [e for e in result.evidence if e.source == "gb45438"]
    assert labels and labels[0].label_elements is not None
    assert labels[0].label_elements["ContentPropagator"] == pipelines.PLATFORM_PROPAGATOR

    # compare: the label gained its propagation elements and the chain is intact.
    (tmp_path / "original").write_bytes(original)
    (tmp_path / "delivered").write_bytes(out)
    pair = Comparer(TRUSTING).pair(tmp_path / "original", tmp_path / "delivered")
    assert pair.c2pa is not None and pair.c2pa.change is C2paChange.RESIGNED
    assert pair.verdict is PairVerdict.LABEL_ADDED and pair.accepted


def test_a_label_change_under_a_valid_chain_is_accepted(credentials: tuple[bytes, bytes], tmp_path: Path) -> None:
    """c2pa-capture-with-aigc-xmp.jpg carries a signed manifest and an XMP label; the label is
    rewritten (Label 1 -> 2) and the file re-signed: a change, but one the chain records."""
    original = (FIXTURES / "c2pa-capture-with-aigc-xmp.jpg").read_bytes()
    src, marked = tmp_path / "in.jpg", tmp_path / "marked.jpg"
    src.write_bytes(original)
    try:
        pipelines.exiftool_label(pipelines.label_value(Label="2"))(src, marked)
    except ToolMissing as exc:
        pytest.skip(str(exc))
    (tmp_path / "resigned.jpg").write_bytes(resign(original, marked.read_bytes(), "image/jpeg", *credentials, "es256"))
    comparer = Comparer(TRUSTING)
    unsigned = comparer.pair(src, marked)
    assert unsigned.verdict is PairVerdict.LABEL_CHANGED and not unsigned.accepted
    signed = comparer.pair(src, tmp_path / "resigned.jpg")
    assert signed.verdict is PairVerdict.LABEL_CHANGED and signed.accepted
    assert signed.label is not None and signed.label.change is Change.CHANGED
    assert signed.c2pa is not None and signed.c2pa.change is C2paChange.RESIGNED
    # Without validation the chain is seen but cannot vouch for the change.
    unverified = Comparer(CheckOptions(trust_anchor_files=(str(TEST_ROOT_CA),), verify_hash=False))
    blind = unverified.pair(src, tmp_path / "resigned.jpg")
    assert blind.c2pa is not None and blind.c2pa.change is C2paChange.RESIGNED
    assert blind.verdict is PairVerdict.LABEL_CHANGED and not blind.accepted
    assert any("--no-verify-hash" in d for d in blind.details)


def test_refusals_are_typed(credentials: tuple[bytes, bytes]) -> None:
    cert, key = credentials
    original = (FIXTURES / "c2pa-ai-created.jpg").read_bytes()
    marked = pipelines.jpeg_with_label(original, pipelines.propagated_value())
    plain = pipelines.plain_jpeg()
    cases = {
        "no manifest": (plain, plain, cert, key, "es256"),
        "broken original": (marked, marked, cert, key, "es256"),
        "bad certificate": (
            original,
            marked,
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            key,
            "es256",
        ),
        "empty key": (original, marked, cert, b"", "es256"),
        "wrong key": (original, marked, cert, pipelines.unrelated_key(), "es256"),
        "unknown algorithm": (original, marked, cert, key, "rot13"),
        "wrong algorithm for the key": (original, marked, cert, key, "ps256"),
        "not the format said": (original, marked, cert, key, "es256"),
    }
    messages = {}
    for why, (o, m, c, k, alg) in cases.items():
        mime = "image/png" if why == "not the format said" else "image/jpeg"
        with pytest.raises(ResignError) as info:
            resign(o, m, mime, c, k, alg)
        assert isinstance(info.value, WriteError) and isinstance(info.value, AigcCheckError)
        assert info.value.code == "c2pa-resign-failed"
        messages[why] = str(info.value)
    assert "nothing to re-sign" in messages["no manifest"]
    assert "does not validate" in messages["broken original"]
    assert "unknown C2PA signing algorithm" in messages["unknown algorithm"]


def test_hostile_input_is_refused_not_crashed(credentials: tuple[bytes, bytes]) -> None:
    original = (FIXTURES / "c2pa-ai-created.jpg").read_bytes()
    for bad in (b"", b"\xff\xd8\xff", original[: len(original) // 3], b"\x00" * 4096):
        with pytest.raises(ResignError):
            resign(bad, bad, "image/jpeg", *credentials, "es256")
    # A marked file that is not the original's format at all: refused, never half-signed.
    with pytest.raises(ResignError):
        resign(original, b"not an image", "image/jpeg", *credentials, "es256")


@pytest.mark.parametrize("name", ["c2pa-ai-created.jpg", "c2pa-ai-created.png"])
def test_mark_resigns_through_this_module(name: str, credentials: tuple[bytes, bytes], tmp_path: Path) -> None:
    """``mark`` with the platform's credentials: the label written, the file re-signed here, and
    ``compare`` sees a label added under an intact chain."""
    from aigc_check.mark import core

    assert core is not None
    cert, key = credentials
    comparer = Comparer(TRUSTING)
    propagation = core.Propagation(
        propagator=pipelines.PLATFORM_PROPAGATOR, propagate_id="post-0001", c2pa_cert=cert, c2pa_key=key
    )
    original = FIXTURES / name
    marked = core.mark_bytes(comparer.checker, original.read_bytes(), propagation, "ai", name=name)
    assert marked.data is not None, marked.result.notes
    out = tmp_path / name
    out.write_bytes(marked.data)
    pair = comparer.pair(original, out)
    assert pair.c2pa is not None and pair.c2pa.change is C2paChange.RESIGNED
    assert pair.verdict is PairVerdict.LABEL_ADDED and pair.accepted
    result = check(out, options=TRUSTING)
    assert result.c2pa.validation_state == "Trusted" and result.status.value == "ai-generated"
