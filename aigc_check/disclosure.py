"""The ``disclosure`` object: what a file's provenance data tells a viewer, read from what the
readers and signatures already found (no new parsing of the file).

Each element is taken from the strongest carrier that has it, in this order: the active C2PA
manifest (signed), the GB 45438 implicit label, IPTC / XMP properties, EXIF.  Every value says
where it was read (``*_at``), so a platform can show it and a reviewer can find it.

The latent-disclosure elements are those of California Business and Professions Code
§22757.3(b) (SB 942 as amended by AB 853): the provider's name, the system's name and version, the
time of creation or alteration, and a unique identifier.  What they map to in each standard:

| element | C2PA | GB 45438 | XMP / IPTC | EXIF |
| --- | --- | --- | --- | --- |
| provider | the claim signer's organisation | ``ContentProducer`` | | |
| system | the AI action's agent, else the claim generator | | ``AISystemUsed``, ``CreatorTool`` | ``Software`` |
| version | their version | | ``AISystemVersionUsed`` | |
| time | the claim signature's time, else the action's ``when`` | | ``CreateDate`` | ``DateTimeOriginal`` |
| identifier | the active manifest's label | ``ProduceID`` | ``DocumentID``, ``InstanceID`` | ``ImageUniqueID`` |
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .model import C2paSummary, Disclosure, Evidence, Field
from .policy_packs import LATENT_ELEMENTS
from .readers.c2pa import active_manifest, claim_generator
from .signatures import aigc_label
from .signatures.c2pa_manifest import INTEGRITY_CODES, _actions

if TYPE_CHECKING:
    from .signatures.fingerprints import FingerprintTable

GB_SOURCE = "gb45438"
AI_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic")
# XMP / IPTC properties by local name (any namespace prefix), in the order they are preferred.
XMP_ELEMENTS = {
    "system": ("AISystemUsed", "CreatorTool"),
    "version": ("AISystemVersionUsed",),
    "time": ("CreateDate",),
    "identifier": ("DocumentID", "InstanceID"),
}
EXIF_ELEMENTS = {"system": ("Software",), "time": ("DateTimeOriginal",), "identifier": ("ImageUniqueID",)}
MAX_VALUE = 300  # characters of a disclosed value kept (a platform shows them)


def _dict(value: Any) -> dict:
    """``value`` if it is a JSON object, else an empty one (manifest JSON is the file's, not ours)."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = str(value).strip().strip("\x00").strip()
        return text[:MAX_VALUE] or None
    return None


class _Found:
    """The elements found so far, first one wins (carriers are visited strongest first)."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, str]] = {}

    def add(self, element: str, value: Any, where: str) -> None:
        text = _text(value)
        if text is not None and element not in self.values:
            self.values[element] = (text, where)

    def get(self, element: str) -> tuple[str | None, str | None]:
        return self.values.get(element, (None, None))


def gb_labels(
    fields: Sequence[Field], evidence: Sequence[Evidence], fingerprints: FingerprintTable
) -> list[tuple[dict, Field]]:
    """The GB 45438 labels the label signature found, with their Annex E elements: the signature
    keeps each label's decoded elements on its evidence (``label_elements``), so nothing is parsed
    again; only a label whose evidence lacks them is decoded from its field."""
    wanted = {(e.key, e.location): e for e in evidence if e.source == GB_SOURCE and e.aigc_label}
    out: list[tuple[dict, Field]] = []
    if not wanted:
        return out  # most files: no label, so no field to pair with one
    for f in fields:
        e = wanted.get((f.name, f.location))
        if e is None:
            continue
        if isinstance(e.label_elements, dict):
            out.append((e.label_elements, f))
            continue
        parsed = aigc_label.parse(f, fingerprints)
        if parsed is not None and isinstance(parsed.values, dict):
            out.append((parsed.values, f))
    return out


def build(
    fields: Sequence[Field], c2pa: C2paSummary, evidence: Sequence[Evidence], gb_labels: Iterable[tuple[dict, Field]]
) -> Disclosure:
    """The disclosure of one file.  ``gb_labels`` are the GB 45438 labels decoded by the label
    signature (their Annex E elements and the field each was read from)."""
    # One pass over the fields: the C2PA store, the XMP and EXIF fields of the element tables by
    # local name, and EXIF Make and Model (the last of each, in the order first met); no other
    # field can give an element, so none other is kept.
    store: Field | None = None
    xmp: dict[str, list[Field]] = {}
    exif: dict[str, list[Field]] = {}
    device: dict[str, Field] = {}
    for f in fields:
        family = f.family
        if family == "exif":
            key = f.key
            local = key.rsplit(":", 1)[-1]
            if local in _EXIF_NAMES:
                exif.setdefault(local, []).append(f)
                if key == "Make" or key == "Model":
                    device[key] = f
        elif family == "xmp":
            local = f.key.rsplit(":", 1)[-1]
            if local in _XMP_NAMES:
                xmp.setdefault(local, []).append(f)
        elif family == "c2pa" and store is None and f.key == "manifest_store":
            store = f
    labels = list(gb_labels)
    iptc = _has_iptc(evidence)
    if store is None and not xmp and not exif and not labels and not c2pa.present and not iptc:
        return NOTHING_DISCLOSED  # the common case (no carrier of any element): what the rest would build
    found = _Found()
    provenance: list[str] = []
    identity: list[str] = []
    watermark: list[str] = []
    if c2pa.present or store is not None:
        provenance.append("c2pa")
    if store is not None and isinstance(store.value, dict):
        _c2pa(store, c2pa, found, identity, watermark)
    if labels:
        provenance.append(GB_SOURCE)
    for values, f in labels:
        found.add("provider", values.get("ContentProducer"), f"GB 45438 ContentProducer, {f.name} at {f.location}")
        found.add("identifier", values.get("ProduceID"), f"GB 45438 ProduceID, {f.name} at {f.location}")
    if iptc:
        provenance.append("iptc")
    for family, table, by_name in (("xmp", XMP_ELEMENTS, xmp), ("exif", EXIF_ELEMENTS, exif)):
        if not by_name:
            continue
        for element, names in table.items():
            if element in found.values:
                continue  # the first carrier's value stands (what ``found.add`` would keep)
            if element == "version":
                system_at = found.get("system")[1]
                if system_at is not None and not system_at.startswith(f"{family}/"):
                    continue  # a version read beside another carrier's system name would pair them wrongly
            for name in names:
                for f in by_name.get(name, ()):
                    found.add(element, f.value, f"{f.name} at {f.location}")
                    if element in found.values:
                        break
                if element in found.values:
                    break
    if device:
        _exif_device(device, found)
    values = found.values
    present = tuple(e for e in LATENT_ELEMENTS if e in values)
    state = c2pa.validation_state
    signed = store is not None and bool(c2pa.signer)
    nothing = (None, None)
    provider, provider_at = values.get("provider", nothing)
    system, system_at = values.get("system", nothing)
    version, version_at = values.get("version", nothing)
    time, time_at = values.get("time", nothing)
    identifier, identifier_at = values.get("identifier", nothing)
    capture_device, capture_device_at = values.get("capture_device", nothing)
    return made_disclosure(
        provenance_available=bool(provenance),
        provenance=tuple(provenance),
        signature_present=signed,
        signature_valid=_signature_valid(signed, state, c2pa.failure_codes),
        signature_trusted=signed and state == "Trusted",
        signer=c2pa.signer if signed else None,
        identity=tuple(identity),
        system=system,
        system_at=system_at,
        capture_device=capture_device,
        capture_device_at=capture_device_at,
        provider=provider,
        provider_at=provider_at,
        version=version,
        version_at=version_at,
        time=time,
        time_at=time_at,
        identifier=identifier,
        identifier_at=identifier_at,
        latent_present=present,
        latent_missing=tuple(e for e in LATENT_ELEMENTS if e not in present),
        watermark=tuple(dict.fromkeys(watermark)),
    )


# The local names (any namespace prefix) the element tables read, and EXIF Make and Model (the
# capture device): the only XMP and EXIF fields ``build`` keeps.
_XMP_NAMES = frozenset(name for names in XMP_ELEMENTS.values() for name in names)
_EXIF_NAMES = frozenset(name for names in EXIF_ELEMENTS.values() for name in names) | {"Make", "Model"}


def made_disclosure(**values: Any) -> Disclosure:
    """A ``Disclosure`` of every field's value, made without its ``__init__``: a frozen dataclass's
    sets each of its 22 fields through ``object.__setattr__``, which cost more than the rest of
    ``build`` for a camera file (6 µs of it).  Every field is given (a missing or unknown one
    raises), so the object is the one ``Disclosure(**values)`` makes (the tests compare them)."""
    if values.keys() != _DISCLOSURE_FIELDS:
        raise TypeError(f"a Disclosure needs exactly its fields, not {sorted(values)}")
    made = object.__new__(Disclosure)
    made.__dict__.update(values)
    return made


_DISCLOSURE_FIELDS = {f.name: None for f in dataclasses.fields(Disclosure)}.keys()


def _has_iptc(evidence: Sequence[Evidence]) -> bool:
    return any(e.source == "iptc" for e in evidence)


# What ``build`` makes of a file with no C2PA store, no GB 45438 label, no IPTC evidence and no
# XMP or EXIF field: nothing disclosed, every latent element missing.  Frozen, so it is shared.
NOTHING_DISCLOSED = Disclosure(
    provenance_available=False,
    provenance=(),
    signature_present=False,
    signature_valid=None,
    signature_trusted=False,
    signer=None,
    identity=(),
    latent_present=(),
    latent_missing=LATENT_ELEMENTS,
    watermark=(),
)


def _signature_valid(signed: bool, state: str | None, failure_codes: Iterable[str]) -> bool | None:
    """Whether the claim signature holds over intact hashes: False on a signature or hash failure,
    None when nothing was validated.  An untrusted or expired signer's certificate leaves a valid
    signature valid (``signature_trusted`` and the findings say the rest)."""
    if not signed or state in (None, "NotVerified"):
        return None
    return not any(code in INTEGRITY_CODES for code in failure_codes)


def _c2pa(store: Field, c2pa: C2paSummary, found: _Found, identity: list[str], watermark: list[str]) -> None:
    manifest = active_manifest(store.value)
    where = f"C2PA manifest {store.value.get('active_manifest')} ({store.location})"
    sig = _dict(manifest.get("signature_info"))
    found.add("provider", sig.get("issuer"), f"{where}: claim signer's organisation")
    # The version is the named system's own: never the claim generator's beside an AI agent's name.
    agent, agent_version = _ai_agent(manifest)
    if agent:
        found.add("system", agent, f"{where}: software agent of the AI action")
        found.add("version", agent_version, f"{where}: software agent of the AI action")
    else:
        info = manifest.get("claim_generator_info")
        first = info[0] if isinstance(info, list) and info and isinstance(info[0], dict) else {}
        found.add("system", claim_generator(manifest), f"{where}: claim generator")
        found.add("version", first.get("version"), f"{where}: claim generator")
    found.add("time", sig.get("time"), f"{where}: claim signature time")
    for action in _actions(manifest):
        found.add("time", action.get("when"), f"{where}: action {action.get('action')} when")
        if str(action.get("action", "")).startswith("c2pa.watermarked"):
            watermark.append(f"action {action.get('action')}")
    found.add("identifier", manifest.get("label") or store.value.get("active_manifest"), f"{where}: manifest label")
    for assertion in _assertions(manifest):
        label = str(assertion.get("label", ""))
        data = _dict(assertion.get("data"))
        if label.startswith("c2pa.soft-binding"):
            watermark.append(f"soft-binding {data.get('alg') or '?'}")
        elif label.startswith("cawg.identity"):
            identity.extend(_identities(data, c2pa))
        elif label.startswith("stds.exif"):
            make = _exif_value(data, "Make")
            model = _exif_value(data, "Model")
            device = " ".join(dict.fromkeys(x for x in (make, model) if x))
            found.add("capture_device", device, f"{where}: stds.exif assertion")


def _assertions(manifest: dict) -> list[dict]:
    items = manifest.get("assertions")
    return [a for a in items if isinstance(a, dict)] if isinstance(items, list) else []


def _ai_agent(manifest: dict) -> tuple[str | None, str | None]:
    """The software agent of the first action whose source type is AI, with its version."""
    for action in _actions(manifest):
        if str(action.get("digitalSourceType") or "").rstrip("/").rsplit("/", 1)[-1] in AI_SOURCE_TYPES:
            agent = action.get("softwareAgent")
            if isinstance(agent, dict):
                return _text(agent.get("name")), _text(agent.get("version"))
            if agent:
                return _text(agent), None
    return None, None


def _identities(data: dict, c2pa: C2paSummary) -> list[str]:
    """Who a CAWG identity assertion names: the verified identities of an identity claims
    aggregation credential, or the X.509 credential that signed it (with c2pa's trust verdict)."""
    out = []
    for item in data.get("verifiedIdentities") or []:
        if isinstance(item, dict):
            provider = _dict(item.get("provider"))
            name = provider.get("name") or item.get("type") or "identity"
            who = item.get("username") or item.get("name") or item.get("uri") or "?"
            out.append(f"{name}: {who}")
    payload = _dict(data.get("signer_payload"))
    sig = _dict(data.get("signature_info"))
    if not out and sig:
        who = " / ".join(str(x) for x in (sig.get("issuer"), sig.get("common_name")) if x) or "?"
        kind = str(payload.get("sig_type") or "x509")
        out.append(f"{kind}: {who}")
    issues = [c for c in c2pa.failure_codes if c.startswith("cawg.")]
    return [f"{who} ({', '.join(issues)})" if issues else who for who in out]


def _exif_value(data: dict, name: str) -> str | None:
    for key, value in data.items():
        if str(key).rsplit(":", 1)[-1] == name:
            return _text(value)
    return None


def _exif_device(parts: dict[str, Field], found: _Found) -> None:
    """The capture device from EXIF Make and Model (``parts``: the last field of each key, in the
    order the keys were first met)."""
    words = [_text(parts[k].value) for k in ("Make", "Model") if k in parts]
    model = words[-1] or ""
    make = words[0] if len(words) == 2 else None
    # "Canon" + "Canon EOS R5" reads "Canon EOS R5", not "Canon Canon EOS R5".
    device = model if make and model.lower().startswith(make.lower()) else " ".join(w for w in words if w)
    where = next(iter(parts.values())).location
    found.add("capture_device", device, f"exif/Make, exif/Model at {where}")
