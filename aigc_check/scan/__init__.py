"""``aigc-check scan``: judge folders of files in parallel, with streamed results and an HTML report.

Modules: ``walk`` (lazy discovery), ``declarations`` (sidecar), ``batch``
(``check_batch``, the engine-free core), ``objects`` (local paths, or remote
URIs by ranged reads through fsspec), ``outputs`` (JSONL/CSV/summary),
``accounts`` (graded account measures from the policy), ``html_report``,
``progress``, ``config`` (``ScanConfig``) and ``runner`` (the local process pool).

The names are imported on first use (PEP 562), as the package's own are: the command line reads
``scan.config`` for its options' defaults, and a ``check`` must not import the process pool and
the outputs along with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# name -> the module that defines it
_EXPORTS = {
    "ScanConfig": ".config",
    "ScanError": ".outputs",
    "ScanItem": ".batch",
    "ScanSummary": ".runner",
    "SidecarError": ".declarations",
    "check_batch": ".batch",
    "run_scan": ".runner",
}

__all__ = ["ScanConfig", "ScanError", "ScanItem", "ScanSummary", "SidecarError", "check_batch", "run_scan"]

if TYPE_CHECKING:
    from .batch import ScanItem, check_batch
    from .config import ScanConfig
    from .declarations import SidecarError
    from .outputs import ScanError
    from .runner import ScanSummary, run_scan


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
