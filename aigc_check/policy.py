"""Marking rules as data: status + certainty + declaration -> verdict, label, action.

A policy is a JSON file (shipped: ``cn``, ``eu``; or a user's path).  Nothing
here is specific to one jurisdiction: adding a rule set is a data edit.

A policy declares the languages it speaks (``languages``, in the order a
reader should see them) and gives every text a person reads in each of them:
the verdict and status words, the label texts, the advice.  The contract's one
``advice`` string is in ``advice_language``; the renderers (text report, scan
report, service page) show every declared language.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cached_property, lru_cache
from typing import Any

from . import policy_packs
from .errors import PolicyError
from .model import Classification, Decision, Declared, Disclosure, Finding, Status, Verdict
from .policy_accounts import validate_accounts

VERDICTS = tuple(v.value for v in Verdict)
STATUSES = tuple(s.value for s in Status)
REQUIRED = (
    "id",
    "languages",
    "ai_statuses",
    "verdicts",
    "verdict_text",
    "status_text",
    "label_rules",
    "label_text",
    "measures",
    "measure_order",
    "advice",
)
OPTIONAL = (
    "name",
    "references",
    "advice_language",
    "aigc_label_values",
    "labelled_measure",
    "finding_measures",
    "finding_advice",
    # Advice (and measures) per cause: an error or finding code whose own words replace the verdict's
    # template when the verdict is one that speaks of the file as a whole (unreadable, compliant).
    "cause_advice",
    "cause_measures",
    "label_clause",
    "repeat_offenders",
    # A rule pack's own sections (policy_packs.py): what it extends and documents about itself.
    "extends",
    "kind",
    "date",
    "sources",
    "text_sources",
    "obligations",
    "declaration_text",
    "disclosure_rules",
    "accounts",
    "marking",
)
MARK_TIERS = ("1", "2", "3")  # GB 45438 Annex E Label values
CONDITIONS = ("implicit-label", "declared-ai", "trace")
# The rows of ``verdicts`` say what the file shows, in the words of a declaration (AI or not AI);
# the columns are what the creator declared.
ROWS = {True: Declared.AI, False: Declared.NOT_AI}
FULL_WIDTH_STOPS = "。！？；："
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47 shaped: en, zh, zh-Hans, pt-BR


def ordered(texts: Mapping[str, str] | None, languages: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``(language, text)`` pairs of ``texts``: the ``languages`` first, in their order, then any
    other language the mapping holds in its own order (a result read back without its policy)."""
    if not texts:
        return []
    first = [lang for lang in languages if lang in texts]
    return [(lang, texts[lang]) for lang in first] + [(k, v) for k, v in texts.items() if k not in first]


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    data: dict
    # The ids this policy extends, nearest first (``xiaohongshu``: ``("cn",)``); () for none.
    extends: tuple[str, ...] = ()

    @property
    def languages(self) -> tuple[str, ...]:
        """The declared languages, in the order a reader sees them (``cn``: Chinese first)."""
        return tuple(self.data["languages"])

    @property
    def advice_language(self) -> str:
        """The language of the contract's single ``advice`` string."""
        return str(self.data.get("advice_language") or self.data["languages"][0])

    @cached_property  # asked once per file (disclosure rules); a policy's data does not change
    def ai_statuses(self) -> frozenset[Status]:
        """The statuses this policy treats as AI content (shipped: AI-generated and AI-edited)."""
        return frozenset(Status(s) for s in self.data["ai_statuses"])

    def verdict_text(self, verdict: str) -> dict[str, str]:
        """The verdict's display words by language, in declared order ({} for an unknown verdict)."""
        return self._texts("verdict_text", verdict)

    def status_text(self, status: str) -> dict[str, str]:
        """The status's words by language, in declared order; also the advice's ``{status}``."""
        return self._texts("status_text", status)

    def label_text(self, label: str | None) -> dict[str, str]:
        """The label's text by language, in declared order ({} for no label)."""
        return self._texts("label_text", label) if label else {}

    def ordered(self, texts: Mapping[str, str] | None) -> list[tuple[str, str]]:
        """``(language, text)`` pairs of ``texts`` in this policy's language order."""
        return ordered(texts, self.languages)

    def _texts(self, key: str, item: str) -> dict[str, str]:
        name = item.value if isinstance(item, Enum) else item
        return dict(ordered(self.data[key].get(name, {}), self.languages))

    def decide(
        self,
        c: Classification,
        declared: Declared | str,
        unreadable: bool,
        findings: list[Finding],
        error_codes: Iterable[str] = (),
    ) -> Decision:
        """The verdict, label, measures and advice.  ``error_codes`` are the codes of the result's
        read errors: a cause among them (``cause_advice``) gives the advice and measures that fit it."""
        d = self.data
        said = Declared.parse(declared)
        is_ai = c.status in self.ai_statuses
        if unreadable and not is_ai:
            verdict = Verdict.UNREADABLE
        else:
            verdict = Verdict(d["verdicts"][ROWS[is_ai].value][said.value])
        label = self._label(c, said, is_ai)
        codes = [*error_codes, *(f.code for f in findings)]
        cause = self.cause(verdict, codes)
        verdict_measures = d["measures"][verdict.value]
        measures = list(d.get("cause_measures", {}).get(cause, verdict_measures) if cause else verdict_measures)
        if label and verdict is Verdict.COMPLIANT:
            measures.append(d.get("labelled_measure", "show-label"))
        for f in findings:
            measures.extend(d.get("finding_measures", {}).get(f.code, []))
        order = d["measure_order"]
        measures = sorted(set(measures), key=order.index)
        action = measures[-1] if measures else "none"
        text = d["label_text"].get(label) if label else None
        advice = self.advice_texts(verdict, c.status, label, codes)[self.advice_language]
        return Decision(verdict, label, text, action, measures, advice, self.id)

    def _label(self, c: Classification, declared: Declared, is_ai: bool) -> str | None:
        facts = {
            "implicit-label": is_ai and c.basis == "implicit-label",
            "declared-ai": declared is Declared.AI,
            "trace": is_ai and c.basis == "trace",
        }
        for rule in self.data["label_rules"]:
            if facts[rule["when"]]:
                if rule["when"] == "implicit-label" and c.aigc_label:
                    return str(self.data.get("aigc_label_values", {}).get(c.aigc_label, rule["label"]))
                return str(rule["label"])
        return None

    def cause(self, verdict: Verdict | str, codes: Iterable[str]) -> str | None:
        """The code whose ``cause_advice`` replaces the verdict's template, or None.  Only for the
        verdicts that speak of the file as a whole: "could not be read" says nothing useful about a
        missing file, and "Nothing to change" is wrong beside a manifest that was not fetched."""
        if Verdict(verdict) not in (Verdict.UNREADABLE, Verdict.COMPLIANT):
            return None
        causes: dict[str, Any] = self.data.get("cause_advice", {})
        given = set(codes)
        return next((code for code in causes if code in given), None)  # the policy's order decides

    def advice_texts(
        self, verdict: Verdict | str, status: Status | str, label: str | None, finding_codes: Iterable[str] = ()
    ) -> dict[str, str]:
        """The advice in every declared language (declared order): the verdict's template (or the
        advice of the cause among ``finding_codes``, which may hold error codes too: see ``cause``),
        then the advice of each finding that has one, ordered by its text in ``advice_language``.
        Built from a result's own fields, so a renderer can show the languages the contract does not
        carry."""
        d = self.data
        finding_codes = list(finding_codes)
        cause = self.cause(verdict, finding_codes)
        labels: dict[str, str] = d["label_text"].get(label, {}) if label else {}
        notes: dict[str, dict[str, str]] = d.get("finding_advice", {})
        codes = sorted({code for code in finding_codes if code in notes}, key=lambda c: notes[c][self.advice_language])
        by_language = {f"label_{lang}": labels.get(lang, "") for lang in self.languages}
        out = {}
        for lang in self.languages:
            label_here = labels.get(lang, "")
            clause = d.get("label_clause", {}).get(lang, "").format(label=label_here, **by_language) if labels else ""
            template = d["cause_advice"][cause][lang] if cause else d["advice"][Verdict(verdict).value][lang]
            base = template.format(
                status=d["status_text"][Status(status).value][lang],
                label=label_here,
                label_clause=clause,
                **by_language,
                **({"formats": _supported_formats()} if cause else {}),
            )
            out[lang] = _sentences([base, *dict.fromkeys(notes[code][lang] for code in codes)])
        return out

    def declaration_text(self, declared: Declared | str) -> dict[str, str]:
        """The wording the platform offers the creator for ``declared``, by language ({} if none)."""
        return self._texts("declaration_text", str(declared)) if "declaration_text" in self.data else {}

    def disclosure_findings(self, disclosure: Disclosure, is_ai: bool, lang: str | None = None) -> list[Finding]:
        """The findings of this policy's ``disclosure_rules`` (policy_packs.disclosure_findings); their
        messages in ``advice_language`` unless ``lang`` names another the policy declares."""
        rules = self.data.get("disclosure_rules", {})
        return policy_packs.disclosure_findings(rules, disclosure, is_ai, self, lang)

    def page_data(self) -> dict[str, Any]:
        """What a renderer outside Python (the service page) needs: every display text by language."""
        return {
            "id": self.id,
            "name": self.name,
            "languages": list(self.languages),
            "advice_language": self.advice_language,
            "ai_statuses": sorted(s.value for s in self.ai_statuses),
            "verdict_text": {v: self.verdict_text(v) for v in VERDICTS},
            "status_text": {s: self.status_text(s) for s in STATUSES},
            "label_text": {label: self.label_text(label) for label in self.data["label_text"]},
        }


def _supported_formats() -> str:
    from .formats import supported_formats  # imported here: the policy layer needs it for one advice

    return supported_formats()


def _sentences(parts: list[str]) -> str:
    """Sentences run together: a space after each, except after full-width punctuation (。！？),
    which carries its own space (Chinese and Japanese are written without one)."""
    out = parts[0]
    for part in parts[1:]:
        out += ("" if out[-1:] in FULL_WIDTH_STOPS else " ") + part
    return out


def _fields(template: str, where: str, allowed: set[str]) -> None:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise PolicyError(f"{where} is not a valid template ({exc}); write a literal brace as {{{{ or }}}}") from exc
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise PolicyError(f"{where} uses {{{unknown[0]}}}; a template may use {', '.join(sorted(allowed))}")


def _texts(where: str, path: str, value: object, languages: list[str], fields: set[str] | None = None) -> None:
    """``value`` is one text per declared language (no more, no fewer); templates use known fields."""
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: {path} must be an object of texts by language ({', '.join(languages)})")
    for lang in value:
        if lang not in languages:
            raise PolicyError(f"{where}: {path}.{lang} is not a declared language (languages: {', '.join(languages)})")
    for lang in languages:
        if lang not in value:
            raise PolicyError(f"{where}: {path} lacks {lang}")
        text = value[lang]
        if not isinstance(text, str) or not text.strip():
            raise PolicyError(f"{where}: {path}.{lang} must be a non-empty text")
        if fields is not None:
            _fields(text, f"{where}: {path}.{lang}", fields)


def _table(data: dict, where: str, key: str, keys: Iterable[str], what: str, languages: list[str]) -> None:
    """``data[key]`` has an entry for each of ``keys`` (no other), each one text per language."""
    keys = list(keys)
    table = data[key]
    if not isinstance(table, dict):
        raise PolicyError(f"{where}: {key} must be an object keyed by {what}")
    for item in table:
        if item not in keys:
            raise PolicyError(f"{where}: {key}.{item} is not a {what} (one of {', '.join(keys)})")
    for item in keys:
        if item not in table:
            raise PolicyError(f"{where}: {key} lacks {item}")
        _texts(where, f"{key}.{item}", table[item], languages)


def _languages(data: dict, where: str) -> list[str]:
    languages = data["languages"]
    if not isinstance(languages, list) or not languages:
        raise PolicyError(f'{where}: languages must be a non-empty list of language codes, e.g. ["zh", "en"]')
    for lang in languages:
        if not isinstance(lang, str) or not LANGUAGE.match(lang):
            raise PolicyError(f"{where}: languages: {lang!r} is not a language code (en, zh, zh-Hans, ...)")
    if len(set(languages)) != len(languages):
        raise PolicyError(f"{where}: languages lists a language twice")
    advice_language = data.get("advice_language", languages[0])
    if advice_language not in languages:
        raise PolicyError(f"{where}: advice_language {advice_language!r} is not one of languages")
    return languages


def _validate(data: dict, where: str) -> None:
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise PolicyError(f"{where}: missing keys {', '.join(missing)}")
    unknown_keys = [k for k in data if k not in REQUIRED and k not in OPTIONAL]
    if unknown_keys:
        raise PolicyError(
            f"{where}: unknown key {unknown_keys[0]} (a policy has {', '.join(sorted(REQUIRED + OPTIONAL))})"
        )
    languages = _languages(data, where)
    for status in data["ai_statuses"]:
        if status not in STATUSES:
            raise PolicyError(f"{where}: ai_statuses: {status!r} is not a status (one of {', '.join(STATUSES)})")
    for row in ROWS.values():
        cells = data["verdicts"].get(row.value, {})
        for declared in Declared:
            if cells.get(declared.value) not in VERDICTS:
                raise PolicyError(
                    f"{where}: verdicts.{row.value}.{declared.value} must be one of {', '.join(VERDICTS)}"
                )
    for verdict in VERDICTS:
        if verdict not in data["measures"] or verdict not in data["advice"]:
            raise PolicyError(f"{where}: measures and advice need an entry for {verdict}")
    order = data["measure_order"]
    used = [m for ms in data["measures"].values() for m in ms]
    used += [m for ms in data.get("finding_measures", {}).values() for m in ms]
    used += [m for ms in data.get("cause_measures", {}).values() for m in ms]
    used.append(data.get("labelled_measure", "show-label"))
    unknown = sorted({m for m in used if m not in order})
    if unknown:
        raise PolicyError(f"{where}: measures not in measure_order: {', '.join(unknown)}")
    for rule in data["label_rules"]:
        if rule.get("when") not in CONDITIONS or rule.get("label") not in data["label_text"]:
            raise PolicyError(f"{where}: label rule {rule} needs 'when' in {CONDITIONS} and a label with text")
    for value, label in data.get("aigc_label_values", {}).items():
        if label not in data["label_text"]:
            raise PolicyError(f"{where}: aigc_label_values.{value} names {label!r}, which has no label_text")

    # Every text a person reads, in every declared language.
    _table(data, where, "verdict_text", VERDICTS, "verdict", languages)
    _table(data, where, "status_text", STATUSES, "status", languages)
    if not isinstance(data["label_text"], dict):
        raise PolicyError(f"{where}: label_text must be an object keyed by label")
    for label, texts in data["label_text"].items():
        _texts(where, f"label_text.{label}", texts, languages)
    label_fields = {"label"} | {f"label_{lang}" for lang in languages}
    advice_fields = label_fields | {"status", "label_clause"}
    for verdict, texts in data["advice"].items():
        if verdict not in VERDICTS:
            raise PolicyError(f"{where}: advice.{verdict} is not a verdict (one of {', '.join(VERDICTS)})")
        _texts(where, f"advice.{verdict}", texts, languages, advice_fields)
    if "label_clause" in data:
        _texts(where, "label_clause", data["label_clause"], languages, label_fields)
    elif any("{label_clause}" in text for texts in data["advice"].values() for text in texts.values()):
        raise PolicyError(f"{where}: advice uses {{label_clause}} but the policy has no label_clause")
    for code, texts in data.get("finding_advice", {}).items():
        _texts(where, f"finding_advice.{code}", texts, languages)
    for code, texts in data.get("cause_advice", {}).items():
        _texts(where, f"cause_advice.{code}", texts, languages, advice_fields | {"formats"})
    for code in data.get("cause_measures", {}):
        if code not in data.get("cause_advice", {}):
            raise PolicyError(f"{where}: cause_measures.{code} has no cause_advice (the measure needs its words)")
    policy_packs.validate_pack(data, where, languages, _texts)
    validate_accounts(data, where, languages)  # the account signals' section (policy_accounts.py)
    repeat = data.get("repeat_offenders")
    if isinstance(repeat, dict) and "basis_text" in repeat:  # its grading is checked by the scan that uses it
        _texts(where, "repeat_offenders.basis_text", repeat["basis_text"], languages)
    if "marking" in data:
        _marking(data, where)


def _marking(data: dict, where: str) -> None:
    """``marking``: whether ``mark`` writes labels under this policy and, if it does, the GB 45438
    ``Label`` tier for each label the policy gives (Art. 6: 1 is, 2 may be, 3 suspected)."""
    m = data["marking"]
    if not isinstance(m, dict) or not isinstance(m.get("writes"), bool):
        raise PolicyError(f"{where}: marking must be an object with writes: true or false")
    unknown = [k for k in m if k not in ("writes", "tiers", "reason")]
    if unknown:
        raise PolicyError(f"{where}: marking.{unknown[0]} is not a marking key (writes, tiers, reason)")
    if "reason" in m and (not isinstance(m["reason"], str) or not m["reason"].strip()):
        raise PolicyError(f"{where}: marking.reason must be a non-empty text")
    if not m["writes"]:
        return
    tiers = m.get("tiers")
    if not isinstance(tiers, dict):
        raise PolicyError(f"{where}: marking.tiers must map each label to a GB 45438 Label tier (1, 2 or 3)")
    labels = {rule["label"] for rule in data["label_rules"]} | set(data.get("aigc_label_values", {}).values())
    for label in sorted(labels):
        if label not in tiers:
            raise PolicyError(f"{where}: marking.tiers lacks {label} (a label the policy gives)")
    for label, tier in tiers.items():
        if label not in data["label_text"]:
            raise PolicyError(f"{where}: marking.tiers.{label} is not a label with text")
        if tier not in MARK_TIERS:
            raise PolicyError(f"{where}: marking.tiers.{label} must be one of {', '.join(MARK_TIERS)}, not {tier!r}")


@lru_cache(maxsize=16)
def _read(name_or_path: str) -> Policy:
    raw = policy_packs.read_raw(name_or_path)
    data, chain = policy_packs.resolve(raw)
    where = raw.where + (f" (extends {' > '.join(chain)})" if chain else "")
    _validate(data, where)
    return Policy(str(data["id"]), str(data.get("name", data["id"])), data, chain)


_LOADED: dict[str, Policy] = {}  # by id: the policy this process last loaded under that id


def load_policy(name_or_path: str = "cn") -> Policy:
    """A shipped policy by id (``cn``, ``eu``) or a JSON file by path."""
    policy = _read(name_or_path)
    _LOADED[policy.id] = policy
    return policy


def policy_by_id(policy_id: str) -> Policy | None:
    """The policy a result names (its ``policy`` field): the one this process loaded under that id,
    else the shipped one of that id, else None (a user's file this process never loaded)."""
    if policy_id in _LOADED:
        return _LOADED[policy_id]
    if policy_id in shipped_policies():
        return load_policy(policy_id)
    return None


def shipped_policies() -> list[str]:
    return policy_packs.shipped_ids()
