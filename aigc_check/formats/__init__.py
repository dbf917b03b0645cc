"""Container walkers, one module per format, registered with a cheap header test.

Like Pillow's plugins: each module calls :func:`register` with an ``accept``
function that looks only at the first bytes.  :func:`identify` picks the
first handler whose test passes; the order of ``_MODULES`` is the order of
the tests, so identification does not depend on import side effects.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from ..model import Container
from ..source import ByteSource


@dataclass(frozen=True)
class FormatHandler:
    name: str
    media_type: str
    accept: Callable[[bytes], bool]
    # Fills the container; may refine ``format``/``media_type`` (ISO BMFF brands, DNG).
    walk: Callable[[ByteSource, Container], None]


_HANDLERS: list[FormatHandler] = []
_MODULES = (
    "jpeg",
    "png",
    "webp",
    "gif",
    "tiff",
    "bmff",
    "jxl",
    "riff",
    "aiff",
    "flac",
    "ogg",
    "matroska",
    "asf",
    "flv",
    "pdf",
    "mpeg_audio",
    "svg",
    "office",
    "text",
)
_loaded = False


def register(handler: FormatHandler) -> None:
    _HANDLERS.append(handler)


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in _MODULES:
            importlib.import_module(f"{__name__}.{name}")
        _loaded = True


def handlers() -> list[FormatHandler]:
    _load()
    return list(_HANDLERS)


def identify(head: bytes) -> FormatHandler | None:
    """The handler for a file starting with ``head``, or None when no test passes."""
    _load()
    for handler in _HANDLERS:
        if handler.accept(head):
            return handler
    return None
