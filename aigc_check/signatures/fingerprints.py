"""Generator fingerprints: data-driven matching of metadata fields.

``aigc_check/data/generators.json`` holds one entry per generator.  Adding a
generator is a data edit.  Entry shape::

    {
      "id": "forge",                      # stable id reported as ``generator``
      "name": "Stable Diffusion WebUI Forge",
      "display_name": "SD WebUI Forge",   # the short name reports show (default: name)
      "aliases": ["..."],                 # other spellings counted under the id (豆包 for doubao)
      "media": ["image"],                 # informational
      "indicates": "ai-generated",        # or "ai-modified"
      "strength": "strong",               # or "weak" (recorded, never decides alone)
      "supersedes": ["a1111"],            # ids dropped when this one matches
      "rules": [                          # any rule may match ...
        {"when": [                        # ... when all its conditions match
          {"field": ["text/parameters", "exif/UserComment"],   # fnmatch globs on family/key
           "pattern": "Version: f\\d",    # regex searched in the value (optional: presence)
           "flags": "is"}                 # i = ignore case, s = dot matches newline
        ]}
      ],
      "c2pa_names": ["(?i)^Adobe Firefly"],   # regexes on C2PA softwareAgent / claim generator
      "aigc_producers": ["MACQD9K640"],      # regexes on GB 45438 ContentProducer
      "modified_when": ["a1111-img2img"],  # edit traces (below) that make a match AI-modified
      "description": "what the matched data is"
    }

Two top-level tables keep the entries short:

- ``field_groups``: named lists of field globs, used in a condition as ``"@name"`` (``"field":
  ["text/parameters", "@free-text"]``).  ``free-text`` lists the comment and description fields of
  every container (the fields ``ffmpeg -metadata comment=``, exiftool and editors write); the GB
  45438 label signature looks for labels in the same group.  A user file may use the shipped groups
  and add its own (a group of the same name replaces the shipped one).
- ``edit_traces``: named patterns that show a generator was given an existing image to change
  (img2img, inpaint, outpaint).  A generator lists the ones that apply to its format in
  ``modified_when``; when one is found in the field that matched, the evidence says
  ``ai-modified`` instead of the generator's ``indicates``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import translate
from functools import cached_property, lru_cache
from pathlib import Path

from ..data import load
from ..errors import DataFileError
from ..model import Evidence, EvidenceKind, Field, Indicates, Strength
from . import SignalView, clip
from .prefilter import Prefilter, prefilter

MAX_MATCH_TEXT = 256 * 1024  # regexes see at most this much of one value
MAX_CACHED_NAMES = 4096
MAX_CACHED_PLANS = 1024  # distinct sets of field names
# The names all cached plans hold, together: a file may have 20,000 fields, so the count of plans
# alone does not bound the cache's memory.
MAX_CACHED_PLAN_NAMES = 64 * 1024
MAX_LOOKUP_TEXT = 1024  # characters of the names one cached generator lookup may hold


_UNSET = object()  # a condition's prefilter not worked out yet


@dataclass(frozen=True)
class Condition:
    globs: tuple[str, ...]
    source: str | None  # the regular expression a value must match (None: any value)
    flags: int = 0

    @cached_property
    def pattern(self) -> re.Pattern | None:
        """``source`` compiled, on first use: a check meets few of the shipped table's conditions,
        and compiling all of them was a fifth of a ``Checker``'s start (the shipped patterns are
        compiled by the tests; a user's fingerprint file has its own compiled when it loads, so
        a bad pattern fails there, ``parse_generators``).  Cached in the instance, so later uses
        are a plain attribute read."""
        return re.compile(self.source, self.flags) if self.source is not None else None

    @property
    def prefilter(self) -> Prefilter | None:
        """The literals one of which every match of ``pattern`` contains (``prefilter.py``): a value
        without any is ruled out by ``in`` tests, without running the regex over it.  Worked out on
        the first value this condition tests (most never test one: the table's plan skips them)."""
        if "_prefilter" not in self.__dict__:
            object.__setattr__(self, "_prefilter", prefilter(self.pattern) if self.pattern is not None else None)
        found: Prefilter | None = self.__dict__["_prefilter"]
        return found

    @property
    def names(self) -> re.Pattern:
        # One compiled regex for all globs: a raw camera file has hundreds of fields.
        compiled = self.__dict__.get("_names")
        if compiled is None:
            compiled = re.compile("|".join(f"(?:{translate(g)})" for g in self.globs))
            object.__setattr__(self, "_names", compiled)
        return compiled

    def name_matches(self, name: str) -> bool:
        cache = self.__dict__.setdefault("_name_cache", {})
        hit = cache.get(name)
        if hit is None:
            hit = self.names.match(name) is not None
            if len(cache) < MAX_CACHED_NAMES:  # names come from files: keep the cache bounded
                cache[name] = hit
        return hit

    def value_matches(self, value: object) -> bool:
        """Whether a field's value satisfies this condition (any value when there is no pattern)."""
        pattern = self.pattern
        if pattern is None:
            return True
        # Only text is matched: numeric tags (strip offsets of a raw file) can be huge tuples.
        if not isinstance(value, str):
            return False
        text = value if len(value) <= MAX_MATCH_TEXT else value[:MAX_MATCH_TEXT]
        # The prefilter as the property keeps it, read without the property's call once it is made.
        literals = self.__dict__.get("_prefilter", _UNSET)
        if literals is _UNSET:
            literals = self.prefilter
        if literals is not None and not literals.may_match(text):
            return False
        return pattern.search(text) is not None

    def first_match(self, fields: FieldIndex, names: Sequence[str] | None = None) -> Field | None:
        """The earliest field (in file order) whose name and value match.  ``names`` are the file's
        field names this condition accepts, when the caller has worked them out (the table does,
        once per set of names, from one index of all globs); otherwise each name is tested here."""
        best: int | None = None
        candidates = names if names is not None else [n for n in fields.by_name if self.name_matches(n)]
        for name in candidates:
            for i in fields.by_name[name]:
                if best is not None and i >= best:
                    break
                if self.value_matches(fields.fields[i].value):
                    best = i
                    break
        return fields.fields[best] if best is not None else None


class FieldIndex:
    """Fields grouped by name once per file, so each condition tests each distinct name once."""

    def __init__(self, fields: Sequence[Field]) -> None:
        self.fields = fields
        self.by_name: dict[str, list[int]] = {}
        for i, f in enumerate(fields):
            self.by_name.setdefault(f.name, []).append(i)


@dataclass(frozen=True)
class EditTrace:
    """A sign, in the field a generator matched, that an existing image was edited (img2img)."""

    id: str
    pattern: re.Pattern
    description: str

    def found(self, value: object) -> bool:
        return isinstance(value, str) and self.pattern.search(value[:MAX_MATCH_TEXT]) is not None


@dataclass(frozen=True)
class Generator:
    id: str
    name: str
    indicates: Indicates
    strength: Strength
    rules: tuple[tuple[Condition, ...], ...]
    supersedes: tuple[str, ...]
    c2pa_names: tuple[re.Pattern, ...]
    aigc_producers: tuple[re.Pattern, ...]
    description: str
    modified_when: tuple[EditTrace, ...] = ()
    # The name reports show for the id (``name`` when the entry gives none), and other spellings of
    # it (``豆包`` for ``doubao``): a summary counts every one of them under the id.
    display_name: str = ""
    aliases: tuple[str, ...] = ()

    def edit_in(self, hit: Field) -> EditTrace | None:
        """The first of this generator's edit traces found in the field that matched, if any."""
        for trace in self.modified_when:
            if trace.found(hit.value):
                return trace
        return None

    def match(self, fields: FieldIndex, names_for: Mapping[int, Sequence[str]] | None = None) -> Field | None:
        """The field that shows this generator (the first condition's match), or None.

        ``names_for`` maps the id of each condition some field name in the file satisfies to those
        names; a rule with any other condition cannot match and is skipped without looking at
        values.  Without it every condition tests every name."""
        rule_ids = self.__dict__.get("_rule_ids")
        if rule_ids is None:
            rule_ids = tuple(frozenset(id(c) for c in conditions) for conditions in self.rules)
            object.__setattr__(self, "_rule_ids", rule_ids)
        live = names_for.keys() if names_for is not None else None
        for conditions, ids in zip(self.rules, rule_ids):
            if live is not None and not ids <= live:
                continue
            first = None
            for i, condition in enumerate(conditions):  # stop at the first condition that fails
                hit = condition.first_match(fields, names_for[id(condition)] if names_for is not None else None)
                if hit is None:
                    break
                first = hit if i == 0 else first
            else:
                if first is not None:
                    return first
        return None


def _flags(text: str) -> int:
    return (re.I if "i" in text else 0) | (re.S if "s" in text else 0) | (re.M if "m" in text else 0)


def _compile(pattern: str, flags: str, where: str) -> re.Pattern:
    try:
        return re.compile(pattern, _flags(flags))
    except re.error as exc:
        raise DataFileError(f"{where}: bad regular expression {pattern!r}: {exc}") from exc


def parse_field_groups(data: dict, base: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, tuple[str, ...]]:
    """``field_groups`` of a fingerprint file: name -> field globs, added to ``base`` (the shipped groups)."""
    groups = dict(base or {})
    raw = data.get("field_groups", {})
    if not isinstance(raw, dict):
        raise DataFileError("field_groups must be an object of name -> list of field globs")
    for name, globs in raw.items():
        if name.startswith("_"):
            continue  # a comment
        if not isinstance(globs, list) or not all(isinstance(g, str) and not g.startswith("@") for g in globs):
            raise DataFileError(f"field_groups.{name} must be a list of field globs (no group references)")
        groups[name] = tuple(globs)
    return groups


def _globs(spec: object, groups: Mapping[str, tuple[str, ...]], where: str) -> tuple[str, ...]:
    items = [spec] if isinstance(spec, str) else spec
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise DataFileError(f"{where}: field must be a glob or a list of globs")
    out: list[str] = []
    for item in items:
        if item.startswith("@"):
            if item[1:] not in groups:
                raise DataFileError(f"{where}: unknown field group {item!r} (known: {', '.join(sorted(groups))})")
            out.extend(groups[item[1:]])
        else:
            out.append(item)
    return tuple(dict.fromkeys(out))


def parse_edit_traces(data: dict) -> dict[str, EditTrace]:
    raw = data.get("edit_traces", {})
    if not isinstance(raw, dict):
        raise DataFileError("edit_traces must be an object of name -> {pattern, flags, description}")
    traces = {}
    for name, entry in raw.items():
        if name.startswith("_"):
            continue
        where = f"edit_traces.{name}"
        try:
            traces[name] = EditTrace(
                name, _compile(entry["pattern"], entry.get("flags", ""), where), entry.get("description", "")
            )
        except (KeyError, TypeError) as exc:
            raise DataFileError(f"{where}: {exc}") from exc
    return traces


def _condition(spec: dict, groups: Mapping[str, tuple[str, ...]], where: str, compile_now: bool) -> Condition:
    globs = _globs(spec["field"], groups, where)
    if "pattern" not in spec:
        return Condition(globs, None)
    condition = Condition(globs, spec["pattern"], _flags(spec.get("flags", "")))
    if compile_now:  # the pattern's first use, now: a bad one is this file's error
        condition.__dict__["pattern"] = _compile(spec["pattern"], spec.get("flags", ""), where)
    return condition


def parse_generators(
    data: dict, base_groups: Mapping[str, tuple[str, ...]] | None = None, compile_now: bool = True
) -> tuple[Generator, ...]:
    """The generators of a fingerprint file.  ``compile_now``: compile the rules' patterns now (a
    user's file: a bad one fails the load), not on first use (the shipped table, which the tests
    compile whole)."""
    groups = parse_field_groups(data, base_groups)
    traces = parse_edit_traces(data)
    out = []
    seen = set()
    for i, entry in enumerate(data.get("generators", [])):
        where = f"generators[{i}] ({entry.get('id', '?')})"
        try:
            gid = entry["id"]
            if gid in seen:
                raise DataFileError(f"{where}: duplicate id")
            seen.add(gid)
            rules = tuple(
                tuple(_condition(c, groups, where, compile_now) for c in rule["when"])
                for rule in entry.get("rules", [])
            )
            unknown = [t for t in entry.get("modified_when", []) if t not in traces]
            if unknown:
                raise DataFileError(f"{where}: modified_when names unknown edit traces {unknown}")
            out.append(
                Generator(
                    id=gid,
                    name=entry["name"],
                    indicates=Indicates(entry.get("indicates", "ai-generated")),
                    strength=Strength(entry.get("strength", "strong")),
                    rules=rules,
                    supersedes=tuple(entry.get("supersedes", [])),
                    c2pa_names=tuple(_compile(p, "", where) for p in entry.get("c2pa_names", [])),
                    aigc_producers=tuple(_compile(p, "", where) for p in entry.get("aigc_producers", [])),
                    description=entry.get("description", ""),
                    modified_when=tuple(traces[t] for t in entry.get("modified_when", [])),
                    display_name=str(entry.get("display_name") or entry["name"]),
                    aliases=tuple(str(a) for a in entry.get("aliases", [])),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataFileError(f"{where}: {exc}") from exc
    return tuple(out)


_GLOB_SPECIALS = re.compile(r"[*?\[]")


def glob_matcher(glob: str) -> Callable[[str], bool]:
    """Whether a field name (``family/key``) matches ``glob``, as ``fnmatch.fnmatchcase`` says.
    Nearly every glob of the table is a plain name or a ``prefix*``: those are a comparison, so a
    checker does not compile a hundred regexes as it starts (10 ms of a one-file ``check``)."""
    head = _GLOB_SPECIALS.search(glob)
    if head is None:
        return glob.__eq__
    if head.start() == len(glob) - 1 and glob.endswith("*"):
        prefix = glob[:-1]
        return lambda name: name.startswith(prefix)
    pattern = re.compile(translate(glob))
    return lambda name: pattern.match(name) is not None


class FingerprintTable:
    """The generator fingerprints one ``Checker`` judges with: loaded once, when the checker is
    made, and handed to every signature module (``SignalView.fingerprints``).

    ``ids`` is what the classifier needs (a fingerprint id beats a raw producer or agent name);
    the lookups by C2PA name and by GB 45438 producer code, and the per-name condition cache of
    the field matcher, live here, so nothing in the per-file path reads a file or a global."""

    def __init__(
        self, generators: Sequence[Generator], field_groups: Mapping[str, tuple[str, ...]] | None = None
    ) -> None:
        self.generators = tuple(generators)
        self.ids = frozenset(g.id for g in self.generators)
        self._aliases = {a.casefold(): g.id for g in self.generators for a in (g.id, *g.aliases)}
        # Each id's display name, the first generator's of that id (a report row asks per file).
        self._display_names: dict[str, str] = {}
        for g in self.generators:
            self._display_names.setdefault(g.id, g.display_name or g.name)
        self.field_groups: dict[str, tuple[str, ...]] = dict(field_groups or {})
        self._with_rules = tuple(g for g in self.generators if g.rules)
        self._named: dict[str, frozenset[int]] = {}
        self._in_group: dict[tuple[str, str], bool] = {}
        self._plans: dict[frozenset[str], Plan] = {}
        self._looked_up: dict[tuple[str, tuple[str, ...]], Generator | None] = {}
        self._plan_names = 0  # names held by the cached plans' keys
        # Every distinct glob compiled once, with the conditions that use it: a new field name is
        # tested against each glob once (a hundred small patterns), not against every condition.
        by_glob: dict[str, set[int]] = {}
        for g in self._with_rules:
            for rule in g.rules:
                for c in rule:
                    for glob in c.globs:
                        by_glob.setdefault(glob, set()).add(id(c))
        for globs in self.field_groups.values():
            for glob in globs:
                by_glob.setdefault(glob, set())
        self._globs = tuple((glob_matcher(glob), glob, frozenset(ids)) for glob, ids in by_glob.items())
        self._glob_index = {glob: i for i, (_, glob, _) in enumerate(self._globs)}

    @classmethod
    def load(cls, path: str | None = None) -> FingerprintTable:
        """The shipped fingerprints (parsed once per process), or those of a user file (read now)."""
        if path is None:
            return _shipped()
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataFileError(f"generator file {path} could not be read: {exc}") from exc
        if not isinstance(data, dict):
            raise DataFileError(f"generator file {path}: the top level is not an object")
        shipped = _shipped().field_groups
        try:
            return cls(parse_generators(data, shipped), parse_field_groups(data, shipped))
        except DataFileError as exc:
            raise DataFileError(f"generator file {path}: {exc}") from exc

    def _lookup(self, names: Sequence[str], attr: str) -> Generator | None:
        """The first generator (table order) one of whose ``attr`` patterns finds one of ``names``.
        Cached per (attr, names): a C2PA file's agent, claim generator and signer names repeat
        across a scan's files, and each lookup is a search of every generator's patterns."""
        key = (attr, tuple(names))
        if key in self._looked_up:
            return self._looked_up[key]
        found = self._search(key[1], attr)
        # Names come from files: keep the cache bounded, in entries and in the text they hold.
        if len(self._looked_up) < MAX_CACHED_NAMES and sum(len(n) for n in key[1] if n) <= MAX_LOOKUP_TEXT:
            self._looked_up[key] = found
        return found

    def _search(self, names: Sequence[str], attr: str) -> Generator | None:
        for g in self.generators:
            for pattern in getattr(g, attr):
                if any(pattern.search(n) for n in names if n):
                    return g
        return None

    def for_c2pa(self, names: Sequence[str]) -> Generator | None:
        """The generator a C2PA software agent, claim generator or signer name belongs to."""
        return self._lookup(names, "c2pa_names")

    def for_producer(self, producer: str) -> Generator | None:
        """The generator a GB 45438 ``ContentProducer`` code belongs to."""
        return self._lookup([producer], "aigc_producers")

    def canonical(self, name: str | None) -> str | None:
        """The fingerprint id a reported generator name stands for: the id itself, an alias
        (compared case-folded), or a C2PA or producer name the table maps; None when it maps to no
        id (a manifest's own name, e.g. ``Test Diffusion``)."""
        if not name:
            return None
        if name in self.ids:
            return name
        found = self._aliases.get(name.casefold())
        if found is None:
            g = self.for_c2pa([name]) or self.for_producer(name)
            found = g.id if g else None
        return found

    def display_name(self, gid: str) -> str:
        """The name a report shows for a fingerprint id (the id itself when it is not one)."""
        return self._display_names.get(gid, gid)

    def in_group(self, group: str, name: str) -> bool:
        """Whether the field name ``name`` (``family/key``) is one of the group's globs (cached)."""
        key = (group, name)
        hit = self._in_group.get(key)
        if hit is None:
            hit = any(self._globs[self._glob_index[g]][0](name) for g in self.field_groups.get(group, ()))
            if len(self._in_group) < 8 * MAX_CACHED_NAMES:  # names come from files: keep the cache bounded
                self._in_group[key] = hit
        return hit

    def conditions_named(self, name: str) -> frozenset[int]:
        """Ids of the conditions whose field globs accept ``name`` (cached: names repeat across files)."""
        hit = self._named.get(name)
        if hit is None:
            hit = frozenset().union(*(ids for matches, _, ids in self._globs if ids and matches(name)))
            if len(self._named) < 8 * MAX_CACHED_NAMES:
                self._named[name] = hit
        return hit

    def plan(self, names: Iterable[str]) -> Plan:
        """The generators a file with these field names may show, each with the rules all of whose
        conditions some name satisfies, and for each condition those names.

        Worked out once per distinct set of names (a scan's files share a few dozen) and cached, so
        a file costs the value tests of the rules that can apply, a handful, not one test of each
        of the table's fifty-odd generators.  Generators and rules keep the table's order, so the
        first rule that matches and the order of matches are what ``Generator.match`` gives."""
        key = frozenset(names)
        cached = self._plans.get(key)
        if cached is not None:
            return cached
        names_for: dict[int, list[str]] = {}  # condition id -> the names it accepts
        for name in key:
            for condition_id in self.conditions_named(name):
                names_for.setdefault(condition_id, []).append(name)
        entries = []
        for g in self._with_rules:
            rules = tuple(
                tuple((c, tuple(names_for[id(c)])) for c in rule)
                for rule in g.rules
                if all(id(c) in names_for for c in rule)
            )
            if rules:
                entries.append((g, rules))
        plan = tuple(entries)
        # Name sets come from files: keep the cache bounded, in entries and in the names they hold.
        if len(self._plans) < MAX_CACHED_PLANS and self._plan_names + len(key) <= MAX_CACHED_PLAN_NAMES:
            self._plans[key] = plan
            self._plan_names += len(key)
        return plan

    def matches(self, fields: Sequence[Field]) -> list[tuple[Generator, Field]]:
        """(generator, the field that shows it) for each generator whose rules match, superseded ones
        dropped.  ``Generator.edit_in(field)`` says whether that field also shows an edit."""
        index = FieldIndex(fields)
        matched: list[tuple[Generator, Field]] = []
        for g, rules in self.plan(index.by_name):
            for rule in rules:
                hit = _rule_hit(rule, index)
                if hit is not None:
                    matched.append((g, hit))
                    break
        if not matched:
            return matched
        dropped = {s for g, _ in matched for s in g.supersedes}
        return [(g, hit) for g, hit in matched if g.id not in dropped]


# A rule as the plan holds it: each condition with the file's names it accepts.
PlannedRule = tuple[tuple[Condition, tuple[str, ...]], ...]
Plan = tuple[tuple[Generator, tuple[PlannedRule, ...]], ...]


def _rule_hit(rule: PlannedRule, index: FieldIndex) -> Field | None:
    """The first condition's field when every condition of the rule matches (stopping at the first
    that does not), else None."""
    first: Field | None = None
    for condition, names in rule:
        hit = condition.first_match(index, names)
        if hit is None:
            return None
        if first is None:
            first = hit
    return first


@lru_cache(maxsize=1)
def _shipped() -> FingerprintTable:
    data = load("generators.json")
    return FingerprintTable(parse_generators(data, compile_now=False), parse_field_groups(data))


def collect(view: SignalView) -> None:
    for g, hit in view.fingerprints.matches(view.fields):
        edit = g.edit_in(hit) if g.indicates is Indicates.AI_GENERATED else None
        explanation = f"{hit.name} matches the fingerprint of {g.name}" + (
            f": {g.description}" if g.description else ""
        )
        if edit is not None:
            explanation += f"; {edit.description}, so an existing image was edited with AI (AI-modified)"
        view.evidence.append(
            Evidence(
                source="stealth-pnginfo" if hit.family == "stealth" else "generator",
                location=hit.location,
                key=hit.name,
                value=clip(hit.value),
                indicates=Indicates.AI_MODIFIED if edit is not None else g.indicates,
                strength=g.strength,
                kind=EvidenceKind.TRACE,
                generator=g.id,
                explanation=explanation,
            )
        )
