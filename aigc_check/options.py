"""What a check may do: the policy, the trust anchors, network and hash verification, the
fingerprint file and the per-file bounds.  One frozen value, made once and handed to every stage."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from .limits import DEFAULT_TIME_LIMIT, REMOTE_MANIFEST_MAX_BYTES, REMOTE_MANIFEST_TIMEOUT


@dataclass(frozen=True)
class CheckOptions:
    """Everything a ``Checker`` may be told.  Every field is also a keyword of ``check()``:
    ``check("photo.jpg", policy="eu", allow_network=True)``."""

    policy: str = "cn"
    """The marking rules: a shipped policy id (``cn``, ``eu``, ``douyin``, ...; see
    ``shipped_policies()``) or the path of a policy JSON file."""
    trust_anchor_files: tuple[str, ...] = ()
    """PEM files of extra C2PA trust anchors, beside (or, without ``use_default_trust``, instead of)
    the trust list."""
    use_default_trust: bool = True
    """Use the C2PA trust list: the shipped snapshot, or ``trust_list_file``."""
    trust_list_file: str | None = None
    """A refreshed C2PA trust list (PEM) that replaces the shipped snapshot (``aigc_check/trust/``)."""
    allow_network: bool = False
    """Fetch remote C2PA manifests and OCSP answers.  Off by default: a check reads only the file."""
    remote_timeout: float = REMOTE_MANIFEST_TIMEOUT
    """Seconds for one remote C2PA manifest fetched under ``allow_network``, connection included."""
    remote_max_bytes: int = REMOTE_MANIFEST_MAX_BYTES
    """Bytes one remote C2PA manifest may have."""
    verify_hash: bool = True
    """Validate C2PA hashes and signatures (off: the claims are read but reported unverified)."""
    generators_file: str | None = None
    """A generator-fingerprint JSON file to use instead of the shipped ``data/generators.json``."""
    time_limit: float | None = DEFAULT_TIME_LIMIT
    """Seconds one file may take (the CLI's default, 10 s); past it the file is ``unreadable``
    (``time-limit``).  ``None`` or 0: no limit.  Enforced in the main thread only (a ``SIGALRM``
    timer); a check in another thread is not bounded."""
    memory_limit_mb: int | None = None
    """Address-space cap (MiB) for the processes that run checks for others: scan and service
    workers apply it at start; the library never changes the caller's own process."""
    similar: bool = False
    """Perceptual hashes (the ``similar`` extra): add ``similarity`` to each result."""
    similar_index: str | None = None
    """An index of known content (``scan --similar`` writes it): a copy of known AI content with no
    label of its own inherits its status (``suspected-ai``).  Implies ``similar``."""
    trust_anchors_pem: str = field(default="", repr=False)
    """Filled in by ``Checker``: the PEM text handed to the C2PA library (not for callers)."""


DEFAULT_OPTIONS = CheckOptions()
# The fields a caller may set (``check(**fields)``); trust_anchors_pem is the Checker's own.
OPTION_FIELDS = tuple(f.name for f in fields(CheckOptions) if f.name != "trust_anchors_pem")
