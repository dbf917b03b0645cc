"""What a check may do: the policy, the trust anchors, network and hash verification, the
fingerprint file and the per-file bounds.  One frozen value, made once and handed to every stage."""

from __future__ import annotations

from dataclasses import dataclass, field

from .limits import REMOTE_MANIFEST_MAX_BYTES, REMOTE_MANIFEST_TIMEOUT


@dataclass(frozen=True)
class CheckOptions:
    policy: str = "cn"
    trust_anchor_files: tuple[str, ...] = ()
    use_default_trust: bool = True
    # A refreshed C2PA trust list that replaces the shipped snapshot (aigc_check/trust/).
    trust_list_file: str | None = None
    allow_network: bool = False
    # Bounds on one remote C2PA manifest fetched under allow_network.
    remote_timeout: float = REMOTE_MANIFEST_TIMEOUT
    remote_max_bytes: int = REMOTE_MANIFEST_MAX_BYTES
    verify_hash: bool = True
    generators_file: str | None = None
    # Seconds one file may take (None: unbounded, the library default; the CLI, scan and serve set one).
    time_limit: float | None = None
    # Address-space cap (MiB) for the processes that run checks for others (scan and service
    # workers apply it at start; the library never changes the caller's own process).
    memory_limit_mb: int | None = None
    # Perceptual hashes (the ``similar`` extra): add ``similarity`` to each result; with an index of
    # known AI content, a copy of it with no label of its own inherits its status (``suspected-ai``).
    similar: bool = False
    similar_index: str | None = None
    # Filled in by Checker: the PEM text handed to the C2PA library.
    trust_anchors_pem: str = field(default="", repr=False)


DEFAULT_OPTIONS = CheckOptions()
