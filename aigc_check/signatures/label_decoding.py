"""Reading a GB 45438 label's text the way writers really produce it.

Annex E asks for one JSON object of seven string elements (bare, or wrapped as
``{"AIGC": {...}}``).  Writers deviate: an extra encoding layer (JSON inside a
JSON string, base64, URL-encoding, HTML entities), a byte-order mark or stray
white space, element names in another case (``label``, ``LABEL``), object
syntax that is not JSON (single quotes, unquoted names, ``Label=1;...``), text
cut short.  ``decode`` reads what can be read and names every departure, so
the label signature can use a Label value that is still unambiguous (strong
evidence, reported as malformed) and report a label whose value is lost.

Everything is bounded before it is decoded: text longer than
``MAX_LABEL_TEXT`` or nested deeper than ``MAX_LABEL_DEPTH`` is not parsed at
all (``json.loads`` recurses once per level: a 10 KB label nested a few
thousand levels deep exhausted the interpreter's stack), and at most
``MAX_LAYERS`` encoding layers are peeled.

Why partly by hand: the standard library's ``json`` reads only strict JSON, and
the tolerant parsers around (JSON5, YAML, ``ast.literal_eval``) each accept one
of the syntaxes seen and none recovers a value from text that was cut off.  The
fallback is therefore a small scanner for ``name: value`` / ``name=value``
pairs that only has to find the seven Annex E names.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ..model import scrub_surrogates

KEYS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2")
WRAPPER = "AIGC"
LABEL_VALUES = ("1", "2", "3")

MAX_LABEL_TEXT = 1024 * 1024  # a label is a few hundred bytes; security data in ReservedCode1/2 can reach tens of KB
MAX_LABEL_DEPTH = 16  # Annex E nests two levels ({"AIGC": {...}}); a few more for structured reserved codes
MAX_LAYERS = 4  # encoding layers peeled (JSON string, entities, URL-encoding, base64)
MAX_PAIRS = 256  # name/value pairs the fallback scanner reads

_SURROGATE_ESCAPE = re.compile(r"\\[uU][dD][89a-fA-F]")
_CANONICAL = {name.lower(): name for name in (*KEYS, WRAPPER)}
# Names that show a text holds a label: the wrapper and the elements only a label has.
TELLTALE = re.compile(r"AIGC|ContentProducer|ProduceID|ContentPropagator|PropagateID", re.I)
_BOMS = ("\ufeff", "\u00ef\u00bb\u00bf")  # a BOM, and a UTF-8 BOM read as Latin-1
# A JSON string, or one that never ends (it runs to the end of the text): matching never fails once a
# quote is found, and the quantifier is possessive, so every pass over a text is linear (a text of
# escaped quotes once made a failing pattern retry from every quote: quadratic).
_STRING = r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)'
_STRINGS_OR_BRACKETS = re.compile(_STRING + r"|[\[\]{}]")
_STRING_TOKEN = re.compile(_STRING)
_BRACKET_RUNS = re.compile(r"[\[{]+|[\]}]+")
_STRINGS_OR_BRACES = re.compile(_STRING + r"|[{}]")
_ENTITY = re.compile(r"&(?:quot|apos|amp|lt|gt|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_BLOB_NAME = re.compile(r"AIGC\s*[:=]?\s*(?=[{\"'])", re.I)
# One name/value pair of a JSON-like, Python-dict, JavaScript-object or key=value text.
_PAIR = re.compile(
    r"""(?:^|(?<=[\s{,;&|]))(?P<q>["']?)(?P<key>[A-Za-z][A-Za-z0-9_]{0,31})(?P=q)\s*(?P<sep>[:=])\s*"""
    r"""(?:"(?P<dq>(?:[^"\\]|\\.)*+)(?P<dqend>"?)|'(?P<sq>[^']*+)(?P<sqend>'?)|(?P<bare>[^\s,;&|{}\[\]"']*+))"""
)


@dataclass
class DecodedLabel:
    """What a label's text says: its elements (canonical names for the Annex E ones, other names as
    found), the departures from Annex E met on the way, and the Label value when it can be told."""

    values: dict[str, Any] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)
    label: str | None = None  # the Label value, stripped; None when absent or ambiguous
    ambiguous: bool = False  # Label was given more than once with different values
    refused: bool = False  # over a bound: not decoded at all

    @property
    def has_elements(self) -> bool:
        return any(k in self.values for k in KEYS)


class _Object(list):
    """A JSON object as its (name, value) pairs, in order, duplicates kept."""


def decode(text: str) -> DecodedLabel:
    """Read the label in ``text`` (the whole value of a field that holds a label)."""
    out = DecodedLabel()
    _decode_into(text, out, MAX_LAYERS)
    out.defects = list(dict.fromkeys(out.defects))  # a layer peeled twice is one defect
    return out


def _decode_into(text: str, out: DecodedLabel, layers: int) -> None:
    text = _trim(text, out.defects)
    if len(text) > MAX_LABEL_TEXT:
        out.refused = True
        out.defects.append(f"{len(text)} characters long, over the {MAX_LABEL_TEXT} a label may have: not decoded")
        return
    blob = _BLOB_NAME.match(text)
    if blob:
        out.defects.append("the JSON follows the name AIGC in the same text (AIGC{...}), not a field named AIGC")
        text = text[blob.end() :]
    for _ in range(layers + 1):
        # Brackets cannot nest deeper than there are openers: a label with few (all real ones) is
        # within the bound without counting its depth.
        if text.count("[") + text.count("{") > MAX_LABEL_DEPTH:
            depth = _depth(text)
            if depth > MAX_LABEL_DEPTH:
                out.refused = True
                out.defects.append(f"nested {depth} levels deep, more than the {MAX_LABEL_DEPTH} allowed: not decoded")
                return
        parsed, problem = _strict(text)
        # Only a \\uD800-\\uDFFF escape can give a lone surrogate: look for one before walking the value.
        scrubbed = False
        if _SURROGATE_ESCAPE.search(text):
            parsed, scrubbed = scrub_surrogates(parsed)
        if scrubbed:
            out.defects.append("a string escapes a lone UTF-16 surrogate (\\ud800-\\udfff), read as U+FFFD")
        if isinstance(parsed, str):
            out.defects.append("the JSON is itself inside a JSON string (encoded twice)")
            text = _trim(parsed, out.defects)
            continue
        if isinstance(parsed, list) and len(parsed) == 1 and isinstance(parsed[0], _Object):
            out.defects.append("the object is inside a JSON array")
            parsed = parsed[0]
        if isinstance(parsed, _Object):
            if problem:
                out.defects.append(problem)
            _from_object(parsed, out, layers)
            return
        peeled = _peel(text)
        if peeled is not None:
            what, text = peeled
            out.defects.append(what)
            text = _trim(text, out.defects)
            continue
        if parsed is None:
            if text[:1] not in ("{", "[", '"'):
                problem = "not valid JSON: not an object"
            elif text[:1] == "{" and _unclosed(text):
                problem = "not valid JSON: cut short (truncated), the object is never closed"
            _loose(text, problem or "not valid JSON", out)
        return
    out.defects.append(f"more than {MAX_LAYERS} encoding layers: not decoded further")


def _trim(text: str, defects: list[str]) -> str:
    """``text`` without a byte-order mark and surrounding white space, each reported; trailing NULs
    (C string terminators, as RIFF INFO strings end) are dropped without a word."""
    text = text.rstrip("\x00")
    stripped = text.strip()
    if stripped != text:
        defects.append("white space around the label")
    for bom in _BOMS:
        if stripped.startswith(bom):
            defects.append("a byte-order mark before the label")
            stripped = stripped[len(bom) :].strip()
    return stripped


def _depth(text: str) -> int:
    """How deep brackets nest in ``text`` outside JSON strings (cheap: no parsing).

    The strings are cut out first (the scan that finds them is the one ``_STRINGS_OR_BRACKETS``
    makes: a bracket is one character and never starts a string), then the brackets left are
    counted a run of openers or closers at a time, not one regex match and one Python step per
    bracket: a label nested 5,000 deep is a hostile file the decoder refuses, and this is what
    refusing it costs."""
    outside = _STRING_TOKEN.sub("", text) if '"' in text else text
    depth = deepest = 0
    for run in _BRACKET_RUNS.findall(outside):
        if run[0] in "[{":
            depth += len(run)
            deepest = max(deepest, depth)
        else:
            depth -= len(run)
    return deepest


def _depth_by_tokens(text: str) -> int:
    """``_depth`` the plain way, one token at a time (what the tests compare it with)."""
    depth = deepest = 0
    for m in _STRINGS_OR_BRACKETS.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _unclosed(text: str) -> bool:
    """Whether an object or string opened in ``text`` is still open at its end."""
    depth = 0
    for m in _STRINGS_OR_BRACKETS.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
        elif token in "]}":
            depth -= 1
        elif not _closed(token):
            return True  # a string that runs to the end of the text
    return depth > 0


def _closed(string: str) -> bool:
    """Whether a string token ends with its closing quote (one not escaped by a backslash)."""
    if len(string) < 2 or string[-1] != '"':
        return False
    backslashes = len(string) - 1 - len(string[:-1].rstrip("\\"))
    return backslashes % 2 == 0


# One decoder for every label: making one builds its scanner, a cost per label as large as decoding
# a small one.  It keeps no state between calls (the scanner's key memo is cleared after each).
_DECODER = json.JSONDecoder(object_pairs_hook=_Object)


def _strict(text: str) -> tuple[Any, str | None]:
    """(value, problem): the JSON in ``text``; a value followed by other text comes with a problem;
    (None, why) when ``text`` is not JSON."""
    decoder = _DECODER
    try:
        return decoder.decode(text), None
    except json.JSONDecodeError as exc:
        try:
            value, end = decoder.raw_decode(text)
        except json.JSONDecodeError:
            if exc.pos >= len(text) and text[:1] in '{["':
                return None, "not valid JSON: cut short (truncated) before its end"
            return None, f"not valid JSON ({exc.msg} at character {exc.pos})"
        return value, f"text after the JSON ({len(text) - end} characters)"
    except RecursionError:  # not reached after the depth check; kept so no input can raise
        return None, "not valid JSON (nested too deep)"


def _peel(text: str) -> tuple[str, str] | None:
    """(what, the text under it) for one encoding layer around a label, or None."""
    if _ENTITY.search(text):
        unescaped = html.unescape(text)
        if unescaped != text:
            return (
                "HTML/XML character entities (&quot; ...) left in the text: escaped once more than its carrier needs",
                unescaped,
            )
    if len(_PERCENT.findall(text[:64])) >= 2:
        unquoted = unquote(text)
        if unquoted != text and ("{" in unquoted or '"' in unquoted or "=" in unquoted):
            return "URL-encoded (%7B%22...)", unquoted
    compact = re.sub(r"\s+", "", text)
    if _BASE64.fullmatch(compact):
        decoded = _base64_text(compact)
        if decoded is not None:
            return "base64-encoded", decoded
    return None


def _base64_text(text: str) -> str | None:
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded, altchars=b"-_" if ("-" in text or "_" in text) else None, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    probe = decoded.lstrip("\ufeff \t\r\n")
    if probe[:1] in ("{", '"') or TELLTALE.search(probe[:256]) or "label" in probe[:256].lower():
        return decoded
    return None


def _from_object(obj: _Object, out: DecodedLabel, layers: int) -> None:
    for name, value in obj:
        if isinstance(name, str) and name.lower() == WRAPPER.lower():
            if name != WRAPPER:
                out.defects.append(f"the wrapper is named {name!r}, not {WRAPPER!r}")
            if isinstance(value, _Object):
                obj = value
            elif isinstance(value, str):
                out.defects.append("the AIGC wrapper holds a string, not an object")
                _decode_into(value, out, layers - 1)
                return
            else:
                out.defects.append(f"the AIGC wrapper holds a {type(value).__name__}, not an object")
                return
            break
    _from_pairs([(str(k), _plain(v)) for k, v in obj], out)


def _plain(value: Any) -> Any:
    """A parsed value with objects as dicts (for the report)."""
    if isinstance(value, _Object):
        return {str(k): _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _loose(text: str, problem: str, out: DecodedLabel) -> None:
    """Name/value pairs read from text that is not JSON (other object syntax, or cut short)."""
    pairs: list[tuple[str, Any]] = []
    kinds: set[str] = set()
    for n, m in enumerate(_PAIR.finditer(text)):
        if n >= MAX_PAIRS:
            break
        key = m.group("key")
        if key.lower() == WRAPPER.lower():
            continue
        if m.group("q") == "'":
            kinds.add("single-quoted names or strings (a Python or JavaScript object)")
        elif not m.group("q") and text.lstrip()[:1] == "{":
            kinds.add("unquoted element names")
        if m.group("sep") == "=":
            kinds.add("name=value pairs")
        if m.group("dq") is not None:
            value: Any = _json_string(m.group("dq"))
            if not m.group("dqend"):
                kinds.add("a string cut short")
        elif m.group("sq") is not None:
            value = m.group("sq")
            if not m.group("sqend"):
                kinds.add("a string cut short")
        else:
            value = m.group("bare")
            if value and m.group("q") != "'" and text.lstrip()[:1] == "{":
                kinds.add("unquoted values")
        pairs.append((key, value))
    if not text.lstrip().startswith("{") and pairs:
        kinds.add("pairs without an enclosing object")
    detail = "; ".join(sorted(kinds))
    if problem.startswith("not valid JSON") and detail:
        problem = f"{problem}; read as {detail}"
    out.defects.append(problem)
    _from_pairs(pairs, out)


def _json_string(body: str) -> str:
    try:
        value = json.loads(f'"{body}"')
        return scrub_surrogates(value)[0] if isinstance(value, str) else body
    except ValueError:
        return body


def _from_pairs(pairs: list[tuple[str, Any]], out: DecodedLabel) -> None:
    wrong_case: list[str] = []
    repeated: set[str] = set()
    labels: list[str] = []
    for key, value in pairs:
        canonical = _CANONICAL.get(key.lower())
        if canonical == WRAPPER:
            continue
        name = canonical or key
        if canonical and canonical != key and key not in wrong_case:
            wrong_case.append(key)
        if name in out.values and out.values[name] != value:
            repeated.add(name)
        out.values.setdefault(name, value)
        if canonical == "Label":
            text = _label_text(value)
            if text is not None:
                labels.append(text)
    if wrong_case:
        out.defects.append("element names in another case than Annex E's: " + ", ".join(wrong_case))
    for name in sorted(repeated - {"Label"}):
        out.defects.append(f"{name} is given more than once, with different values")
    distinct = sorted(set(labels))
    if len(distinct) == 1:
        out.label = distinct[0]
        raw = out.values.get("Label")
        if isinstance(raw, str) and raw != distinct[0]:
            out.defects.append("white space inside the Label value")
    elif len(distinct) > 1:
        out.ambiguous = True
        out.defects.append(f"Label is given {len(labels)} times with different values ({', '.join(distinct)})")


def _label_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return None


def find_in_text(text: str) -> str | None:
    """The part of a free-text field (a comment, a description) that holds a label: the JSON object
    around the first telltale name (AIGC, ContentProducer, ProduceID, ...), or from that name on for
    text without braces.  None when the text shows no sign of a label."""
    m = TELLTALE.search(text, 0, min(len(text), 4 * MAX_LABEL_TEXT))
    if m is None:
        return None
    lead = max(0, m.start() - MAX_LABEL_TEXT)
    starts = [text.rfind(opener, lead, m.start()) for opener in ("{", "%7B", "%7b")]
    start = max(starts)
    if start < 0:
        # No object: an AIGC{...} blob starts at its name; name=value pairs at the start of their line.
        line = text.rfind("\n", lead, m.start())
        start = m.start() if m.group().upper() == WRAPPER else (line + 1 if line >= 0 else lead)
    if text.startswith("{", start):
        return text[start : _object_end(text, start)]
    blob = _BLOB_NAME.match(text, start)
    if blob and text.startswith("{", blob.end()):
        return text[start : _object_end(text, blob.end())]
    return text[start : start + MAX_LABEL_TEXT]


def _object_end(text: str, start: int) -> int:
    """Where the object opening at ``start`` closes (string-aware), or where the bounded search stops."""
    limit = min(len(text), start + MAX_LABEL_TEXT)
    depth = 0
    for m in _STRINGS_OR_BRACES.finditer(text, start, limit):
        if m.group() == "{":
            depth += 1
        elif m.group() == "}":
            depth -= 1
            if depth == 0:
                return m.end()
    return limit
