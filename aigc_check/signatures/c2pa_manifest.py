"""Evidence and findings from a C2PA manifest store (as c2pa-python's JSON).

Origin comes from the active manifest's actions (``digitalSourceType``,
``softwareAgent``), the legacy ``com.adobe.generative-ai`` assertion and the
ingredients' own manifests.  Strength comes from validation: a trusted
signature over intact hashes is definitive; a valid but untrusted one is
strong; a broken hash or signature leaves the claim as a weak, unverified
hint and raises a finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..data import load
from ..model import Evidence, EvidenceKind, Finding, Indicates, Strength
from ..readers.c2pa import active_manifest, store_failures
from . import SignalView
from .iptc import source_type

MAX_INGREDIENT_DEPTH = 8
INTEGRITY_CODES = {
    "assertion.dataHash.mismatch": "c2pa-hash-mismatch",
    "assertion.bmffHash.mismatch": "c2pa-hash-mismatch",
    "assertion.boxesHash.mismatch": "c2pa-hash-mismatch",
    "assertion.collectionHash.mismatch": "c2pa-hash-mismatch",
    "claimSignature.mismatch": "c2pa-signature-invalid",
    "claimSignature.missing": "c2pa-signature-invalid",
    "signingCredential.invalid": "c2pa-signature-invalid",
    "assertion.hashedURI.mismatch": "c2pa-assertion-mismatch",
    "assertion.missing": "c2pa-assertion-mismatch",
    "assertion.undeclared": "c2pa-assertion-mismatch",
    "claim.missing": "c2pa-invalid",
    "claim.malformed": "c2pa-invalid",
    "claim.hardBindings.missing": "c2pa-invalid",
    "algorithm.unsupported": "c2pa-invalid",
    "general.error": "c2pa-invalid",
}
CREDENTIAL_CODES = {
    "signingCredential.untrusted": (
        "c2pa-untrusted-signer",
        "info",
        "the signer's certificate does not chain to a trusted anchor",
    ),
    "signingCredential.expired": ("c2pa-expired-signer", "warning", "the signer's certificate had expired"),
    "signingCredential.ocsp.revoked": ("c2pa-revoked-signer", "error", "the signer's certificate was revoked"),
}
TRAINING_LABELS = ("c2pa.training-mining", "cawg.training-mining")
LEGACY_AI_ASSERTION = "com.adobe.generative-ai"


def _agent_name(agent: Any) -> str:
    if isinstance(agent, dict):
        return str(agent.get("name") or "")
    return str(agent or "")


def _actions(manifest: dict) -> Iterator[dict]:
    for assertion in manifest.get("assertions") or []:
        if str(assertion.get("label", "")).startswith("c2pa.actions"):
            data = assertion.get("data") or {}
            agents = data.get("softwareAgents") or []
            for action in data.get("actions") or []:
                if isinstance(action, dict):
                    idx = action.get("softwareAgentIndex")
                    if "softwareAgent" not in action and isinstance(idx, int) and 0 <= idx < len(agents):
                        action = {**action, "softwareAgent": agents[idx]}
                    yield action


class _ManifestOrigin:
    """What one manifest (and, recursively, its ingredients) says about origin."""

    def __init__(self, store: dict, preserving: set[str]) -> None:
        self.manifests = store.get("manifests") or {}
        self.preserving = preserving

    def own(self, manifest: dict) -> list[tuple[Indicates, str, dict]]:
        """(indicates, reason, action) for each origin-bearing action of ``manifest``."""
        out = []
        for action in _actions(manifest):
            name = str(action.get("action", ""))
            dst = action.get("digitalSourceType")
            term, entry = source_type(str(dst)) if dst else (None, None)
            if entry is None:
                continue
            indicates = Indicates(entry["indicates"])
            if indicates is Indicates.AI_GENERATED and name != "c2pa.created":
                indicates = Indicates.AI_MODIFIED  # generative AI used on an existing asset
            if indicates is Indicates.CAPTURED and name != "c2pa.created":
                continue
            out.append((indicates, f"action {name} with digitalSourceType {term} ({entry['name']})", action))
        for assertion in manifest.get("assertions") or []:
            if assertion.get("label") == LEGACY_AI_ASSERTION:
                out.append((Indicates.AI_GENERATED, f"assertion {LEGACY_AI_ASSERTION}", {}))
        return out

    def inherited(self, manifest: dict, depth: int = 0, seen: set | None = None) -> tuple[Indicates, str] | None:
        """AI origin carried in from an ingredient's manifest, judged by this manifest's own actions."""
        seen = seen if seen is not None else set()
        if depth >= MAX_INGREDIENT_DEPTH:
            return None
        for ingredient in manifest.get("ingredients") or []:
            label = ingredient.get("active_manifest")
            if any(
                str(t.get("type", "")).startswith("c2pa.types.model")
                for t in ingredient.get("data_types") or []
                if isinstance(t, dict)
            ):
                return Indicates.AI_MODIFIED, f"ingredient {ingredient.get('title', '?')!r} is a trained AI model"
            if not label or label in seen or label not in self.manifests:
                continue
            seen.add(label)
            child = self.manifests[label]
            kinds = {i for i, _, _ in self.own(child)}
            if not kinds & {Indicates.AI_GENERATED, Indicates.AI_MODIFIED}:
                deeper = self.inherited(child, depth + 1, seen)
                if deeper is None:
                    continue
                kinds = {deeper[0]}
            title = ingredient.get("title") or label
            only_preserving = all(str(a.get("action")) in self.preserving for a in _actions(manifest))
            if Indicates.AI_GENERATED in kinds and ingredient.get("relationship") == "parentOf" and only_preserving:
                return (
                    Indicates.AI_GENERATED,
                    f"parent ingredient {title!r} is AI-generated and this manifest only re-packages it",
                )
            return Indicates.AI_MODIFIED, f"ingredient {title!r} carries AI-generated or AI-edited content"
        return None


def collect(view: SignalView) -> None:
    _reference_findings(view)
    stores = view.find("c2pa", "manifest_store")
    if not stores:
        return
    store_field = stores[0]
    store = store_field.value
    manifest = active_manifest(store)
    failures = store_failures(store)
    codes = {str(f.get("code")) for f in failures}
    sig = manifest.get("signature_info") or {}
    location = f"{store_field.location}, manifest {store.get('active_manifest')}"

    broken = codes & set(INTEGRITY_CODES)
    _validation_findings(view, failures, location)
    if broken:
        strength = Strength.WEAK
    elif view.c2pa.validation_state == "Trusted" and view.c2pa.verified_hash:
        strength = Strength.DEFINITIVE
    else:
        strength = Strength.STRONG
    trust_note = {
        Strength.DEFINITIVE: "signed by a trusted signer, hashes intact",
        Strength.STRONG: "validly signed, signer not on the trust list"
        if view.c2pa.verified_hash
        else "not validated (hash verification turned off)",
        Strength.WEAK: "manifest failed validation, so the claim is unverified",
    }[strength]

    origin = _ManifestOrigin(store, set(load("source_types.json")["c2pa_preserving_actions"]["actions"]))
    for indicates, reason, action in origin.own(manifest):
        agent = _agent_name(action.get("softwareAgent"))
        names = [
            agent,
            str(action.get("description") or ""),
            view.c2pa.claim_generator or "",
            *(n for n in (sig.get("issuer"), sig.get("common_name")) if n),
        ]
        g = view.fingerprints.for_c2pa(names)
        captured = indicates is Indicates.CAPTURED
        info = indicates is Indicates.INFO  # e.g. algorithmicMedia: recorded so the report can say "not AI"
        view.evidence.append(
            Evidence(
                source="c2pa",
                location=location,
                key=f"c2pa/{action.get('action', 'assertion')}",
                value=str(action.get("digitalSourceType") or reason),
                indicates=indicates,
                strength=Strength.WEAK if info else _strength(strength, captured),
                kind=EvidenceKind.CAPTURE if captured else EvidenceKind.TRACE if info else _ai_kind(strength),
                generator=(g.id if g else (agent or view.c2pa.claim_generator)) if not (captured or info) else None,
                explanation=f"C2PA {reason}" + (f", software agent {agent!r}" if agent else "") + f"; {trust_note}",
            )
        )
    inherited = origin.inherited(manifest)
    if inherited is not None:
        view.evidence.append(
            Evidence(
                source="c2pa",
                location=location,
                key="c2pa/ingredients",
                value=inherited[1],
                indicates=inherited[0],
                strength=_strength(strength, False),
                kind=_ai_kind(strength),
                generator=None,
                explanation=f"C2PA {inherited[1]}; {trust_note}",
            )
        )
    _training_mining(view, manifest, location)


def _strength(validation: Strength, captured: bool) -> Strength:
    """A capture claim counts only when definitive.  An AI claim whose manifest failed
    validation is still a strong trace: nobody forges a manifest to claim AI they did not use,
    and the most common cause is an edit after signing."""
    if captured:
        return validation if validation is Strength.DEFINITIVE else Strength.WEAK
    return Strength.STRONG if validation is Strength.WEAK else validation


def _ai_kind(validation: Strength) -> EvidenceKind:
    """An unverifiable manifest is not a verified implicit label, only a trace (label 'suspected')."""
    return EvidenceKind.TRACE if validation is Strength.WEAK else EvidenceKind.IMPLICIT_LABEL


def _validation_findings(view: SignalView, failures: list[dict], location: str) -> None:
    reported: set[str] = set()
    for item in failures:
        code = str(item.get("code"))
        explanation = str(item.get("explanation") or code)
        if code in INTEGRITY_CODES:
            finding = INTEGRITY_CODES[code]
            view.findings.append(
                Finding(
                    finding,
                    "error",
                    f"C2PA validation failed: {code} ({explanation}); "
                    "the file was changed after signing or the manifest was forged",
                    str(item.get("url") or location),
                )
            )
        elif code in CREDENTIAL_CODES and code not in reported:
            finding, severity, text = CREDENTIAL_CODES[code]
            view.findings.append(Finding(finding, severity, f"C2PA: {text} ({code})", location))
        reported.add(code)
    if not view.c2pa.verified_hash:
        view.findings.append(
            Finding(
                "c2pa-not-verified",
                "warning",
                "C2PA hashes and signature were not verified (--no-verify-hash)",
                location,
            )
        )


def _training_mining(view: SignalView, manifest: dict, location: str) -> None:
    for assertion in manifest.get("assertions") or []:
        if assertion.get("label") in TRAINING_LABELS:
            entries = (assertion.get("data") or {}).get("entries") or {}
            summary = ", ".join(
                f"{k.split('.', 1)[-1]}={v.get('use')}" for k, v in entries.items() if isinstance(v, dict)
            )
            view.findings.append(
                Finding("c2pa-training-mining", "info", f"{assertion['label']}: {summary or 'no entries'}", location)
            )


def _reference_findings(view: SignalView) -> None:
    """XMP ``dcterms:provenance`` left behind without an embedded manifest."""
    if view.c2pa.present:
        return
    for f in view.find("xmp", "dcterms:provenance"):
        value = str(f.value)
        if value.startswith(("http://", "https://")):
            view.findings.append(
                Finding(
                    "c2pa-remote-manifest",
                    "warning",
                    f"the file points to a remote C2PA manifest at {value} that was not fetched "
                    + (
                        "(network access is allowed but the fetch failed: see the errors)"
                        if view.options.allow_network
                        else "(network access is off; pass --allow-network to fetch it)"
                    ),
                    f.location,
                )
            )
        elif "jumbf=" in value:
            view.findings.append(
                Finding(
                    "c2pa-manifest-stripped",
                    "error",
                    f"XMP still references an embedded C2PA manifest ({value}) but the file carries none: "
                    "the manifest was removed",
                    f.location,
                )
            )
