"""Container walkers, one module per format, registered with a cheap header test.

Like Pillow's plugins: each module calls :func:`register` with an ``accept``
function that looks only at the first bytes.  :func:`identify` picks the
first handler whose test passes; the order of ``_MODULES`` is the order of
the tests, so identification does not depend on import side effects.  Like
Pillow's, the modules are imported as they are needed, in that order: a
photo's check imports the JPEG walker, not the nineteen (a tenth of a one-file
``check``), and a later module's test runs only once every earlier one has
said no, as it would with all of them loaded.
"""

from __future__ import annotations

import importlib
import os
import threading
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


# The handlers of the modules of ``_MODULES[:_imported]``, in that order, then (once every one is
# in) those other modules registered (``_rebuild``).
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
_imported = 0
_registered: dict[str, list[FormatHandler]] = {}  # by module name, as each module registers
_loading = threading.Lock()  # held while ``_load_next`` imports a walker
_WALKER_MODULES = frozenset(f"{__name__}.{name}" for name in _MODULES)
# The formats in the words a person knows, for the advice on a file no walker accepts (the handler
# names, such as bmff or riff, are internal); tests/test_advice.py keeps one entry per handler.
DISPLAY_NAMES = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WebP",
    "gif": "GIF",
    "tiff": "TIFF/DNG",
    "bmff": "HEIF/AVIF/MP4/MOV/M4A",
    "jxl": "JPEG XL",
    "riff": "WAV/AVI",
    "aiff": "AIFF",
    "flac": "FLAC",
    "ogg": "Ogg/Opus",
    "matroska": "MKV/WebM",
    "asf": "WMV/WMA",
    "flv": "FLV",
    "pdf": "PDF",
    "mpeg-audio": "MP3",
    "svg": "SVG",
    "zip": "DOCX/XLSX/PPTX/ODF/EPUB",
    "markdown": "Markdown",
    "text": "plain text",
}


def register(handler: FormatHandler) -> None:
    """Called by a walker module as it is imported: those of ``_MODULES`` are tested in its order,
    any other after all of them.  A module imported again (its first import cut short, by a check's
    time limit say) replaces its handler of that name: the list never holds a format twice.  It
    takes no lock: a module another thread imports itself must not wait on ``_load_next``, which
    holds its lock while it imports (and may be importing that module's imports)."""
    registered = _registered.setdefault(handler.accept.__module__, [])
    registered[:] = [h for h in registered if h.name != handler.name] + [handler]
    if _imported == len(_MODULES):
        _rebuild(_imported)


def _rebuild(imported: int) -> None:
    """``_HANDLERS`` made again from what is registered, for the first ``imported`` modules of
    ``_MODULES`` (and, once that is all of them, the other modules'): the same list object, its
    prefix unchanged (a thread iterating it meanwhile sees the same handlers at the same places),
    and the same whether or not an earlier rebuild was cut short."""
    walkers = [f"{__name__}.{name}" for name in _MODULES[:imported]]
    others = [m for m in _registered if m not in _WALKER_MODULES] if imported == len(_MODULES) else []
    _HANDLERS[:] = [h for module in (*walkers, *others) for h in _registered.get(module, [])]


def _load_next() -> None:
    """Import the next module of ``_MODULES`` (none once every one is in) and add its handlers to
    ``_HANDLERS``, before ``_imported`` counts it: a thread that sees every module counted sees
    every handler."""
    global _imported
    with _loading:
        if _imported == len(_MODULES):
            return
        importlib.import_module(f"{__name__}.{_MODULES[_imported]}")  # registers, unless an earlier import did
        _rebuild(_imported + 1)  # cut short (a time limit), the next call does this step again
        _imported += 1


def _load() -> None:
    while _imported < len(_MODULES):
        _load_next()


def handlers() -> list[FormatHandler]:
    _load()
    return list(_HANDLERS)


def _identify_importing(head: bytes) -> FormatHandler | None:
    """``identify``'s test while some walkers are not imported yet: the handlers from the first
    (another thread may have added some since), importing the next module whenever they run out."""
    tested = 0
    while True:
        while tested < len(_HANDLERS):
            handler = _HANDLERS[tested]
            tested += 1
            if handler.accept(head):
                return handler
        if _imported == len(_MODULES) and tested == len(_HANDLERS):
            return None
        _load_next()


def supported_formats() -> str:
    """Every format a walker reads, by the names a person knows, in ``DISPLAY_NAMES``' order (not
    the registration order, which a test importing one walker first can change: the advice carrying
    this list is part of the contract's record)."""
    registered = {h.name for h in handlers()} | {"text"}
    names = [DISPLAY_NAMES[name] for name in DISPLAY_NAMES if name in registered]
    names += sorted(registered - set(DISPLAY_NAMES))
    return ", ".join(dict.fromkeys(names))


def identify(head: bytes, named: str | None = None) -> FormatHandler | None:
    """The handler for a file starting with ``head``, or None when no test passes.

    ``named``: the file was named or declared by the user (not found by sniffing a folder), under
    this display name; then plain UTF-8 text is judged as ``text`` too, unless the name's suffix says
    it is another format (``text.MEDIA_SUFFIXES``)."""
    importing = _imported < len(_MODULES)  # read first: every handler counted is in the list
    for handler in _HANDLERS:
        if handler.accept(head):
            return handler
    if importing:
        found = _identify_importing(head)
        if found is not None:
            return found
    if named is not None:
        from . import text

        suffix = os.path.splitext(named)[1].lower()
        if suffix not in text.MEDIA_SUFFIXES and text.plain_text(head):
            return text.PLAIN_TEXT
    return None
