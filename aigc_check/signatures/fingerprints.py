"""Generator fingerprints: data-driven matching of metadata fields.

``aigc_check/data/generators.json`` holds one entry per generator.  Adding a
generator is a data edit.  Entry shape::

    {
      "id": "forge",                      # stable id reported as ``generator``
      "name": "Stable Diffusion WebUI Forge",
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
      "description": "what the matched data is"
    }
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import translate
from functools import lru_cache
from pathlib import Path

from ..data import load
from ..errors import DataFileError
from ..model import Evidence, EvidenceKind, Field, Indicates, Strength
from . import SignalView, clip

MAX_MATCH_TEXT = 256 * 1024  # regexes see at most this much of one value
MAX_CACHED_NAMES = 4096


@dataclass(frozen=True)
class Condition:
    globs: tuple[str, ...]
    pattern: re.Pattern | None

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

    def first_match(self, fields: FieldIndex) -> Field | None:
        """The earliest field (in file order) whose name and value match."""
        best: int | None = None
        for name, positions in fields.by_name.items():
            if not self.name_matches(name):
                continue
            for i in positions:
                if best is not None and i >= best:
                    break
                f = fields.fields[i]
                # Only text is matched: numeric tags (strip offsets of a raw file) can be huge tuples.
                if self.pattern is None or (isinstance(f.value, str) and self.pattern.search(f.value[:MAX_MATCH_TEXT])):
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

    def match(self, fields: FieldIndex, live: frozenset | None = None) -> Field | None:
        """The field that shows this generator (the first condition's match), or None.

        ``live`` holds the ids of the conditions some field name in the file satisfies; a rule
        with any other condition cannot match and is skipped without looking at values."""
        rule_ids = self.__dict__.get("_rule_ids")
        if rule_ids is None:
            rule_ids = tuple(frozenset(id(c) for c in conditions) for conditions in self.rules)
            object.__setattr__(self, "_rule_ids", rule_ids)
        for conditions, ids in zip(self.rules, rule_ids):
            if live is not None and not ids <= live:
                continue
            first = None
            for i, condition in enumerate(conditions):  # stop at the first condition that fails
                hit = condition.first_match(fields)
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


def parse_generators(data: dict) -> tuple[Generator, ...]:
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
                tuple(
                    Condition(
                        tuple([c["field"]] if isinstance(c["field"], str) else c["field"]),
                        _compile(c["pattern"], c.get("flags", ""), where) if "pattern" in c else None,
                    )
                    for c in rule["when"]
                )
                for rule in entry.get("rules", [])
            )
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
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataFileError(f"{where}: {exc}") from exc
    return tuple(out)


class FingerprintTable:
    """The generator fingerprints one ``Checker`` judges with: loaded once, when the checker is
    made, and handed to every signature module (``SignalView.fingerprints``).

    ``ids`` is what the classifier needs (a fingerprint id beats a raw producer or agent name);
    the lookups by C2PA name and by GB 45438 producer code, and the per-name condition cache of
    the field matcher, live here, so nothing in the per-file path reads a file or a global."""

    def __init__(self, generators: Sequence[Generator]) -> None:
        self.generators = tuple(generators)
        self.ids = frozenset(g.id for g in self.generators)
        self._with_rules = tuple(g for g in self.generators if g.rules)
        self._named: dict[str, frozenset[int]] = {}

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
        return cls(parse_generators(data))

    def _lookup(self, names: Sequence[str], attr: str) -> Generator | None:
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

    def conditions_named(self, name: str) -> frozenset[int]:
        """Ids of the conditions whose field globs accept ``name`` (cached: names repeat across files)."""
        hit = self._named.get(name)
        if hit is None:
            hit = frozenset(id(c) for g in self._with_rules for rule in g.rules for c in rule if c.name_matches(name))
            if len(self._named) < 8 * MAX_CACHED_NAMES:
                self._named[name] = hit
        return hit

    def matches(self, fields: Sequence[Field]) -> list[tuple[Generator, Field]]:
        """(generator, the field that shows it) for each generator whose rules match, superseded ones dropped."""
        index = FieldIndex(fields)
        live = frozenset().union(*(self.conditions_named(name) for name in index.by_name))
        matched: list[tuple[Generator, Field]] = []
        for g in self._with_rules:
            hit = g.match(index, live)
            if hit is not None:
                matched.append((g, hit))
        dropped = {s for g, _ in matched for s in g.supersedes}
        return [(g, hit) for g, hit in matched if g.id not in dropped]


@lru_cache(maxsize=1)
def _shipped() -> FingerprintTable:
    return FingerprintTable(parse_generators(load("generators.json")))


def collect(view: SignalView) -> None:
    for g, hit in view.fingerprints.matches(view.fields):
        view.evidence.append(
            Evidence(
                source="stealth-pnginfo" if hit.family == "stealth" else "generator",
                location=hit.location,
                key=hit.name,
                value=clip(hit.value),
                indicates=g.indicates,
                strength=g.strength,
                kind=EvidenceKind.TRACE,
                generator=g.id,
                explanation=f"{hit.name} matches the fingerprint of {g.name}"
                + (f": {g.description}" if g.description else ""),
            )
        )
