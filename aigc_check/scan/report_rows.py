"""report.html's rows: what the page lists of each file to act on, written as one JSON array of
arrays the page's script decodes (``ROW_FIELDS``), with a table of the strings the rows share
and, for the first image violations, thumbnails.

A scan makes them while it runs: its workers render each issue's row beside the result
(``WorkerRows``: everything but the shared strings' indices, and the thumbnails, out of one count
all workers draw on), and the parent interns the strings and writes the line to a temporary file
(``RowsFile``) that ``html_report.write_report`` copies into the page.  The page made from a
finished issue list (``ReportRows.write``) is the same, byte for byte.

Every text that comes from a file or a sidecar goes through ``shown``: the script writes the rows
as text nodes, so no HTML escaping, but control characters and bidirectional controls are shown
as escapes.  Thumbnails are re-encoded by Pillow into small JPEG data URIs, for image violations
only and at most the report's budget of them.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import os
import re
import shutil
import warnings
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, Literal, Protocol, TextIO

from ..json_lines import compact_json
from ..model import VIOLATIONS, Verdict, result_path
from ..policy import Policy
from ..signatures.fingerprints import FingerprintTable
from .outputs import NOT_NAMED, canonical_format, generator_key, open_text

THUMB_PX = 96
THUMB_MAX_PIXELS = 40_000_000  # larger images are not decoded for a thumbnail (decompression bombs)
THUMB_FORMATS = {"jpeg", "png", "webp", "gif", "tiff"}
# Control characters, and the bidirectional controls and separators that would reorder or break a shown name.
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def escape_control(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


# Pillow's name of each thumbnail format, and the plugin module that reads it.  Opening with the
# format named and only its plugin imported, Pillow neither tries the other formats nor, for WebP
# and TIFF (outside the few plugins it preloads), imports all forty of its plugins (~40 ms, in
# every process that makes a thumbnail).
_PILLOW_FORMATS = {
    "jpeg": ("JPEG", "JpegImagePlugin"),
    "png": ("PNG", "PngImagePlugin"),
    "webp": ("WEBP", "WebPImagePlugin"),
    "gif": ("GIF", "GifImagePlugin"),
    "tiff": ("TIFF", "TiffImagePlugin"),
}


def thumbnail(path: str, image_format: str | None = None) -> str | None:
    """A small JPEG data URI of the image, or None (unreadable, too large, not an image).
    ``image_format``: the image's format as the check found it (one of ``THUMB_FORMATS``), the only one
    Pillow is asked to read it as; None lets Pillow tell."""
    from PIL import Image

    formats = None
    if image_format in _PILLOW_FORMATS:
        name, plugin = _PILLOW_FORMATS[image_format]
        importlib.import_module(f"PIL.{plugin}")  # registers the format with Pillow
        formats = [name]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about the very damage the report lists
            with Image.open(path, formats=formats) as img:
                if img.width * img.height > THUMB_MAX_PIXELS:
                    return None
                img.draft("RGB", (THUMB_PX * 2, THUMB_PX * 2))  # JPEG: decode at a reduced scale
                img.thumbnail((THUMB_PX, THUMB_PX))
                buf = io.BytesIO()
                img.convert("RGB").save(buf, "JPEG", quality=70)
    except Exception:  # any broken image: no thumbnail, never a failed report
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def has_thumbnail(d: dict) -> bool:
    """Whether the row of an issue digest ``d`` gets a thumbnail while the budget lasts: an image
    violation."""
    return d["verdict"] in VIOLATIONS and d.get("format") in THUMB_FORMATS


def shown(value: object) -> str | None:
    """A value as the page shows it (``text`` without the HTML escaping: the script writes text nodes)."""
    if value is None:
        return None
    s = str(value)
    if s.isascii() and s.isprintable():  # the common case: nothing to escape (no control, no surrogate)
        return s
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return CONTROL_CHARS.sub(escape_control, s)


def severity_rank(d: dict, policy: Policy | None) -> int:
    """The default order, most severe first: unlabelled or mislabelled AI, unreadable, files the
    policy sends to review (an integrity error), the rest."""
    verdict = d["verdict"]
    if verdict == Verdict.UNLABELLED_AI:
        return 0
    if verdict == Verdict.MISLABELLED:
        return 1
    if verdict == Verdict.UNREADABLE:
        return 2
    if any(sev == "error" for _, sev in d["findings"]) or d.get("action") not in (None, "none", "show-label"):
        return 3
    return 4


def action_reasons(d: dict, policy: Policy | None) -> list[list[str]]:
    """Why the row carries its action: each policy entry that gives that measure, as ``[kind, key]``
    (``verdict``: the verdict's measures; ``label``: a labelled compliant file; ``finding``: a
    finding's measures), the way ``Policy.decide`` gathers them."""
    action = d.get("action")
    if policy is None or not action or action == "none":
        return []
    data = policy.data
    reasons = []
    if action in data["measures"].get(d["verdict"], []):
        reasons.append(["verdict", d["verdict"]])
    if d.get("label") and d["verdict"] == Verdict.COMPLIANT and data.get("labelled_measure", "show-label") == action:
        reasons.append(["label", d["label"]])
    finding_measures = data.get("finding_measures", {})
    for code in dict.fromkeys(code for code, _ in d["findings"]):
        if action in finding_measures.get(code, []):
            reasons.append(["finding", code])
    return reasons


# The positions of a row's values in the page's rows array (report.js's ``decode`` reads them).
ROW_FIELDS = ("p", "v", "s", "g", "gn", "gm", "f", "d", "l", "a", "w", "ac", "po", "fi", "e", "ev", "t", "x", "r")


def script_safe_json(value: object) -> str:
    raw = compact_json(value)  # the compact json.dumps text, made by orjson (a row a file in a scan)
    return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


ROWS_HEAD = '<script type="application/json" id="report-rows">['
# The places of a rendered row's shared strings and thumbnail (``ReportRows.rendered``), and their JSON.
_INDEX_MARK, _THUMB_MARK = "\x00", "\x01"
_INDEX_MARK_JSON, _THUMB_MARK_JSON = json.dumps(_INDEX_MARK), json.dumps(_THUMB_MARK)
# A worker's thumbnail for a row: a data URI, None (tried: not decodable), or NOT_MADE (not tried).
NOT_MADE: Literal[False] = False
Thumbnail = str | None | Literal[False]
# Where a rendered row's thumbnail comes from: None when the row never has one (not an image
# violation), else what the worker made (``Thumbnail``), and the file to make it from if it did
# not, with its format.
ThumbnailSource = tuple[Thumbnail, str, str] | None
# What a scan's worker hands on for one of the rows (``ReportRows.rendered``): the row's JSON text
# with a ``%d`` for each shared string and a ``%s`` for the thumbnail, the strings in the order
# the placeholders take them, and the thumbnail's source.
RenderedRow = tuple[str, list, ThumbnailSource]


def _laid_out(v: list, shared: Callable[[Any], object], thumb: object) -> list:
    """A row's values (``ReportRows.values``) as the page's rows array holds them: each shared string
    (the names, codes and texts many rows repeat) through ``shared`` (its index in the table, or the
    mark a worker's rendered row leaves in its place), the thumbnail in its slot.  One layout for
    ``row`` and ``rendered``, whose texts must be the same."""
    return [
        v[0],
        *[shared(x) for x in v[1:10]],
        [shared(x) for x in v[10]],
        shared(v[11]),
        v[12],
        [shared(x) for x in v[13]],
        [shared(x) for x in v[14]],
        [shared(x) for x in v[15]],
        thumb,
        v[17],
        v[18],
    ]


class ReportRows:
    """The rows the page lists, written as one JSON array of arrays while the issue list streams
    past (a row's values in ``ROW_FIELDS`` order), then one table of the strings they share:
    verdicts, statuses, evidence and error texts repeat across files, so a row holds their indices
    (a 100,000-row page is half the size, and parses in half the time)."""

    def __init__(self, policy: Policy | None, fingerprints: FingerprintTable, thumbnails: int) -> None:
        self.policy = policy
        self.fingerprints = fingerprints
        self.thumbnails = thumbnails
        self.ai = {s.value for s in policy.ai_statuses} if policy else set()
        self.count = 0
        self.strings: dict[str | None, int] = {None: 0}

    def _s(self, value: str | None) -> int:
        if value is None or value == "":
            return 0
        index = self.strings.get(value)
        if index is None:
            index = self.strings[value] = len(self.strings)
        return index

    def values(self, d: dict) -> list:
        """A row's values with its strings in place and no thumbnail: what ``row`` interns.  Needs
        only the policy and the fingerprints, so a scan's worker makes it beside the result."""
        key, name_only = generator_key(d.get("generator"), self.fingerprints)
        if key == NOT_NAMED and d["status"] not in self.ai:
            key = ""  # only AI files are counted under "(not named)"
        display = self.fingerprints.display_name(key) if key in self.fingerprints.ids else None
        return [
            shown(d["path"]),
            d["verdict"],
            d["status"],
            key,
            display,
            shown(name_only),
            canonical_format(d.get("format")),
            d["declared"],
            d.get("label"),
            d.get("action"),
            [x for pair in action_reasons(d, self.policy) for x in pair],
            shown(d.get("account")),  # compared exactly by the account filter
            shown(d.get("post_id")),
            [x for pair in d["findings"] for x in pair],
            [shown(e) for e in d["errors"]],
            [shown(e) for e in d["evidence"]],
            None,
            int(any(sev == "error" for _, sev in d["findings"])),
            severity_rank(d, self.policy),
        ]

    def thumbnail_of(self, d: dict, made: Thumbnail = NOT_MADE) -> str | None:
        """The row's thumbnail while the budget lasts: ``made`` when a worker already tried it
        (a data URI, or None when the image would not decode), else made here."""
        if not has_thumbnail(d):
            return None
        return self._spend_thumbnail(made, result_path(d), d.get("format"))

    def _spend_thumbnail(self, made: Thumbnail, path: str, image_format: str | None) -> str | None:
        """While the budget lasts: ``made`` (a worker's try) or the thumbnail made here, one of the
        budget spent when there is one."""
        if self.thumbnails <= 0:
            return None
        thumb = thumbnail(path, image_format) if made is NOT_MADE else made
        self.thumbnails -= thumb is not None
        return thumb

    def row(self, d: dict, values: list | None = None, made: Thumbnail = NOT_MADE) -> list:
        """The row as the page reads it: strings as indices into the shared table, in the order
        they are met (``values``: made already, by a worker; ``made``: its thumbnail, likewise)."""
        thumb = self.thumbnail_of(d, made)
        return _laid_out(values if values is not None else self.values(d), self._s, thumb)

    def line(self, d: dict, values: list | None = None, made: Thumbnail = NOT_MADE) -> str:
        """The row's text in the rows array (a comma before all but the first)."""
        text = ("," if self.count else "") + script_safe_json(self.row(d, values, made)) + "\n"
        self.count += 1
        return text

    def rendered(self, d: dict, made: Thumbnail = NOT_MADE) -> RenderedRow:
        """The row with everything but the shared strings' indices and the thumbnail already in
        JSON text (``RenderedRow``), so that a scan's worker makes it and the parent's part is a
        dict lookup a string and one ``%`` (``rendered_line``).  Its text is ``line``'s: the row
        is encoded once with a mark in each placeholder's place, a string no value of the row
        can be (its own strings pass through ``shown``, which escapes every control character)."""
        v = self.values(d)
        strings: list = []

        def shared(value: object) -> object:
            if value is None or value == "":
                return 0  # ``_s``: the empty string's index, the same in every table
            strings.append(value)
            return _INDEX_MARK

        template = script_safe_json(_laid_out(v, shared, _THUMB_MARK)).replace("%", "%%")
        template = template.replace(_INDEX_MARK_JSON, "%d").replace(_THUMB_MARK_JSON, "%s")
        eligible = has_thumbnail(d)
        return template, strings, (made, result_path(d), d["format"]) if eligible else None

    def rendered_line(self, row: RenderedRow) -> str:
        """``line`` of a row a worker rendered: its strings interned here, in the order they are
        met, and its thumbnail while the budget lasts (``thumbnail_of``)."""
        template, shared, source = row
        table = self.strings
        indices = list(map(table.get, shared))  # nearly every string is in the table already
        if None in indices:
            for i, x in enumerate(shared):
                if indices[i] is None:  # new: its index is the next, as ``_s`` gives it
                    indices[i] = table.setdefault(x, len(table))
        thumb = None if source is None else self._spend_thumbnail(*source)
        thumb_json = "null" if thumb is None else script_safe_json(thumb)
        text = ("," if self.count else "") + template % (*indices, thumb_json) + "\n"
        self.count += 1
        return text

    def write(self, f: TextIO, issues: Iterable[dict]) -> None:
        f.write(ROWS_HEAD)
        for d in issues:
            f.write(self.line(d))
        self.write_end(f)

    def write_end(self, f: TextIO) -> None:
        """Close the rows array and write the shared strings."""
        f.write("]</script>")
        f.write(f'<script type="application/json" id="report-strings">{script_safe_json(list(self.strings))}</script>')


class ThumbnailSlots(Protocol):
    """The thumbnails the scan's workers may still make, together (a ``multiprocessing.Value``)."""

    value: int

    def get_lock(self) -> AbstractContextManager[Any]: ...


class WorkerRows:
    """A scan's worker's half of the rows (``ReportRows.rendered``: the row's text but for the
    shared strings' indices, and the thumbnails), so the parent only interns the strings and
    writes the line.

    The parent gives thumbnails to the first image violations in the order it records them, the
    one it made up to its budget (``ReportRows.rendered_line``).  The workers make them first, out
    of one count all of them draw on (``slots``): however the images fall between the workers, no
    more than that many are made, and the parent makes those it is short of (a chunk with images
    recorded before one checked earlier), Pillow's import and all, while the workers want the
    cores.  The count is a little more than the budget (``runner.THUMBNAIL_MARGIN``), so it seldom
    has to."""

    def __init__(self, policy: Policy | None, fingerprints: FingerprintTable, slots: ThumbnailSlots | None) -> None:
        self.rows = ReportRows(policy, fingerprints, 0)
        self.slots = slots
        self.spent = slots is None  # no slot is left (once seen, not asked again)

    def _claim(self) -> bool:
        """Take a slot for one thumbnail, while any is left."""
        if self.spent or self.slots is None:
            return False
        with self.slots.get_lock():
            if self.slots.value <= 0:
                self.spent = True
                return False
            self.slots.value -= 1
        return True

    def _give_back(self) -> None:
        """The image would not decode: its slot is for another."""
        if self.slots is not None:
            with self.slots.get_lock():
                self.slots.value += 1

    def made(self, d: dict) -> RenderedRow:
        made: Thumbnail = NOT_MADE
        if has_thumbnail(d) and self._claim():
            made = thumbnail(result_path(d), d["format"])
            if made is None:
                self._give_back()
        return self.rows.rendered(d, made)


class RowsFile:
    """The report's rows written while the scan runs, as it records its issues, to a temporary
    file ``write_report`` copies into the page: the report is not built from the issue list again
    at the end, when the workers are idle."""

    def __init__(self, path: str, policy: Policy | None, fingerprints: FingerprintTable, thumbnails: int) -> None:
        self.path = path
        self.rows = ReportRows(policy, fingerprints, thumbnails)
        self.file = open_text(path, "w")

    def add(self, d: dict) -> None:
        """A row the parent makes itself (its own results, a resume's reloaded ones)."""
        self.file.write(self.rows.line(d))

    def add_rendered(self, rows: Iterable[RenderedRow]) -> None:
        """Rows a worker rendered (``WorkerRows.made``)."""
        line = self.rows.rendered_line
        self.file.write("".join([line(row) for row in rows]))

    def copy_into(self, f: TextIO) -> None:
        """The whole rows array and the strings, into the page being written."""
        self.file.flush()
        f.write(ROWS_HEAD)
        f.flush()  # the bytes go under the text layer, after what it holds
        with open(self.path, "rb") as rows:
            shutil.copyfileobj(rows, f.buffer, 1 << 20)
        self.rows.write_end(f)

    def close(self) -> None:
        self.file.close()
        try:
            os.remove(self.path)
        except OSError:
            pass
