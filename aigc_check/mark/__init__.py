"""``aigc-check mark``: write the platform's GB 45438 propagation elements back into the file.

``aigc_check.mark(...)`` is the library call (``core.mark``).  This package has the same name, and
Python sets ``aigc_check.mark`` to the package once any of its modules is imported, which would
hide the function; so the package itself is callable and calls ``core.mark`` (imported on first
call, so that importing the package stays cheap).
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .core import mark

        return mark(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
