"""The fingerprint tests' shared engine: the shipped table, a field maker, and the signature run
over a list of fields (``test_fingerprints``, ``test_fingerprint_samples``)."""

from __future__ import annotations

from aigc_check.model import C2paSummary, Container, Field, Strength
from aigc_check.options import CheckOptions
from aigc_check.signatures import SignalView
from aigc_check.signatures.fingerprints import FingerprintTable, collect

TABLE = FingerprintTable.load()


def F(name: str, value) -> Field:
    family, _, key = name.partition("/")
    return Field(family, key, value, "test")


def run(fields: list[Field]) -> list:
    view = SignalView(
        fields=list(fields),
        container=Container("png", "image/png"),
        c2pa=C2paSummary(),
        options=CheckOptions(),
        fingerprints=TABLE,
    )
    collect(view)
    return view.evidence


def ids(evidence, strength: Strength) -> set[str]:
    return {e.generator for e in evidence if e.strength is strength}
