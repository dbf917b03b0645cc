"""aigc-check: read provenance metadata, decide AI status, judge it against marking rules.

Public API::

    from aigc_check import check, Checker, CheckOptions
    result = check("photo.jpg", declared="none")              # the cn rules, offline, 10 s per file
    result = check("photo.jpg", policy="eu", time_limit=30)   # any CheckOptions field as a keyword
    result.verdict, result.label, result.advice, result.to_dict()

    checker = Checker(CheckOptions(policy="eu"))              # many files: set up once
    results = [checker.check(path) for path in paths]

The reference (``CheckOptions``, ``Checker``, ``check``, ``CheckResult``) is built from these
docstrings by pdoc; see the README's "Python API".

The names are imported on first use (PEP 562), so that importing the package, which the
``aigc-check`` command does first, is instant: a Ctrl-C that early is then caught by the command
(``_entry.py``), not shown as a traceback from deep inside an import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

# name -> the module that defines it
_EXPORTS = {
    "AigcCheckError": ".errors",
    "CheckOptions": ".options",
    "CheckResult": ".model",
    "Checker": ".checker",
    "DataFileError": ".errors",
    "Evidence": ".model",
    "Finding": ".model",
    "PolicyError": ".errors",
    "ReadError": ".model",
    "Status": ".model",
    "TrustAnchorError": ".errors",
    "UsageError": ".errors",
    "check": ".checker",
    "compare": ".compare_marks",
    "load_policy": ".policy",
    "mark": ".mark.core",
    "MarkResult": ".mark.core",
    "shipped_policies": ".policy",
}

__all__ = [  # the names of _EXPORTS (tests/test_packaging.py keeps the two equal)
    "AigcCheckError",
    "CheckOptions",
    "CheckResult",
    "Checker",
    "DataFileError",
    "Evidence",
    "Finding",
    "MarkResult",
    "PolicyError",
    "ReadError",
    "Status",
    "TrustAnchorError",
    "UsageError",
    "__version__",
    "check",
    "compare",
    "load_policy",
    "mark",
    "shipped_policies",
]

if TYPE_CHECKING:
    from .checker import Checker, check
    from .compare_marks import compare
    from .errors import AigcCheckError, DataFileError, PolicyError, TrustAnchorError, UsageError
    from .mark.core import MarkResult, mark
    from .model import CheckResult, Evidence, Finding, ReadError, Status
    from .options import CheckOptions
    from .policy import load_policy, shipped_policies


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
