"""Names a package exports but imports only on first use (PEP 562): its ``__getattr__``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``, whose globals are ``namespace``: each name of ``exports``
    (name -> the module, relative to the package, that defines it) is imported when first asked
    for, and kept in the namespace, so later lookups do not come here."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__
