"""aigc-check: read provenance metadata, decide AI status, judge it against marking rules.

Public API::

    from aigc_check import check, Checker, CheckOptions
    result = check("photo.jpg", declared="none")
    result.verdict, result.label, result.to_dict()
"""

from .checker import Checker, CheckOptions, check
from .errors import AigcCheckError, DataFileError, PolicyError, TrustAnchorError, UsageError
from .model import CheckResult, Evidence, Finding, ReadError, Status
from .policy import load_policy, shipped_policies

__version__ = "0.1.0"

__all__ = [
    "AigcCheckError",
    "CheckOptions",
    "CheckResult",
    "Checker",
    "DataFileError",
    "Evidence",
    "Finding",
    "PolicyError",
    "ReadError",
    "Status",
    "TrustAnchorError",
    "UsageError",
    "__version__",
    "check",
    "load_policy",
    "shipped_policies",
]
