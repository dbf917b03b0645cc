"""Data passed between the pipeline stages.

file -> formats (container walk: ``Container`` of ``Block``s)
     -> readers (``Field``s per metadata family)
     -> signatures (``Evidence`` and ``Finding``s)
     -> classifier (``Classification``)
     -> policy (``Decision``)
     -> report (``CheckResult`` -> JSON / text)
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from .contract import SCHEMA, record_dict, result_dict
from .errors import DeclarationError

# Lone surrogates (bytes of a file name that are not UTF-8, after os.fsdecode) and control characters
# (C0 but tab and line feed, DEL, C1).
_CONTROLS = "\ud800-\udfff\x00-\x08\x0b-\x1f\x7f-\x9f"
# What changes how the text around it is laid out: tab, line feed, the Unicode line and paragraph
# separators, and the bidirectional controls (marks, embeddings, overrides, isolates) with which a
# file named ``invoice\u202egpj.exe`` would display as ``invoiceexe.jpg``.
_LAYOUT = "\t\n\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNPRINTABLE = re.compile(f"[{_CONTROLS}]")
_SURROGATES = re.compile("[\udc80-\udcff]")
# Any lone UTF-16 surrogate: what a JSON "\\ud800" escape in a file's text decodes to. No UTF-8 output
# can hold one, so decoders replace them as they read (``scrub_surrogates``) and printers escape them.
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")
_UNPRINTABLE_WITH_NEWLINES = re.compile(f"[{_CONTROLS}{_LAYOUT}]")


def printable(text: str, keep_newlines: bool = False) -> str:
    """``text`` safe to print on a terminal or to put in a CSV cell: undecodable bytes and control
    characters written as ``\\xNN``, and line breaks, tabs and Unicode bidirectional controls (and
    the line and paragraph separators) as ``\\xNN`` or ``\\uNNNN``, so a name can neither drive the
    terminal, nor fake a line of a report, nor display reordered.

    ``keep_newlines``: escape only the undecodable bytes and the control characters but tab and line
    feed.  This is the JSON ``path`` of a name that is not UTF-8 (strict JSON rejects lone surrogates
    and escapes the rest itself), and it is part of the contract: it does not change."""
    pattern = _UNPRINTABLE if keep_newlines else _UNPRINTABLE_WITH_NEWLINES

    def escape(m: re.Match) -> str:
        c = ord(m.group())
        if 0xDC80 <= c <= 0xDCFF:  # an undecodable byte, shown as the byte
            return f"\\x{c - 0xDC00:02x}"
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return pattern.sub(escape, text)


def scrub_surrogates(value: Any) -> tuple[Any, bool]:
    """``value`` (decoded JSON: strings, lists, dicts) with every lone surrogate in its strings
    replaced by U+FFFD, and whether there was one. A file's JSON may escape one (``"\\ud800"``), which
    Python decodes to a character that no UTF-8 report can carry."""
    if isinstance(value, str):
        if _LONE_SURROGATES.search(value) is None:
            return value, False
        return _LONE_SURROGATES.sub("\ufffd", value), True
    if isinstance(value, (list, tuple)):  # list subclasses (a decoder's pairs) keep their type
        items = [scrub_surrogates(v) for v in value]
        changed = any(c for _, c in items)
        return (type(value)(v for v, _ in items) if changed else value), changed
    if isinstance(value, dict):
        pairs = [(scrub_surrogates(k), scrub_surrogates(v)) for k, v in value.items()]
        changed = any(kc or vc for (_, kc), (_, vc) in pairs)
        return (type(value)((k, v) for (k, _), (v, _) in pairs) if changed else value), changed
    return value, False


def path_fields(path: str) -> dict:
    """The contract's ``path`` (always valid UTF-8) and, for a name that is not UTF-8 (lone
    surrogates after ``os.fsdecode``), ``path_b64`` with its exact bytes; the escaped ``path``
    then shows them as ``\\xNN``."""
    if path.isascii() or not _SURROGATES.search(path):  # isascii: constant time, the common case
        return {"path": path}
    return {
        "path": printable(path, keep_newlines=True),
        "path_b64": base64.b64encode(os.fsencode(path)).decode("ascii"),
    }


def result_path(d: dict) -> str:
    """The file-system path of a result object: exact even for names that are not UTF-8."""
    raw = d.get("path_b64")
    return os.fsdecode(base64.b64decode(raw)) if raw else d["path"]


class TextEnum(str, Enum):
    """An enum whose members are their text: ``str()`` and f-strings give the value (``"ai"``, not
    ``"Declared.AI"``), as the contract and the reports spell them."""

    def __str__(self) -> str:
        return str(self.value)


class Status(TextEnum):
    AI_GENERATED = "ai-generated"
    AI_MODIFIED = "ai-modified"
    CAPTURED = "captured"
    UNKNOWN = "unknown"


class Strength(TextEnum):
    """How much one piece of evidence is worth (see signals research legend)."""

    DEFINITIVE = "definitive"  # signed, trusted, hashes intact
    STRONG = "strong"  # unambiguous but unsigned, or signed by an untrusted signer
    WEAK = "weak"  # circumstantial: never decides a status alone

    @property
    def rank(self) -> int:
        return _STRENGTH_RANKS[self._value_]  # the classifier asks for every piece of evidence


_STRENGTH_RANKS = {"definitive": 3, "strong": 2, "weak": 1}


class Indicates(TextEnum):
    AI_GENERATED = "ai-generated"
    AI_MODIFIED = "ai-modified"
    CAPTURED = "captured"
    INFO = "info"  # recorded for the reader, says nothing about origin


class EvidenceKind(TextEnum):
    """What the Measures call the signal: an implicit label or another trace."""

    IMPLICIT_LABEL = "implicit-label"  # GB 45438 AIGC field, IPTC DST, C2PA manifest
    TRACE = "trace"  # generator fingerprints and other traces of generation
    CAPTURE = "capture"  # camera EXIF, capture claims


class Declared(TextEnum):
    """What the creator declared when posting."""

    AI = "ai"
    NOT_AI = "not-ai"
    NONE = "none"

    @classmethod
    def parse(cls, value: object, default: str = "none") -> Declared:
        """The one rule every entry point (CLI, sidecar, HTTP form and query, ``--stdin-jsonl``, Spark
        rows, the Python API) applies: surrounding white space is dropped and case is ignored
        (``" AI "`` is ``ai``); absent (``None``) or empty means ``default``, the entry point's own
        default.  Anything else raises :class:`DeclarationError`."""
        parsed = cls.parse_or_none(value)
        return cls(default) if parsed is None else parsed

    @classmethod
    def parse_or_none(cls, value: object) -> Declared | None:
        """``parse`` for entry points whose default is decided later: ``None`` where nothing was declared."""
        if isinstance(value, Declared):
            return value
        if value is None:
            return None
        if isinstance(value, str):
            text = value.strip().lower()
            if not text:
                return None
            try:
                return cls(text)
            except ValueError:
                pass
        raise DeclarationError(f"declared must be one of {', '.join(DECLARATIONS)}, not {value!r}")


DECLARATIONS = tuple(d.value for d in Declared)


class Verdict(TextEnum):
    """The policy's judgement of one file."""

    COMPLIANT = "compliant"
    UNLABELLED_AI = "unlabelled-ai"
    MISLABELLED = "mislabelled"
    UNREADABLE = "unreadable"

    @property
    def is_violation(self) -> bool:
        return self in VIOLATIONS


VIOLATIONS = frozenset({Verdict.UNLABELLED_AI, Verdict.MISLABELLED})


@dataclass
class Block:
    """One raw metadata block found by a container walker."""

    # "xmp" | "exif" | "text" | "comment" | "tag" | "id3" | "vorbis"; an "id3" block is one ID3v2
    # text, URL, comment or private frame, already unpacked by ``formats.id3`` (``key``, ``text``).
    kind: str
    location: str  # human-readable place in the file, e.g. "APP1 (XMP) at offset 0x14"
    data: bytes = b""
    key: str = ""  # PNG text keyword, container tag name, etc.
    text: str | None = None  # already-decoded text where the container defines the encoding
    # Already-parsed EXIF entries, shaped like ``piexif.load``'s result ({"0th": {tag: value}, ...}),
    # for containers (TIFF) whose tags are the EXIF structure itself.
    entries: dict | None = None
    # For "tag" blocks: the tag system the container defines ("mp4", "riff", "mkv", "aiff"),
    # which becomes the field family, so fingerprints can name "mp4/©too" or "riff/ISFT".
    family: str = ""


@dataclass
class C2paMarker:
    """Where a C2PA manifest store was seen, without parsing it."""

    location: str


@dataclass(slots=True)
class ReadError:
    """A problem met while reading; listed in the report, never raised."""

    code: str
    message: str
    location: str = ""
    # The container itself could not be read; decides the verdict, not part of the contract.
    fatal: bool = field(default=False, metadata={"contract": False})

    def to_dict(self) -> dict:
        return record_dict(self)


@dataclass
class Container:
    """What a format walker learned about the file's structure.

    Only the walker fills it (nested carriers, such as the XMP and C2PA frames of an ID3 tag,
    included); the readers and later stages read it and never change it."""

    format: str  # "jpeg", "png", ...
    media_type: str
    blocks: list[Block] = field(default_factory=list)
    c2pa: C2paMarker | None = None
    errors: list[ReadError] = field(default_factory=list)
    # Conformance problems the walk itself sees that are not read errors (data after the end of a
    # PNG): listed with the signatures' findings.
    findings: list[Finding] = field(default_factory=list)
    width: int = 0
    height: int = 0
    has_alpha: bool = False
    bytes_read: int = 0


@dataclass(slots=True)
class Field:
    """One named metadata value, as a reader decoded it."""

    family: str  # "xmp" | "exif" | "text" | "comment" | "c2pa" | "stealth"
    key: str  # family-specific name: "photoshop:Credit", "Software", "parameters"
    value: Any
    location: str

    @property
    def name(self) -> str:
        """Family-qualified name used by fingerprint rules, e.g. ``exif/Software``."""
        return f"{self.family}/{self.key}"


class ReaderOutput(NamedTuple):
    """What one metadata reader found: its fields, the problems it met and, for the C2PA
    reader, the summary of the manifest store.  Readers return it; they change nothing else.
    (A named tuple: immutable, and cheap to make once per reader per file.)"""

    fields: Sequence[Field] = ()
    errors: Sequence[ReadError] = ()
    c2pa: C2paSummary | None = None

    @property
    def empty(self) -> bool:
        return not self.fields and not self.errors and self.c2pa is None


NOTHING = ReaderOutput()  # what a reader that found nothing returns (immutable, so it is shared)


@dataclass(slots=True)
class Evidence:
    source: str  # "c2pa" | "gb45438" | "iptc" | "generator" | "camera-exif" | "stealth-pnginfo"
    location: str
    key: str
    value: str
    indicates: Indicates
    strength: Strength
    kind: EvidenceKind
    generator: str | None = None
    explanation: str = ""
    aigc_label: str | None = None  # GB 45438 Label value when this is such a label
    # A GB 45438 label's decoded Annex E elements (element name -> value as decoded), for callers
    # that compare labels (``compare``); None for other evidence.  Not part of the contract: the
    # JSON ``value`` already shows them.
    label_elements: dict[str, Any] | None = field(default=None, metadata={"contract": False})

    def to_dict(self) -> dict:
        return record_dict(self)


@dataclass(slots=True)
class Finding:
    """An integrity or conformance problem worth reporting (not an origin signal)."""

    code: str
    severity: str  # "error" | "warning" | "info"
    message: str
    location: str = ""

    def to_dict(self) -> dict:
        return record_dict(self)


@dataclass(slots=True)
class Classification:
    status: Status
    certainty: str  # "definitive" | "strong" | "none"
    generator: str | None
    basis: str  # "implicit-label" | "trace" | "none"
    aigc_label: str | None  # strongest GB 45438 Label value seen, if any
    deciding: list[Evidence] = field(default_factory=list)


@dataclass(slots=True)
class Decision:
    verdict: Verdict
    label: str | None
    label_text: dict | None
    action: str
    measures: list[str]
    advice: str
    policy: str


@dataclass(frozen=True)
class C2paSummary:
    """What the C2PA reader found, for the signatures and the report (added to the JSON contract).

    Frozen: the C2PA reader makes it whole; no later stage changes it."""

    present: bool = False
    validation_state: str | None = None  # "Invalid" | "Valid" | "Trusted" | "NotVerified" | "Unreadable"
    verified_hash: bool = True
    remote_url: str | None = None
    signer: str | None = None
    claim_generator: str | None = None
    failure_codes: tuple[str, ...] = ()
    # Which manifest is active, and the active manifest of its parent ingredient (``parentOf``), when
    # that manifest is in the store: what ``compare`` needs to tell a kept manifest from a re-signed
    # chain or a replacement.  Not part of the contract.
    active_manifest: str | None = field(default=None, metadata={"contract": False})
    parent_manifest: str | None = field(default=None, metadata={"contract": False})
    # The active manifest's action names (``c2pa.created``, ``c2pa.edited.metadata``, ...), in order.
    actions: tuple[str, ...] = field(default=(), metadata={"contract": False})

    def to_dict(self) -> dict:
        return record_dict(self)

    @staticmethod
    def absent(verified_hash: bool = True) -> C2paSummary:
        """The summary of a file without a manifest store, shared: it is frozen, and most files
        have none (a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``)."""
        return _NO_C2PA[bool(verified_hash)]


_NO_C2PA = {verified: C2paSummary(verified_hash=verified) for verified in (True, False)}


@dataclass(frozen=True)
class Disclosure:
    """What the file's provenance data discloses, as a platform shows it (added to the JSON contract):
    whether provenance data is there, who signed it and whether the signature holds, who stands
    behind the content (CAWG identity), the generator or capture device it names, whether it says a
    watermark was applied, and the latent-disclosure elements California's SB 942 lists (provider,
    system, version, time, unique identifier), each with where it was read (``None``: not found).
    Made by ``disclosure.build`` from what the readers and signatures found; never guessed."""

    provenance_available: bool = False
    provenance: tuple[str, ...] = ()  # the standards found: "c2pa", "gb45438", "iptc"
    signature_present: bool = False
    signature_valid: bool | None = None  # None: not validated (--no-verify-hash) or no signature
    signature_trusted: bool = False
    signer: str | None = None  # the claim signer: which tool or service signed
    identity: tuple[str, ...] = ()  # CAWG identity assertions: who stands behind the content
    system: str | None = None
    system_at: str | None = None
    capture_device: str | None = None
    capture_device_at: str | None = None
    provider: str | None = None
    provider_at: str | None = None
    version: str | None = None
    version_at: str | None = None
    time: str | None = None
    time_at: str | None = None
    identifier: str | None = None
    identifier_at: str | None = None
    latent_present: tuple[str, ...] = ()
    latent_missing: tuple[str, ...] = ("provider", "system", "version", "time", "identifier")
    watermark: tuple[str, ...] = ()  # soft-binding algorithms and c2pa.watermarked actions

    def to_dict(self) -> dict:
        return record_dict(self)


NO_DISCLOSURE = Disclosure()


@dataclass
class Similarity:
    """The perceptual hash of a file's picture (``--similar``): PDQ for an image, PDQ of frames
    sampled about once a second for a video.  ``hash`` is 64 hex digits (the 256 bits in the order
    ThreatExchange writes them); ``quality`` is PDQ's 0-100 gradient measure, and ``reliable`` is
    false below the documented threshold (50), where the hash says little and is never matched on."""

    algorithm: str  # "pdq" (an image) or "pdq-frames" (a video)
    hash: str | None = None  # the image's hash; for a video, the first reliable frame's
    quality: int | None = None
    reliable: bool = False
    frame_hashes: tuple[str, ...] = ()
    frame_seconds: tuple[float, ...] = ()
    frame_qualities: tuple[int, ...] = ()
    error: str | None = None  # "code: message" when no hash could be made (the check itself is unaffected)
    # An image's crop variants, hashed too (reliable ones only; ``similar/hashing.CROP_MARGINS``):
    # the picture cut by 2.5, 5 and 7.5 % from each side and combination of sides, and whole, each
    # resampled to 64x64.  PDQ moves past its match distance when 2 % is cut from one side; a
    # cropped copy meets its original variant to whole or variant to variant.
    crop_hashes: tuple[str, ...] = ()
    # A video whose hashing stopped early (the time budget, or the frame bounds): the second it
    # reached; its frames before then are hashed and usable.  None: the whole video (or an image).
    cut_at_s: float | None = None

    def to_dict(self) -> dict:
        return record_dict(self)


@dataclass(slots=True)
class CheckResult:
    """One file's result: what the stages produced, composed, not copied.  Its JSON form, the CSV row,
    the Spark row and the README table all come from ``contract.fields()``.

    For callers: ``verdict``, ``status``, ``label``, ``action``, ``measures`` and ``advice`` are the
    headline; ``findings``, ``evidence`` and ``errors`` say why; ``to_dict()`` is the JSON record
    (contract ``aigc-check/1``) that the CLI, the scan and the service write."""

    path: str
    media_type: str | None
    format: str | None
    declared: Declared
    classification: Classification
    decision: Decision
    findings: list[Finding]
    evidence: list[Evidence]
    errors: list[ReadError]
    c2pa: C2paSummary
    bytes_read: int = 0
    size: int | None = None
    elapsed_ms: float = 0.0
    disclosure: Disclosure = NO_DISCLOSURE
    # ``--similar`` only: the perceptual hash, and (scan) the near-duplicate cluster the file is in.
    similarity: Similarity | None = None
    cluster: str | None = None

    schema = SCHEMA

    def to_dict(self) -> dict:
        """The JSON contract (``aigc-check/1``). Change only by adding keys, in ``contract.py``."""
        return result_dict(self)

    @property
    def json_path(self) -> str:
        """``path`` as the contract writes it: always valid UTF-8."""
        path = self.path
        return path if path.isascii() else path_fields(path)["path"]

    @property
    def path_b64(self) -> str | None:
        """The path's bytes in base64 when it is not valid UTF-8 (the contract's ``path_b64``), else None."""
        path = self.path
        return None if path.isascii() else path_fields(path).get("path_b64")

    # The headline values, for callers of the Python API (``result.verdict``, ``result.label``).
    @property
    def status(self) -> Status:
        """What the file shows: ``ai-generated``, ``ai-modified``, ``not-ai`` ... (a ``Status``)."""
        return self.classification.status

    @property
    def certainty(self) -> str:
        """How sure the status is: ``definitive`` (a valid trusted signature), ``strong`` or ``none``."""
        return self.classification.certainty

    @property
    def generator(self) -> str | None:
        """The generator's id (``doubao``, ``midjourney``, ...) or the manifest's name for it; None if unknown."""
        return self.classification.generator

    @property
    def verdict(self) -> Verdict:
        """The policy's judgement: ``compliant``, ``unlabelled-ai``, ``mislabelled`` or ``unreadable``."""
        return self.decision.verdict

    @property
    def label(self) -> str | None:
        """The label the platform must show (``ai-generated``, ``suspected-ai``, ...), or None."""
        return self.decision.label

    @property
    def label_text(self) -> dict | None:
        """The label's words by language (``{'zh': ..., 'en': ...}``), or None."""
        return self.decision.label_text

    @property
    def action(self) -> str:
        """The strongest measure (``restrict-exposure``, ``review``, ``none`` ...): the last of ``measures``."""
        return self.decision.action

    @property
    def measures(self) -> list[str]:
        """Every measure the policy takes, weakest first (``add-label``, ``restrict-exposure``)."""
        return self.decision.measures

    @property
    def advice(self) -> str:
        """What to do, in the policy's ``advice_language``: the advice that fits the verdict and its cause."""
        return self.decision.advice

    @property
    def policy(self) -> str:
        """The id of the policy that judged the file."""
        return self.decision.policy
