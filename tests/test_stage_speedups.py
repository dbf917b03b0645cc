"""The speed-ups of issue 14's third round in the stages after the readers change no answer: each is
checked against the plain way of doing it, on every fixture and every corpus file.

- a GB 45438 label's nesting depth, counted a run of brackets at a time, is the token-by-token count,
  and never more than its openers (the decoder counts it only past the bound);
- a long value's prefilter answers (kept per literal, ruled out by a missing character) are the
  answers of a plain ``in`` test of each literal, and never rule out a match;
- the disclosure, built from the fields its tables read and made without the frozen ``__init__``,
  is what the earlier build (kept below as the reference) makes;
- the result encoder (one dict display of the rows' expressions) gives each row's reader's value,
  and the same JSON text;
- the cached AIGC name test and ``Strength.rank`` answer what the plain expressions answer;
- the shared summary of a file without C2PA equals a fresh one, and the module-level JSON encoders
  (the service's result line, a label's evidence value) write what ``json.dumps`` writes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
from conftest import FIXTURES, corpus_dir
from hypothesis import given, settings
from hypothesis import strategies as st

from aigc_check import Checker, contract, disclosure
from aigc_check import checker as checker_module
from aigc_check.model import C2paSummary, Disclosure, Evidence, Field, Strength
from aigc_check.policy_packs import LATENT_ELEMENTS
from aigc_check.scan.outputs import jsonl_line
from aigc_check.signatures import SignalView, aigc_label
from aigc_check.signatures import prefilter as prefilter_module
from aigc_check.signatures.fingerprints import FingerprintTable
from aigc_check.signatures.label_decoding import _depth, _depth_by_tokens
from aigc_check.signatures.prefilter import REMEMBER_FROM, prefilter

TABLE = FingerprintTable.load()
PATTERNS = sorted(
    {c.pattern for g in TABLE.generators for rule in g.rules for c in rule if c.pattern is not None},
    key=lambda p: (p.pattern, p.flags),
)


def _files() -> list[Path]:
    files = sorted(p for p in FIXTURES.iterdir() if p.is_file())
    corpus = corpus_dir()
    if (corpus / "MANIFEST.tsv").exists():
        files += sorted(p for p in corpus.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))
    return files


@pytest.fixture(scope="module")
def checked(monkeypatch_module) -> list[tuple[Path, SignalView, object]]:
    """Every fixture and corpus file checked, with the signature view its check made."""
    views: list[SignalView] = []
    collect = checker_module.collect

    def keep(view: SignalView) -> SignalView:
        views.append(view)
        return collect(view)

    monkeypatch_module.setattr(checker_module, "collect", keep)
    checker = Checker()
    out = []
    for path in _files():
        views.clear()
        result = checker.check(path)
        if views:
            out.append((path, views[0], result))
    assert len(out) > 300
    return out


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


# --------------------------------------------------------------------------- label depth


def test_the_depth_by_runs_is_the_depth_by_tokens_on_every_field(checked):
    texts = [f.value for _, view, _ in checked for f in view.fields if isinstance(f.value, str)]
    assert any("{" in t for t in texts)
    for text in texts:
        assert _depth(text) == _depth_by_tokens(text) <= text.count("[") + text.count("{")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet='[]{}"\\\n a:', max_size=60))
def test_the_depth_by_runs_is_the_depth_by_tokens(text):
    assert _depth(text) == _depth_by_tokens(text)
    # The decoder counts the depth only of a text with more openers than the bound: no text with
    # fewer can be nested deeper.
    assert _depth(text) <= text.count("[") + text.count("{")


def test_a_label_nested_thousands_deep_is_still_measured_exactly():
    assert _depth('{"AIGC":' + "[" * 5000 + "]" * 5000 + "}") == 5001
    assert _depth('"[[[" [ {"x": "}}}"} ]') == 2
    assert _depth("[]" * 3000) == 1


# --------------------------------------------------------------------------- long values' prefilters


def _plain_may_match(found, text: str) -> bool:
    if not found.folded:
        return any(literal in text for literal in found.literals)
    if not text.isascii():
        return True
    lowered = text.lower()
    return any(literal in lowered for literal in found.literals)


def _long_texts() -> list[str]:
    pieces = ["Extended XMP padding. ", "Steps: 20, Sampler: Euler, ", "Made with Suno ", "K\u212aling ", "x" * 97]
    texts = [(piece * (REMEMBER_FROM // len(piece) + 2)) for piece in pieces]
    texts.append("Extended XMP padding. " * 300 + "Version: ComfyUI 0.3")
    texts.append("a" * REMEMBER_FROM + " midjourney --ar 16:9")
    texts.append("MIDJOURNEY job id: 1234abcd " + "." * REMEMBER_FROM)
    return texts


def test_long_values_are_answered_as_plain_in_tests_answer():
    prefilters = [(p, prefilter(p)) for p in PATTERNS]
    prefilters = [(p, f) for p, f in prefilters if f is not None]
    assert len(prefilters) > 40
    for text in _long_texts():
        assert len(text) >= REMEMBER_FROM
        # Every prefilter asks about one value in a row, as the conditions of one field do, twice
        # (the second time from the kept answers), and a second value in between replaces the memo.
        for _ in range(2):
            for pattern, found in prefilters:
                expected = _plain_may_match(found, text)
                assert found.may_match(text) is expected, (pattern.pattern, text[:40])
                if pattern.search(text) is not None:
                    assert expected
            assert prefilters[0][1].may_match("short") is _plain_may_match(prefilters[0][1], "short")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Steps: ", "midjourney", "Made", " ", "x", "--", "\u212a", "Version: f"]), max_size=8))
def test_a_long_value_ruled_out_never_matches(pieces):
    text = "".join(pieces) + "." * REMEMBER_FROM + "".join(reversed(pieces))
    for pattern in PATTERNS:
        found = prefilter(pattern)
        if found is not None and not found.may_match(text):
            assert pattern.search(text) is None, pattern.pattern


def test_the_memo_belongs_to_one_value():
    found = prefilter(re.compile(r"\bmidjourney\b", re.I))
    assert found is not None
    first = "." * REMEMBER_FROM + " midjourney"
    second = "." * REMEMBER_FROM + " nothing here"
    assert found.may_match(first) and not found.may_match(second) and found.may_match(first)
    assert prefilter_module._last_memo is not None and prefilter_module._last_memo.text is first


# --------------------------------------------------------------------------- disclosure


def _plain_build(
    fields: Sequence[Field], c2pa: C2paSummary, evidence: Sequence[Evidence], gb_labels: Iterable[tuple[dict, Field]]
) -> Disclosure:
    """``disclosure.build`` as it was before issue 14's third round: every XMP and EXIF field by local
    name, the capture device from a second pass, the frozen dataclass's own ``__init__``."""
    store = None
    by_name: dict[tuple[str, str], list[Field]] = {}
    for f in fields:
        if f.family in ("xmp", "exif"):
            by_name.setdefault((f.family, f.key.rsplit(":", 1)[-1]), []).append(f)
        elif f.family == "c2pa" and store is None and f.key == "manifest_store":
            store = f
    labels = list(gb_labels)
    iptc = any(e.source == "iptc" for e in evidence)
    if store is None and not by_name and not labels and not c2pa.present and not iptc:
        return disclosure.NOTHING_DISCLOSED
    found = disclosure._Found()
    provenance: list[str] = []
    identity: list[str] = []
    watermark: list[str] = []
    if c2pa.present or store is not None:
        provenance.append("c2pa")
    if store is not None and isinstance(store.value, dict):
        disclosure._c2pa(store, c2pa, found, identity, watermark)
    if labels:
        provenance.append("gb45438")
    for values, f in labels:
        found.add("provider", values.get("ContentProducer"), f"GB 45438 ContentProducer, {f.name} at {f.location}")
        found.add("identifier", values.get("ProduceID"), f"GB 45438 ProduceID, {f.name} at {f.location}")
    if iptc:
        provenance.append("iptc")
    for family, table in (("xmp", disclosure.XMP_ELEMENTS), ("exif", disclosure.EXIF_ELEMENTS)):
        for element, names in table.items():
            if element == "version":
                system_at = found.get("system")[1]
                if system_at is not None and not system_at.startswith(f"{family}/"):
                    continue
            for name in names:
                for f in by_name.get((family, name), ()):
                    found.add(element, f.value, f"{f.name} at {f.location}")
    parts = {f.key: f for f in fields if f.family == "exif" and f.key in ("Make", "Model")}
    if parts:
        words = [disclosure._text(parts[k].value) for k in ("Make", "Model") if k in parts]
        model = words[-1] or ""
        make = words[0] if len(words) == 2 else None
        device = model if make and model.lower().startswith(make.lower()) else " ".join(w for w in words if w)
        found.add("capture_device", device, f"exif/Make, exif/Model at {next(iter(parts.values())).location}")
    present = tuple(e for e in LATENT_ELEMENTS if e in found.values)
    signed = store is not None and bool(c2pa.signer)
    state = c2pa.validation_state
    return Disclosure(
        provenance_available=bool(provenance),
        provenance=tuple(provenance),
        signature_present=signed,
        signature_valid=disclosure._signature_valid(signed, state, c2pa.failure_codes),
        signature_trusted=signed and state == "Trusted",
        signer=c2pa.signer if signed else None,
        identity=tuple(identity),
        system=found.get("system")[0],
        system_at=found.get("system")[1],
        capture_device=found.get("capture_device")[0],
        capture_device_at=found.get("capture_device")[1],
        provider=found.get("provider")[0],
        provider_at=found.get("provider")[1],
        version=found.get("version")[0],
        version_at=found.get("version")[1],
        time=found.get("time")[0],
        time_at=found.get("time")[1],
        identifier=found.get("identifier")[0],
        identifier_at=found.get("identifier")[1],
        latent_present=present,
        latent_missing=tuple(e for e in LATENT_ELEMENTS if e not in present),
        watermark=tuple(dict.fromkeys(watermark)),
    )


def test_the_disclosure_is_the_plain_builds_on_every_file(checked):
    disclosed = 0
    for path, view, result in checked:
        labels = disclosure.gb_labels(view.fields, result.evidence, TABLE)
        made = disclosure.build(view.fields, view.c2pa, result.evidence, labels)
        plain = _plain_build(view.fields, view.c2pa, result.evidence, labels)
        assert made == plain, path.name
        assert made.to_dict() == plain.to_dict() and hash(made) == hash(plain), path.name
        assert result.disclosure == plain, path.name
        disclosed += made is not disclosure.NOTHING_DISCLOSED
    assert disclosed > 50  # the fixtures disclose a great deal: the full path is what is compared


def test_a_disclosure_made_without_init_is_the_dataclasss_own():
    values = {f.name: getattr(disclosure.NOTHING_DISCLOSED, f.name) for f in dataclasses.fields(Disclosure)}
    values.update(system="Midjourney", system_at="xmp/x:CreatorTool at APP1", latent_present=("system",))
    made = disclosure.made_disclosure(**values)
    assert made == Disclosure(**values) and repr(made) == repr(Disclosure(**values))
    assert hash(made) == hash(Disclosure(**values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.system = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        disclosure.made_disclosure(**{k: v for k, v in values.items() if k != "system"})
    with pytest.raises(TypeError):
        disclosure.made_disclosure(**values, surplus=1)


# --------------------------------------------------------------------------- the result encoder


def test_the_result_encoder_gives_each_rows_value_on_every_file(checked):
    for path, _, result in checked:
        fast, plain = result.to_dict(), contract.result_dict_by_rows(result)
        assert fast == plain, path.name
        assert list(fast) == list(plain), path.name
        assert jsonl_line(fast) == jsonl_line(plain), path.name
        assert json.dumps(fast, ensure_ascii=False, sort_keys=False) == json.dumps(plain, ensure_ascii=False)
        assert all(type(fast[k]) is type(plain[k]) for k in fast), path.name


def test_the_result_encoder_reads_a_path_that_is_not_utf8(checker):
    result = checker.check(b"not media at all", name="caf\udce9.jpg")
    fast, plain = result.to_dict(), contract.result_dict_by_rows(result)
    assert fast == plain and fast["path"] == "caf\\xe9.jpg" and fast["path_b64"] == "Y2Fm6S5qcGc="
    result = checker.check(b"not media at all", name="plain.jpg")
    fast, plain = result.to_dict(), contract.result_dict_by_rows(result)
    assert fast == plain and fast["path"] == "plain.jpg" and "path_b64" not in fast


# --------------------------------------------------------------------------- small caches


def test_the_cached_aigc_name_test_is_the_plain_one(checked):
    keys = {f.key for _, view, _ in checked for f in view.fields} | {"AIGC", "tc260:aigc", "x/y:AIGC", "AIGC/x"}
    for key in keys:
        assert aigc_label._key_names_aigc(key) is (key.rsplit(":", 1)[-1].rsplit("/", 1)[-1].upper() == "AIGC")


def test_strength_ranks():
    assert [s.rank for s in (Strength.WEAK, Strength.STRONG, Strength.DEFINITIVE)] == [1, 2, 3]


# --------------------------------------------------------------------------- shared records


def test_the_shared_absent_c2pa_summary_is_a_fresh_ones_equal():
    for verified in (True, False):
        shared = C2paSummary.absent(verified)
        assert shared == C2paSummary(verified_hash=verified) and shared is C2paSummary.absent(verified)
        with pytest.raises(dataclasses.FrozenInstanceError):
            shared.present = True  # type: ignore[misc]


def test_the_shared_encoders_write_what_json_dumps_writes(checked):
    from aigc_check.report import to_json_line

    for path, _, result in checked:
        assert to_json_line(result) == json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=False), path.name
        for e in result.evidence:
            if e.source == "gb45438" and e.aigc_label:
                assert e.label_elements is not None
                expected = json.dumps(e.label_elements, ensure_ascii=False, separators=(",", ":"))
                assert e.value == (expected if len(expected) <= 4096 else expected[:4095] + "…"), path.name
