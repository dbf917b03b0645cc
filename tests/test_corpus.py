"""Conformance over the shared corpus of real files (see its README).

For every image whose ``ai_truth`` is ai-generated / ai-edited / not-ai, the
status must agree.  Known disagreements are listed with their reason.
"""

from __future__ import annotations

import pytest

from conftest import corpus_rows

AGREES = {
    "ai-generated": {"ai-generated"},
    "ai-edited": {"ai-modified"},
    # Absence of AI evidence is never proof of human origin: not-ai agrees with unknown or captured.
    "not-ai": {"unknown", "captured"},
}
KNOWN_DISAGREEMENTS = {
    "c2pa-node/cloud-only-firefly.jpg":
        "remote-only manifest: offline, only the XMP reference is there; the truth comes from the source's "
        "documentation, not the file. Reported as c2pa-remote-manifest; --allow-network fetches it.",
}
IMAGE_ROWS = [r for r in corpus_rows() if r["media_type"].startswith("image/") and r["ai_truth"] in AGREES]


def test_corpus_has_images(corpus):
    assert len(IMAGE_ROWS) > 60


@pytest.mark.parametrize("row", IMAGE_ROWS, ids=[r["file"] for r in IMAGE_ROWS])
def test_image_status_agrees_with_truth(row, corpus, checker):
    result = checker.check(corpus / row["file"])
    agrees = result.status.value in AGREES[row["ai_truth"]]
    if row["file"] in KNOWN_DISAGREEMENTS:
        assert not agrees, f"listed as a disagreement but now agrees: remove it ({row['file']})"
        pytest.xfail(KNOWN_DISAGREEMENTS[row["file"]])
    assert agrees, (f"{row['file']}: truth {row['ai_truth']}, got {result.status.value}; "
                    f"evidence {[e.explanation for e in result.evidence]}; errors {[e.message for e in result.errors]}")
    if row["ai_truth"] != "not-ai":
        assert result.verdict == "unlabelled-ai"
        assert checker.check(corpus / row["file"], declared="ai").verdict == "compliant"
        assert checker.check(corpus / row["file"], declared="not-ai").verdict == "mislabelled"


TAMPERED = {
    "c2pa-rs/XCA.jpg": "c2pa-hash-mismatch",
    "c2pa-rs/E-sig-CA.jpg": "c2pa-signature-invalid",
    "c2pa-public-testfiles/adobe-20220124-E-dat-CA.jpg": "c2pa-hash-mismatch",
    "c2pa-public-testfiles/adobe-20220124-E-uri-CA.jpg": "c2pa-assertion-mismatch",
    "c2pa-rs/no_manifest.jpg": "c2pa-manifest-stripped",
    "c2pa-rs/cloud.jpg": "c2pa-remote-manifest",
}


@pytest.mark.parametrize("name,code", sorted(TAMPERED.items()))
def test_integrity_findings_on_real_files(name, code, corpus, checker):
    result = checker.check(corpus / name)
    assert code in {f.code for f in result.findings}


def test_trusted_google_signature_is_definitive(corpus, checker):
    result = checker.check(corpus / "huminify-c2pa-detector" / "test2.png")
    assert result.c2pa.validation_state == "Trusted"
    assert result.status.value == "ai-generated" and result.certainty == "definitive"
    assert result.label == "ai-generated"


def test_stealth_pnginfo_read_from_alpha(corpus, checker):
    result = checker.check(corpus / "sd-parsers" / "automatic1111_stealth.png")
    assert any(e.source == "stealth-pnginfo" for e in result.evidence)
    assert result.generator == "a1111"


def test_algorithmic_media_is_not_ai(corpus, checker):
    result = checker.check(corpus / "c2pa-rs" / "C.jpg")
    assert result.status.value == "unknown" and result.verdict == "compliant"
