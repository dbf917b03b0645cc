"""Marking rules as data: status + certainty + declaration -> verdict, label, action.

A policy is a JSON file (shipped: ``cn``, ``eu``; or a user's path).  Nothing
here is specific to one jurisdiction: adding a rule set is a data edit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .errors import PolicyError
from .model import Classification, Decision, Finding

VERDICTS = ("compliant", "unlabelled-ai", "mislabelled", "unreadable")
REQUIRED = ("id", "ai_statuses", "verdicts", "label_rules", "label_text", "measures", "measure_order", "advice")
CONDITIONS = ("implicit-label", "declared-ai", "trace")
STATUS_WORDS = {
    "ai-generated": "AI-generated",
    "ai-modified": "AI-edited",
    "captured": "captured",
    "unknown": "unknown",
}


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    data: dict

    def decide(self, c: Classification, declared: str, unreadable: bool, findings: list[Finding]) -> Decision:
        d = self.data
        is_ai = c.status.value in d["ai_statuses"]
        if unreadable and not is_ai:
            verdict = "unreadable"
        else:
            verdict = d["verdicts"]["ai" if is_ai else "not-ai"][declared]
        label = self._label(c, declared, is_ai)
        measures = list(d["measures"][verdict])
        if label and verdict == "compliant":
            measures.append(d.get("labelled_measure", "show-label"))
        for f in findings:
            measures.extend(d.get("finding_measures", {}).get(f.code, []))
        order = d["measure_order"]
        measures = sorted(set(measures), key=order.index)
        action = measures[-1] if measures else "none"
        text = d["label_text"].get(label) if label else None
        advice = " ".join(
            [self._advice(verdict, c, text)]
            + sorted({d.get("finding_advice", {})[f.code] for f in findings if f.code in d.get("finding_advice", {})})
        )
        return Decision(verdict, label, text, action, measures, advice, self.id)

    def _label(self, c: Classification, declared: str, is_ai: bool) -> str | None:
        facts = {
            "implicit-label": is_ai and c.basis == "implicit-label",
            "declared-ai": declared == "ai",
            "trace": is_ai and c.basis == "trace",
        }
        for rule in self.data["label_rules"]:
            if facts[rule["when"]]:
                if rule["when"] == "implicit-label" and c.aigc_label:
                    return self.data.get("aigc_label_values", {}).get(c.aigc_label, rule["label"])
                return rule["label"]
        return None

    def _advice(self, verdict: str, c: Classification, text: dict | None) -> str:
        template = self.data["advice"][verdict]
        label_clause = f'; the platform must show "{text["en"]}"' if text else ""
        return template.format(
            status=STATUS_WORDS[c.status.value],
            label_en=(text or {}).get("en", ""),
            label_zh=(text or {}).get("zh", ""),
            label_clause=label_clause,
        )


def _validate(data: dict, where: str) -> None:
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise PolicyError(f"{where}: missing keys {', '.join(missing)}")
    for group in ("ai", "not-ai"):
        row = data["verdicts"].get(group, {})
        for declared in ("ai", "not-ai", "none"):
            if row.get(declared) not in VERDICTS:
                raise PolicyError(f"{where}: verdicts.{group}.{declared} must be one of {', '.join(VERDICTS)}")
    for verdict in VERDICTS:
        if verdict not in data["measures"] or verdict not in data["advice"]:
            raise PolicyError(f"{where}: measures and advice need an entry for {verdict}")
    order = data["measure_order"]
    used = [m for ms in data["measures"].values() for m in ms]
    used += [m for ms in data.get("finding_measures", {}).values() for m in ms]
    used.append(data.get("labelled_measure", "show-label"))
    unknown = sorted({m for m in used if m not in order})
    if unknown:
        raise PolicyError(f"{where}: measures not in measure_order: {', '.join(unknown)}")
    for rule in data["label_rules"]:
        if rule.get("when") not in CONDITIONS or rule.get("label") not in data["label_text"]:
            raise PolicyError(f"{where}: label rule {rule} needs 'when' in {CONDITIONS} and a label with text")


@lru_cache(maxsize=16)
def load_policy(name_or_path: str = "cn") -> Policy:
    """A shipped policy by id (``cn``, ``eu``) or a JSON file by path."""
    try:
        if Path(name_or_path).suffix == ".json" or Path(name_or_path).exists():
            text = Path(name_or_path).read_text(encoding="utf-8")
        else:
            text = resources.files("aigc_check.policies").joinpath(f"{name_or_path}.json").read_text(encoding="utf-8")
        data = json.loads(text)
    except FileNotFoundError as exc:
        raise PolicyError(f"no policy named {name_or_path!r} (shipped: {', '.join(shipped_policies())})") from exc
    except (OSError, ValueError) as exc:
        raise PolicyError(f"policy {name_or_path} could not be read: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"policy {name_or_path} must be a JSON object")
    _validate(data, name_or_path)
    return Policy(data["id"], data.get("name", data["id"]), data)


def shipped_policies() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("aigc_check.policies").iterdir() if p.name.endswith(".json"))
