"""The differential test of issue 12: exiftool against aigc-check on every fixture and corpus file.

exiftool (``-j -G1 -struct -a -u``, with ``tests/data/exiftool-tc260.config`` teaching it the TC260
XMP namespace and the RIFF/ASF ``AIGC`` carriers) runs once over all fixtures and once over all
corpus files, beside aigc-check.  From its output the test takes, per file, every tag of four kinds:

* ``label``: a GB 45438 implicit label: any tag named ``AIGC`` (any group), anything in the TC260
  namespace, and any value that holds an Annex E JSON object;
* ``source-type``: IPTC DigitalSourceType (XMP, and IIM if exiftool ever shows one);
* ``credit``: Credit and Source (XMP photoshop, IPTC IIM);
* ``generator``: the fields a generator writes its name or its parameters in (Software,
  CreatorTool, Make/Model, PNG text, UserComment, ImageDescription, XP*, IIM captions, XMP history
  agents, ID3/QuickTime/RIFF/Vorbis/Matroska/ASF/AIFF comments, descriptions and encoders, PDF Info).

Three things are asserted, by value (the two tools name fields differently):

1. ``field``: each such value is among aigc-check's fields (labels compared as parsed JSON, text
   with white space collapsed and case folded);
2. ``signal``: where exiftool shows an AI signal (a label whose Label is 1, 2 or 3; an AI
   DigitalSourceType in XMP or in a C2PA action; a value that a ``generators.json`` pattern matches
   in a field that rule names, or a well-known generator's name in a software or description
   field), aigc-check's evidence has a signal of the same kind (for a fingerprint, the same
   generator or one that supersedes it);
3. ``extra label``: every GB 45438 label aigc-check reports is one exiftool shows.

A third family, probe files that exiftool itself writes from fixtures (IPTC IIM, extended XMP,
HEIF items, MP4 uuid/udta/3GPP/keys boxes, PDF incremental updates, …), covers carriers that no
fixture or corpus file has.

Every disagreement is either fixed or listed in ``differential_decisions.py``: ``KNOWN_GAPS``
(aigc-check misses something: the readers' to-do list) or ``EXIFTOOL_DIFFERS`` (exiftool is
wrong, or what it shows is not a signal).  Both are keyed by (file, exiftool ``group:tag``, or
``aigc-check:<field>`` for an extra label).  The test fails on any disagreement not listed, and on
any listed pair that no longer disagrees, so the lists only shrink.  Without exiftool the tests
skip, saying so.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from conftest import FIXTURES, ROOT, corpus_rows
from differential_decisions import EXIFTOOL_DIFFERS, KNOWN_GAPS, LISTED_WITH, NOT_COMPARED

import aigc_check.checker as checker_module

CONFIG = Path(__file__).resolve().parent / "data" / "exiftool-tc260.config"
GENERATORS = ROOT / "aigc_check" / "data" / "generators.json"
EXIFTOOL_FLAGS = ("-j", "-G1", "-struct", "-a", "-u")  # no -b: binary values stay placeholders

TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
AI_SOURCE_TYPES = frozenset(
    {"trainedAlgorithmicMedia", "trainedAlgorithmicData", "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"}
)
AI_LABELS = frozenset({"1", "2", "3"})

# ---------------------------------------------------------------------------------------------------
# What exiftool shows
# ---------------------------------------------------------------------------------------------------

# Groups that are not the file's own metadata, or that aigc-check reads another way: exiftool's own
# bookkeeping, ICC profiles, maker notes, the C2PA manifest store (aigc-check reads it through the
# C2PA library; its digitalSourceType is compared as a signal below, not as fields).
SKIPPED_GROUPS = re.compile(
    r"^(?:System|File|ExifTool|Composite|ICC.*|CBOR|JSON|JUMBF|Jpeg2000|MakerNotes|Canon\w*|Nikon\w*|Sony\w*|"
    r"Samsung\w*|Apple|Olympus\w*|Panasonic\w*|Fujifilm|Pentax\w*|Track\d+|Meta|Font)$"
)
# Tag names that carry a generator's name or its parameters wherever they appear.
GENERATOR_TAGS = re.compile(
    r"^(?:Software|CreatorTool|Make|Model|Artist|Title|Parameters|Prompt|Workflow|Comments?|Description|"
    r"ImageDescription|UserComment|XP(?:Comment|Title|Subject|Keywords|Author)|Encoder|EncoderSettings|"
    r"EncodedBy|Vendor|Producer|Creator|Subject|Keywords|Annotation|UserDefinedText|SoftwareVersion|"
    r"UserData_\w+|WritingApp|MuxingApp|ToolName|ProcessingSoftware|EncodingSettings|SourceURL|Author|"
    r"Originator|Caption-Abstract|Headline|ObjectName|By-line|OriginatingProgram)(?:-[\w-]+)?$"
)
# The generator names a reader of these fields is expected to recognise; matched only in the
# fields that name software or describe the content (not titles, artists or keywords).
NAMING_TAGS = re.compile(
    r"^(?:Software|CreatorTool|Make|Model|Comments?|Description|ImageDescription|UserComment|XPComment|"
    r"Encoder|EncoderSettings|EncodedBy|Vendor|Producer|Creator|Annotation|SoftwareVersion|UserData_des|"
    r"WritingApp|MuxingApp|ToolName|ProcessingSoftware|EncodingSettings|Originator|Source|Credit)(?:-[\w-]+)?$"
)
GENERATOR_NAMES = re.compile(
    r"(?i)(?<![\w.])(?:stable[ -]?diffusion|midjourney|dall[·-]?e(?: ?[23])?|adobe firefly|comfyui|novelai|"
    r"invokeai|openai sora|sora|runway(?:ml)?(?: gen-?\d)?|kling|doubao|豆包|即梦|jimeng|dreamina|suno|udio|"
    r"elevenlabs|ideogram|leonardo\.ai|imagen|gemini|chatgpt|gpt-4o|gpt-image|hailuo|minimax|pika|vidu|"
    r"pixverse|luma ai|google veo|grok|draw things|fooocus|automatic1111|sd\.next|swarmui|civitai|seedream|"
    r"seedance|hunyuan|wanxiang|tongyi|ernie|wenxin|black forest labs)(?![\w])"
)
# PNG tags that come from the image header and palette chunks, not from text chunks.
PNG_STRUCTURE = frozenset(
    re.findall(
        r"\w+",
        "ImageWidth ImageHeight BitDepth ColorType Compression Filter Interlace Gamma WhitePointX WhitePointY "
        "RedX RedY GreenX GreenY BlueX BlueY BackgroundColor Palette Transparency SRGBRendering ProfileName "
        "ModifyDate PixelsPerUnitX PixelsPerUnitY PixelUnits SignificantBits ImageOffset AnimationFrames "
        "AnimationPlays",
    )
)
BINARY = re.compile(r"^\(Binary data \d+ bytes")


@dataclass(frozen=True)
class Seen:
    """One value exiftool reports that aigc-check must also have."""

    kind: str  # label | source-type | credit | generator | c2pa-source-type
    tag: str  # exiftool group:tag (with "#n" for the n-th duplicate)
    value: Any


def run_exiftool(exiftool: str, paths: list[Path]) -> dict[Path, list[tuple[str, Any]]]:
    """One exiftool process for all ``paths``: each file's (group:tag, value) pairs, duplicates kept."""
    run = subprocess.run(
        [exiftool, "-config", str(CONFIG), *EXIFTOOL_FLAGS, "-charset", "filename=utf8", "-@", "-"],
        input="\n".join(str(p) for p in paths),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert run.stdout.strip(), f"exiftool printed nothing: {run.stderr[-2000:]}"
    records = json.loads(run.stdout, object_pairs_hook=list)
    out: dict[Path, list[tuple[str, Any]]] = {}
    for pairs in records:
        source = next(v for k, v in pairs if k == "SourceFile")
        out[Path(source).resolve()] = [(k, _unpair(v)) for k, v in pairs if k != "SourceFile"]
    return out


def _unpair(value: Any) -> Any:
    """``object_pairs_hook=list`` turned nested objects into pair lists too: make them dicts again."""
    if isinstance(value, list):
        if value and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in value):
            return {k: _unpair(v) for k, v in value}
        return [_unpair(v) for v in value]
    return value


def seen_values(pairs: list[tuple[str, Any]]) -> list[Seen]:
    """The tags of one file that the comparison covers."""
    out: list[Seen] = []
    count: dict[str, int] = {}
    for key, value in pairs:
        count[key] = count.get(key, 0) + 1
        tag = key if count[key] == 1 else f"{key}#{count[key]}"
        group, _, name = key.partition(":")
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if group == "CBOR" and name == "Actions":
            for term in re.findall(r"digitalsourcetype/(\w+)", text):
                if term in AI_SOURCE_TYPES:
                    out.append(Seen("c2pa-source-type", tag, term))
            continue
        if group in ("System", "File", "ExifTool", "Composite") and key != "File:Comment":
            continue
        if isinstance(value, str) and BINARY.match(value):
            continue
        if key == "XMP-xmpMM:History" and isinstance(value, list):  # each step's software agent
            agents = [e["SoftwareAgent"] for e in value if isinstance(e, dict) and e.get("SoftwareAgent")]
            out += [Seen("generator", f"{tag}/SoftwareAgent#{i}", a) for i, a in enumerate(agents, 1)]
            continue
        if name.upper().endswith("AIGC") or group == "XMP-TC260" or looks_like_label(text):
            out.append(Seen("label", tag, value))
        elif name == "DigitalSourceType":
            out.append(Seen("source-type", tag, value))
        elif name in ("Credit", "Source") and (group.startswith("XMP") or group == "IPTC"):
            out.append(Seen("credit", tag, value))
        elif SKIPPED_GROUPS.match(group) and key != "File:Comment":
            continue
        elif GENERATOR_TAGS.match(name) or (group == "PNG" and name not in PNG_STRUCTURE):
            out.append(Seen("generator", tag, value))
    return out


def looks_like_label(text: str) -> bool:
    return ('"Label"' in text and ("ContentProducer" in text or "AIGC" in text)) or "Label&quot;" in text


def labels_in(text: str) -> list[dict]:
    """Every Annex E object in ``text`` (bare, wrapped in ``{"AIGC": …}``, XML-escaped, or inside a
    larger value such as an XMP packet or ID3's "(AIGC) …"), seven keys or not."""
    if "&quot;" in text or "&#" in text:
        text = html.unescape(text)
    if '"Label"' not in text:
        return []
    decoder = json.JSONDecoder()
    found: dict[str, dict] = {}
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("AIGC"), dict):
            obj = obj["AIGC"]
        if isinstance(obj, dict) and "Label" in obj:
            found[json.dumps(obj, sort_keys=True)] = obj
    return list(found.values())


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return " ".join(as_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)


def norm(value: Any) -> str:
    return " ".join(as_text(value).split()).casefold()


def user_defined(tag: str, value: Any) -> Any:
    """ID3 TXXX as exiftool prints it, ``(description) value``: the value alone."""
    if tag.split(":", 1)[1].startswith("UserDefinedText") and isinstance(value, str):
        m = re.match(r"^\((.*?)\) (.*)$", value, re.S)
        if m:
            return m.group(2)
    return value


# ---------------------------------------------------------------------------------------------------
# exiftool's names in aigc-check's terms, and aigc-check's generator fingerprints on exiftool's values
# ---------------------------------------------------------------------------------------------------

XMP_PREFIXES = {"iptcExt": "Iptc4xmpExt", "iptcCore": "Iptc4xmpCore"}  # exiftool group -> usual prefix
NATIVE_NAMES = {  # aigc-check field family -> exiftool tag name -> the container's own names for it
    "id3": {
        "Comment": ["COMM"],
        "Title": ["TIT2"],
        "Artist": ["TPE1"],
        "Album": ["TALB"],
        "EncoderSettings": ["TSSE"],
        "EncodedBy": ["TENC"],
        "SourceURL": ["WOAS"],
    },
    "mp4": {
        "Encoder": ["©too", "encoder", "©enc"],
        "Comment": ["©cmt", "comment"],
        "Description": ["desc", "©des", "description"],
        "UserData_des": ["©des"],
        "Title": ["©nam"],
        "Artist": ["©ART"],
        "SoftwareVersion": ["©swr"],
        "Software": ["©swr", "software", "com.apple.quicktime.software"],
        "Make": ["com.apple.quicktime.make"],
        "Model": ["com.apple.quicktime.model"],
    },
    "riff": {
        "Software": ["ISFT"],
        "Comment": ["ICMT"],
        "Title": ["INAM"],
        "Artist": ["IART"],
        "Subject": ["ISBJ"],
        "Keywords": ["IKEY"],
        "Product": ["IPRD"],
        "Genre": ["IGNR"],
        "Originator": ["bext:Originator"],
    },
    "aiff": {"Annotation": ["ANNO"], "Comment": ["COMT"], "Title": ["NAME"], "Name": ["NAME"], "Author": ["AUTH"]},
}
IIM_AS_XMP = {  # IPTC IIM dataset -> the XMP property the MWG guidelines equate it with
    "Caption-Abstract": "dc:description",
    "ObjectName": "dc:title",
    "Keywords": "dc:subject",
    "By-line": "dc:creator",
    "Credit": "photoshop:Credit",
    "Source": "photoshop:Source",
    "OriginatingProgram": "xmp:CreatorTool",
}
FAMILIES = [  # exiftool group (regex) -> aigc-check field family
    (r"IFD\d|ExifIFD|GPS|SubIFD\d*|InteropIFD", "exif"),
    (r"XMP-.*", "xmp"),
    (r"PNG", "text"),
    (r"File", "comment"),
    (r"ID3.*", "id3"),
    (r"ItemList|UserData|Keys|QuickTime", "mp4"),
    (r"RIFF", "riff"),
    (r"Vorbis", "vorbis"),
    (r"Matroska", "mkv"),
    (r"ASF", "asf"),
    (r"AIFF", "aiff"),
    (r"PDF", "pdf"),
    (r"IPTC\d*", "iptc"),
    (r"MPEG", "mpeg"),
]


def aigc_names(tag: str, value: Any) -> list[str]:
    """The aigc-check field names (``family/key``) an exiftool tag corresponds to."""
    group, _, name = tag.partition(":")
    name = re.sub(r"#\d+$", "", name)
    name = re.sub(r"-(?:und-)?[a-z]{2}(?:-[A-Z]{2})?$", "", name)  # QuickTime/XMP language suffixes
    family = next((f for g, f in FAMILIES if re.fullmatch(g, group)), "*")
    if family == "xmp":
        ns = group[4:]
        return [f"xmp/{XMP_PREFIXES.get(ns, ns)}:{name}"]
    if family == "comment":
        return ["comment/COM", "comment/Comment"]
    if family == "iptc":
        return [f"iptc/{name}"] + ([f"xmp/{IIM_AS_XMP[name]}"] if name in IIM_AS_XMP else [])
    if family == "id3" and name.startswith("UserDefinedText"):
        m = re.match(r"^\((.*?)\) ", as_text(value))
        return [f"id3/TXXX:{m.group(1) if m else ''}"]
    keys = [name, *NATIVE_NAMES.get(family, {}).get(name, [])]
    if family == "mp4" and group == "Keys":
        keys += [name.lower(), f"com.apple.quicktime.{name.lower()}"]
    if family in ("vorbis", "mkv"):
        keys += [name.lower(), name.upper()]
    if family == "asf":
        keys.append(f"WM/{name}")
    return [f"{family}/{k}" for k in keys]


def _loose(name: str) -> str:
    """A field name or glob with case and punctuation dropped: exiftool capitalises and strips PNG
    keywords (``date:create`` is ``Datecreate``), XMP properties (``dc:description``) and others."""
    family, _, key = name.partition("/")
    return family + "/" + re.sub(r"[^0-9a-z*?]", "", key.casefold())


@dataclass(frozen=True)
class Rule:
    generator: str
    conditions: tuple[tuple[tuple[str, ...], re.Pattern], ...]  # (loose globs, pattern)
    accepted: frozenset[str]  # the generator and those that supersede it (reported in its place)


def fingerprint_rules() -> list[Rule]:
    """aigc-check's ``generators.json`` rules whose every condition carries a pattern (presence-only
    conditions say nothing about a value exiftool shows), with their field globs made loose."""
    data = json.loads(GENERATORS.read_text(encoding="utf-8"))
    superseded_by: dict[str, set[str]] = {}
    for gen in data["generators"]:
        for old in gen.get("supersedes", []):
            superseded_by.setdefault(old, set()).add(gen["id"])

    def accepted(gen_id: str) -> frozenset[str]:
        out, todo = {gen_id}, [gen_id]
        while todo:
            for newer in superseded_by.get(todo.pop(), ()):
                if newer not in out:
                    out.add(newer)
                    todo.append(newer)
        return frozenset(out)

    rules = []
    for gen in data["generators"]:
        if gen.get("indicates") not in ("ai-generated", "ai-modified"):
            continue
        for rule in gen.get("rules", []):
            if not all(c.get("pattern") for c in rule["when"]):
                continue
            conditions = []
            for c in rule["when"]:
                globs = [c["field"]] if isinstance(c["field"], str) else c["field"]
                flags = (re.I if "i" in c.get("flags", "") else 0) | (re.S if "s" in c.get("flags", "") else 0)
                conditions.append((tuple(_loose(g) for g in globs), re.compile(c["pattern"], flags)))
            rules.append(Rule(gen["id"], tuple(conditions), accepted(gen["id"])))
    return rules


def generators_named(values: list[Seen], rules: list[Rule]) -> dict[str, list[tuple[str, frozenset[str] | None]]]:
    """The tags of one file whose value names a generator: tag -> [(what matched, the generator ids
    aigc-check may report for it, or None for any)].  A value matches a fingerprint when the tag
    corresponds to one of the rule's fields and the rule's pattern is found in it."""
    candidates = []
    for s in values:
        if s.kind in ("generator", "label", "credit"):
            value = user_defined(s.tag, s.value)
            names = [_loose(n) for n in aigc_names(s.tag, s.value)]
            candidates.append((s.tag, names, as_text(value)[:262144]))
    hits: dict[str, list[tuple[str, frozenset[str] | None]]] = {}

    def matching(globs: tuple[str, ...], pattern: re.Pattern) -> str | None:
        for tag, names, text in candidates:
            if any(fnmatchcase(n, g) for n in names for g in globs) and pattern.search(text):
                return tag
        return None

    for rule in rules:
        tags = [matching(globs, pattern) for globs, pattern in rule.conditions]
        if all(tags):
            hits.setdefault(str(tags[0]), []).append((f"generators.json rule of {rule.generator!r}", rule.accepted))
    for s in values:
        name = s.tag.split(":", 1)[1].split("#")[0]
        if s.kind in ("generator", "credit") and NAMING_TAGS.match(name):
            m = GENERATOR_NAMES.search(as_text(user_defined(s.tag, s.value)))
            if m and s.tag not in hits:
                hits[s.tag] = [(f"generator name {m.group()!r}", None)]
    return hits


# ---------------------------------------------------------------------------------------------------
# What aigc-check has
# ---------------------------------------------------------------------------------------------------


@dataclass
class AigcView:
    fields: list  # aigc_check.model.Field
    evidence: list  # aigc_check.model.Evidence

    def haystack(self) -> list[str]:
        """Every field value, normalised; not the C2PA manifest store (read through the C2PA
        library, compared as a signal), whose JSON would hold any value at all."""
        fields = [f for f in self.fields if f.family != "c2pa"]
        out = [norm(f.value) for f in fields]
        return out + [norm(v) for f in fields if isinstance(f.value, (list, tuple)) for v in f.value]

    def labels(self) -> list[dict]:
        return [lab for f in self.fields for lab in labels_in(as_text(f.value))]

    def near(self, tag: str, value: Any) -> str:
        """What aigc-check has where exiftool's tag would be: the same-named fields, or its field list."""
        expected = aigc_names(tag, value)
        loose = {_loose(n) for n in expected}
        same = [f for f in self.fields if _loose(f"{f.family}/{f.key}") in loose]
        if same:
            return "; ".join(f"{f.family}/{f.key} = {clip(as_text(f.value), 60)!r}" for f in same[:3])
        names = sorted({f"{f.family}/{f.key}" for f in self.fields})
        listed = ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "")
        return f"no {' or '.join(expected[:3])} ({'fields: ' + listed if names else 'no fields at all'})"

    def signals(self) -> str:
        shown = {f"{e.source}:{e.indicates}" + (f":{e.generator}" if e.generator else "") for e in self.evidence}
        return ", ".join(sorted(shown)) or "no evidence"


def run_aigc_check(checker, paths: Iterable[Path]) -> dict[Path, AigcView]:
    """Each file through ``Checker.check``; the fields the readers produced are taken on their way to
    the signatures (``checker.collect``), so nothing of the pipeline is re-implemented here."""
    out: dict[Path, AigcView] = {}
    captured: list = []
    original = checker_module.collect

    def spy(view):
        captured[:] = list(view.fields)
        return original(view)

    with mock.patch.object(checker_module, "collect", spy):
        for path in paths:
            captured.clear()
            result = checker.check(path)
            out[path.resolve()] = AigcView(list(captured), list(result.evidence))
    return out


# ---------------------------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    file: str
    tag: str
    aspect: str  # field | signal | extra label
    exiftool: str
    aigc_check: str

    def line(self) -> str:
        shown = clip(self.exiftool.replace("\n", "\\n"), 110)
        theirs = clip(self.aigc_check.replace("\n", "\\n"), 400)
        return f"{self.file}  {self.tag}  [{self.aspect}]  exiftool: {shown}  |  aigc-check: {theirs}"


def compare(name: str, pairs: list[tuple[str, Any]], aigc: AigcView, rules) -> Iterator[Disagreement]:
    values = seen_values(pairs)
    haystack = set(aigc.haystack())
    aigc_labels = [json.dumps(lab, sort_keys=True) for lab in aigc.labels()]

    def has_value(value: Any) -> bool:
        wanted = norm(value)
        return not wanted or wanted in haystack

    for s in values:
        if s.kind == "c2pa-source-type":
            continue
        value = user_defined(s.tag, s.value)
        text = as_text(value)
        if s.kind == "label" and labels_in(text):
            missing = [lab for lab in labels_in(text) if json.dumps(lab, sort_keys=True) not in aigc_labels]
            if missing:
                yield Disagreement(
                    name, s.tag, "field", text, f"no field holds this label; {aigc.near(s.tag, s.value)}"
                )
        elif isinstance(value, list):
            absent = [v for v in value if not has_value(v)]
            if absent:
                yield Disagreement(name, s.tag, "field", text, f"lacks {absent!r}; {aigc.near(s.tag, s.value)}")
        elif not has_value(value):
            yield Disagreement(name, s.tag, "field", text, f"value not found; {aigc.near(s.tag, s.value)}")

    def evidence(source: str, test=lambda e: True) -> bool:
        return any(
            e.source == source and str(e.indicates) in ("ai-generated", "ai-modified") and test(e)
            for e in aigc.evidence
        )

    for s in values:
        if s.kind == "label":
            for lab in labels_in(as_text(user_defined(s.tag, s.value))):
                label = lab.get("Label")
                if (
                    isinstance(label, str)
                    and label in AI_LABELS
                    and not evidence("gb45438", lambda e, label=label: e.aigc_label == label)
                ):
                    yield Disagreement(name, s.tag, "signal", f"GB 45438 Label {label}", aigc.signals())
        elif s.kind == "source-type":
            term = as_text(s.value).rstrip("/").rsplit("/", 1)[-1]
            if term in AI_SOURCE_TYPES and not evidence("iptc"):
                yield Disagreement(name, s.tag, "signal", f"DigitalSourceType {term}", aigc.signals())
        elif s.kind == "c2pa-source-type" and not evidence("c2pa"):
            yield Disagreement(name, s.tag, "signal", f"C2PA action digitalSourceType {s.value}", aigc.signals())
    for tag, matches in generators_named(values, rules).items():
        missed = [
            why
            for why, ids in matches
            if not evidence("generator", lambda e, ids=ids: ids is None or e.generator in ids)
        ]
        if missed:
            yield Disagreement(name, tag, "signal", "; ".join(missed), aigc.signals())

    # The other way, for labels alone: a GB 45438 label aigc-check reports must be one exiftool shows
    # (a label found where there is none is a decoding bug).
    shown = [user_defined(s.tag, s.value) for s in values if s.kind == "label"]
    shown_labels = {json.dumps(lab, sort_keys=True) for v in shown for lab in labels_in(as_text(v))}
    shown_text = {norm(v) for v in shown}
    for key in sorted({e.key for e in aigc.evidence if e.source == "gb45438"}):
        for f in (f for f in aigc.fields if f"{f.family}/{f.key}" == key):
            text = as_text(f.value)
            parsed = {json.dumps(lab, sort_keys=True) for lab in labels_in(text)}
            if not (parsed & shown_labels or norm(text) in shown_text):
                yield Disagreement(name, f"aigc-check:{key}", "extra label", "shows no such label", clip(text, 110))


def check_family(family: str, files: dict[str, Path], exiftool: str, checker) -> None:
    with ThreadPoolExecutor(1) as pool:  # exiftool runs while aigc-check does
        exiftool_run = pool.submit(run_exiftool, exiftool, list(files.values()))
        aigc = run_aigc_check(checker, files.values())
        seen = exiftool_run.result()
    rules = fingerprint_rules()
    found: list[Disagreement] = []
    for name, path in sorted(files.items()):
        found += compare(name, seen.get(path.resolve(), []), aigc[path.resolve()], rules)
    mine = {k for k in {**KNOWN_GAPS, **EXIFTOOL_DIFFERS} if k[0] in files}
    new = [d for d in found if (d.file, d.tag) not in mine]
    stale = sorted(mine - {(d.file, d.tag) for d in found})
    problems = []
    if new:
        problems.append(
            f"{len(new)} disagreement(s) between exiftool and aigc-check on the {family}, neither fixed nor listed "
            "in KNOWN_GAPS / EXIFTOOL_DIFFERS (file  exiftool tag  [aspect]  exiftool: …  |  aigc-check: …):"
        )
        problems += [d.line() for d in new]
    if stale:
        problems.append(f"{len(stale)} listed pair(s) no longer disagree: remove them from the lists:")
        problems += [f"{f}  {t}  ({KNOWN_GAPS.get((f, t)) or EXIFTOOL_DIFFERS[(f, t)]})" for f, t in stale]
    if problems:
        version = subprocess.run([exiftool, "-ver"], capture_output=True, text=True, check=False).stdout.strip()
        if version != LISTED_WITH:
            problems.append(f"(the lists were made with exiftool {LISTED_WITH}; this is exiftool {version})")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------------
# Probe files: carriers no fixture or corpus file exercises, written by exiftool itself (it writes
# JPEG, TIFF, PNG, HEIF/AVIF, MP4/MOV and PDF; not WebP with -o, nor ID3, RIFF, Vorbis or Matroska)
# ---------------------------------------------------------------------------------------------------

PROBE_LABEL = json.dumps(
    {
        "Label": "1",
        "ContentProducer": "001191110102MACQD9K64010000",
        "ProduceID": "probe-0001",
        "ReservedCode1": "",
        "ContentPropagator": "",
        "PropagateID": "",
        "ReservedCode2": "",
    },
    separators=(",", ":"),
)
# A label too big for one JPEG APP1 segment: exiftool moves it to the extended XMP.
PROBE_BIG_LABEL = PROBE_LABEL.replace('"ReservedCode1":""', '"ReservedCode1":"' + "QUJD" * 18000 + '"')
PROBE_A1111 = (
    "灯塔, a lighthouse on a cliff at dusk, oil painting\nNegative prompt: blurry, lowres\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 64x64, Model: probe"
)
PROBE_MIDJOURNEY = "a lighthouse --ar 3:2 Job ID: 0f3b2c1a-1234-4abc-8def-0123456789ab"
AI_DST = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

PROBES: dict[str, tuple[str, list[str]]] = {  # probe -> (fixture it starts from, exiftool arguments)
    # IPTC IIM (MWG: Credit = photoshop:Credit, Caption-Abstract = dc:description)
    "iim-credit.jpg": ("plain.jpg", ["-IPTC:Credit=Made with Google AI", "-IPTC:Source=Google"]),
    "iim-caption.tif": ("plain.tif", [f"-IPTC:Caption-Abstract={PROBE_MIDJOURNEY}"]),
    # XMP forms
    "xmp-extended.jpg": ("plain.jpg", [f"-XMP-TC260:AIGC={PROBE_BIG_LABEL}"]),
    "xmp-lang-alt.jpg": (
        "plain.jpg",
        ["-XMP-dc:Description=a lighthouse", f"-XMP-dc:Description-de={PROBE_MIDJOURNEY}"],
    ),
    "xmp-creatortool.jpg": ("plain.jpg", ["-XMP-xmp:CreatorTool=Adobe Firefly"]),
    # EXIF and PNG text
    "exif-xpcomment.jpg": ("plain.jpg", ["-EXIF:XPComment=Made with Midjourney"]),
    "png-exif.png": ("plain.png", [f"-EXIF:UserComment={PROBE_A1111}"]),
    "png-itxt-compressed.png": ("plain.png", ["-z", f"-PNG:Parameters={PROBE_A1111 * 8}"]),
    # BMFF / HEIF
    "heif-exif.avif": ("gb-avif-xmp.avif", ["-EXIF:Software=Draw Things 1.0"]),
    "heif-xmp.heif": ("c2pa-ai-created.heif", [f"-XMP-TC260:AIGC={PROBE_LABEL}"]),
    "mp4-uuid-xmp.mp4": (
        "av-plain.mp4",
        [f"-XMP-TC260:AIGC={PROBE_LABEL}", f"-XMP-iptcExt:DigitalSourceType={AI_DST}"],
    ),
    "mov-udta-xmp.mov": ("av-plain.mov", [f"-XMP-TC260:AIGC={PROBE_LABEL}"]),
    "mp4-3gpp-dscp.mp4": ("av-plain.mp4", ["-UserData:Description=Generated with OpenAI Sora"]),
    "m4a-ilst-des.m4a": ("av-plain.m4a", ["-ItemList:Description=Generated with OpenAI Sora"]),
    "mov-keys-description.mov": ("av-plain.mov", ["-Keys:Description=Generated with OpenAI Sora"]),
    # PDF (exiftool writes an incremental update)
    "pdf-info-update.pdf": ("doc-plain.pdf", [f"-PDF:AIGC={PROBE_LABEL}"]),
    "pdf-xmp-update.pdf": ("doc-plain.pdf", [f"-XMP-TC260:AIGC={PROBE_LABEL}"]),
    "pdf-creator.pdf": ("doc-plain.pdf", ["-PDF:Creator=Adobe Firefly"]),
}


def write_probes(exiftool: str, folder: Path) -> dict[str, Path]:
    """All probes in one exiftool process (one ``-execute`` per probe)."""
    args: list[str] = []
    for probe, (source, tags) in PROBES.items():
        args += ["-E", "-o", str(folder / probe), *tags, str(FIXTURES / source), "-execute"]
    argfile = folder / "write.args"  # one argument a line; with -E a value's newline is written "&#10;"
    argfile.write_text("".join(a.replace("\n", "&#10;") + "\n" for a in args), encoding="utf-8")
    run = subprocess.run(
        [exiftool, "-config", str(CONFIG), "-@", str(argfile)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    missing = [p for p in PROBES if not (folder / p).is_file()]
    assert not missing, f"exiftool did not write {missing}: {run.stderr[-2000:]}"
    return {f"probe:{p}": folder / p for p in PROBES}


# ---------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exiftool() -> str:
    path = shutil.which("exiftool")
    if not path:
        pytest.skip("exiftool is not installed (Debian: libimage-exiftool-perl): the differential test needs it")
    return path


def test_config_teaches_exiftool_the_tc260_namespace(exiftool):
    """Whatever prefix a file binds the TC260 namespace to, exiftool reports it as XMP-TC260:AIGC."""
    names = ["gb-jpeg-xmp-element.jpg", "gb-jpeg-xmp-lowercase-prefix.jpg", "gb-jpeg-xmp-ns1-prefix.jpg"]
    seen = run_exiftool(exiftool, [FIXTURES / n for n in names])
    for n in names:
        tags = dict(seen[(FIXTURES / n).resolve()])
        assert labels_in(tags.get("XMP-TC260:AIGC", "")), f"{n}: {sorted(tags)}"
    assert TC260_NS in CONFIG.read_text(encoding="utf-8")


def test_labels_in_reads_every_serialisation():
    bare = '{"Label":"1","ContentProducer":"x","ProduceID":"y"}'
    assert labels_in(bare) == labels_in('{"AIGC":' + bare + "}") == [json.loads(bare)]
    assert labels_in(html.escape(f"<TC260:AIGC>{bare}</TC260:AIGC>")) == [json.loads(bare)]
    assert labels_in("(AIGC) " + bare) == [json.loads(bare)]
    assert labels_in('{"Label": broken') == []


def test_fixtures_agree_with_exiftool(exiftool, checker):
    files = {p.name: p for p in sorted(FIXTURES.iterdir()) if p.is_file()}
    check_family("fixtures", files, exiftool, checker)


def test_exiftool_written_probes_agree_with_exiftool(exiftool, checker, tmp_path):
    check_family("probe files", write_probes(exiftool, tmp_path), exiftool, checker)


def test_corpus_agrees_with_exiftool(exiftool, corpus, checker):
    files = {row["file"]: corpus / row["file"] for row in corpus_rows() if row["file"] not in NOT_COMPARED}
    check_family("corpus", files, exiftool, checker)
