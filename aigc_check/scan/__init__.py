"""``aigc-check scan``: judge folders of files in parallel, with streamed results and an HTML report.

Modules: ``walk`` (lazy discovery), ``declarations`` (sidecar), ``batch``
(``check_batch``, the engine-free core), ``objects`` (local paths, or remote
URIs by ranged reads through fsspec), ``outputs`` (JSONL/CSV/summary),
``accounts`` (graded account measures from the policy), ``html_report``,
``progress`` and ``runner`` (the local process pool).
"""

from .batch import ScanItem, check_batch
from .declarations import SidecarError
from .outputs import ScanError
from .runner import ScanConfig, ScanSummary, run_scan

__all__ = ["ScanConfig", "ScanError", "ScanItem", "ScanSummary", "SidecarError", "check_batch", "run_scan"]
