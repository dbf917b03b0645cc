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
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from .errors import DeclarationError

# Lone surrogates (bytes of a file name that are not UTF-8, after os.fsdecode) and control characters.
_UNPRINTABLE = re.compile("[\udc80-\udcff\x00-\x08\x0b-\x1f\x7f-\x9f]")
_UNPRINTABLE_WITH_NEWLINES = re.compile("[\udc80-\udcff\x00-\x1f\x7f-\x9f]")


def printable(text: str, keep_newlines: bool = False) -> str:
    """``text`` with undecodable bytes and control characters written as ``\\xNN``: safe to print
    on a terminal, to put in a CSV cell or in strict JSON (which rejects lone surrogates)."""
    pattern = _UNPRINTABLE if keep_newlines else _UNPRINTABLE_WITH_NEWLINES

    def escape(m: re.Match) -> str:
        c = ord(m.group())
        return f"\\x{c - 0xDC00 if c >= 0xDC80 else c:02x}"

    return pattern.sub(escape, text)


def path_fields(path: str) -> dict:
    """The contract's ``path`` (always valid UTF-8) and, for a name that is not UTF-8 (lone
    surrogates after ``os.fsdecode``), ``path_b64`` with its exact bytes; the escaped ``path``
    then shows them as ``\\xNN``."""
    if not any("\udc80" <= c <= "\udcff" for c in path):
        return {"path": path}
    return {
        "path": printable(path, keep_newlines=True),
        "path_b64": base64.b64encode(os.fsencode(path)).decode("ascii"),
    }


def result_path(d: dict) -> str:
    """The file-system path of a result object: exact even for names that are not UTF-8."""
    raw = d.get("path_b64")
    return os.fsdecode(base64.b64decode(raw)) if raw else d["path"]


class Status(str, Enum):
    AI_GENERATED = "ai-generated"
    AI_MODIFIED = "ai-modified"
    CAPTURED = "captured"
    UNKNOWN = "unknown"


class Strength(str, Enum):
    """How much one piece of evidence is worth (see signals research legend)."""

    DEFINITIVE = "definitive"  # signed, trusted, hashes intact
    STRONG = "strong"  # unambiguous but unsigned, or signed by an untrusted signer
    WEAK = "weak"  # circumstantial: never decides a status alone

    @property
    def rank(self) -> int:
        return {"definitive": 3, "strong": 2, "weak": 1}[self.value]


class Indicates(str, Enum):
    AI_GENERATED = "ai-generated"
    AI_MODIFIED = "ai-modified"
    CAPTURED = "captured"
    INFO = "info"  # recorded for the reader, says nothing about origin


class EvidenceKind(str, Enum):
    """What the Measures call the signal: an implicit label or another trace."""

    IMPLICIT_LABEL = "implicit-label"  # GB 45438 AIGC field, IPTC DST, C2PA manifest
    TRACE = "trace"  # generator fingerprints and other traces of generation
    CAPTURE = "capture"  # camera EXIF, capture claims


class Declared(str, Enum):
    """What the creator declared when posting."""

    AI = "ai"
    NOT_AI = "not-ai"
    NONE = "none"

    @classmethod
    def parse(cls, value: object, default: str = "none") -> Declared:
        """The one rule every entry point (CLI, sidecar, HTTP, ``--stdin-jsonl``, Spark rows, the Python
        API) applies: surrounding white space is dropped and case is ignored (``" AI "`` is ``ai``);
        absent (``None``) or empty means ``default``.  Anything else raises :class:`DeclarationError`."""
        if isinstance(value, Declared):
            return value
        if value is None:
            return cls(default)
        if isinstance(value, str):
            text = value.strip().lower()
            if not text:
                return cls(default)
            try:
                return cls(text)
            except ValueError:
                pass
        raise DeclarationError(f"declared must be one of {', '.join(DECLARATIONS)}, not {value!r}")


DECLARATIONS = tuple(d.value for d in Declared)


class Verdict(str, Enum):
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


@dataclass
class ReadError:
    """A problem met while reading; listed in the report, never raised."""

    code: str
    message: str
    location: str = ""
    fatal: bool = False  # the container itself could not be read

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "location": self.location}


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
    width: int = 0
    height: int = 0
    has_alpha: bool = False
    bytes_read: int = 0


@dataclass
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


@dataclass
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

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("indicates", "strength", "kind"):
            d[k] = getattr(self, k).value
        return d


@dataclass
class Finding:
    """An integrity or conformance problem worth reporting (not an origin signal)."""

    code: str
    severity: str  # "error" | "warning" | "info"
    message: str
    location: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Classification:
    status: Status
    certainty: str  # "definitive" | "strong" | "none"
    generator: str | None
    basis: str  # "implicit-label" | "trace" | "none"
    aigc_label: str | None  # strongest GB 45438 Label value seen, if any
    deciding: list[Evidence] = field(default_factory=list)


@dataclass
class Decision:
    verdict: str
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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["failure_codes"] = list(self.failure_codes)
        return d


@dataclass
class CheckResult:
    path: str
    media_type: str | None
    format: str | None
    declared: str
    status: Status
    certainty: str
    generator: str | None
    verdict: str
    label: str | None
    label_text: dict | None
    action: str
    measures: list[str]
    advice: str
    policy: str
    findings: list[Finding]
    evidence: list[Evidence]
    errors: list[ReadError]
    c2pa: C2paSummary
    bytes_read: int = 0
    size: int | None = None
    elapsed_ms: float = 0.0

    def to_dict(self) -> dict:
        """The JSON contract. Change only by adding keys."""
        d = {
            "schema": "aigc-check/1",
            "path": self.path,  # replaced below by path_fields, keeping the key's place
            "media_type": self.media_type,
            "format": self.format,
            "size": self.size,
            "declared": self.declared,
            "status": self.status.value,
            "certainty": self.certainty,
            "generator": self.generator,
            "verdict": self.verdict,
            "label": self.label,
            "label_text": self.label_text,
            "action": self.action,
            "measures": list(self.measures),
            "advice": self.advice,
            "policy": self.policy,
            "findings": [f.to_dict() for f in self.findings],
            "evidence": [e.to_dict() for e in self.evidence],
            "errors": [e.to_dict() for e in self.errors],
            "c2pa": self.c2pa.to_dict(),
            "bytes_read": self.bytes_read,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }
        d.update(path_fields(self.path))
        return d
