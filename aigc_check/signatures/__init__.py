"""Signatures: turn metadata fields into evidence (origin signals) and findings
(integrity or conformance problems).  One module per signal family; each
exposes ``collect(view) -> None`` and appends to the view's evidence and
findings, the only two things it writes.

``collect`` runs every module on its own, as the readers are run: a module
that raises (a bug, or input nobody foresaw) becomes a fatal ``internal-error``
in ``view.errors`` and the other modules still run, so one failure never hides
the evidence the others find and never escapes the check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..deadline import ENDS_CHECK
from ..model import C2paSummary, Container, Evidence, Field, Finding, ReadError
from ..options import CheckOptions

if TYPE_CHECKING:
    from .fingerprints import FingerprintTable


@dataclass
class SignalView:
    """What the signature modules read (the fields, the C2PA reader's summary, the checker's
    fingerprint table) and write (evidence, findings)."""

    fields: Sequence[Field]
    container: Container
    c2pa: C2paSummary  # frozen: what the C2PA reader found, read here, never changed
    options: CheckOptions
    fingerprints: FingerprintTable
    evidence: list[Evidence] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[ReadError] = field(default_factory=list)  # signature modules that failed (fatal)

    def find(self, family: str, key: str) -> Sequence[Field]:
        """The fields of that family and key, in file order (indexed on the first call: the modules
        ask a dozen times per file).  The index's own tuple, shared by every caller, not a copy."""
        found: tuple[Field, ...] = self.by_key().get((family, key), ())
        return found

    def by_key(self) -> dict[tuple[str, str], tuple[Field, ...]]:
        """The index ``find`` reads: (family, key) -> the fields, in file order (made once)."""
        index = self.__dict__.get("_index")
        if index is None:
            lists: dict[tuple[str, str], list[Field]] = {}
            for f in self.fields:
                lists.setdefault((f.family, f.key), []).append(f)
            index = {k: tuple(v) for k, v in lists.items()}
            self.__dict__["_index"] = index
        return index

    def first_text(self, family: str, key: str) -> str | None:
        for f in self.find(family, key):
            if isinstance(f.value, str):
                return f.value
        return None


_MODULES: tuple[Any, ...] = ()


def collect(view: SignalView) -> SignalView:
    global _MODULES
    if not _MODULES:  # imported on first use: they import this package's SignalView and clip
        from . import aigc_label, c2pa_manifest, camera, fingerprints, iptc

        _MODULES = (c2pa_manifest, aigc_label, iptc, fingerprints, camera)
    for module in _MODULES:
        try:
            module.collect(view)
        except ENDS_CHECK:
            raise  # the whole check is over (time or memory limit)
        except Exception as exc:
            view.errors.append(stage_error(f"{module.__name__.rsplit('.', 1)[-1]} signature", exc))
    return view


def stage_error(stage: str, exc: BaseException) -> ReadError:
    """The fatal error that stands for a stage (a signature module, the classifier, the policy)
    that raised: the file cannot be cleared, and the check still returns."""
    return ReadError("internal-error", f"{stage} failed: {type(exc).__name__}: {exc}"[:1000], fatal=True)


def clip(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
