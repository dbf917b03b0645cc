"""The ``accounts`` section of a policy: account signals, their thresholds and the graded measures.

Kept apart from ``policy.py`` (which only calls ``validate_accounts``) so that platform packs can
share the schema.  The section::

    "accounts": {
      "basis": "why these grades (the rule they come from)",
      "basis_text": {"<lang>": "the same in each of the policy's languages (optional)"},
      "signals": {
        "<signal>": {"threshold": N, "min_posts": N, "reason": {"<lang>": "text with {value} and {threshold}"}},
        ...
      },
      "grades": [
        {"id": "...", "all": ["<signal>", ...], "any": ["<signal>", ...], "any_count": N,
         "action": "<a measure in measure_order>", "text": {"<lang>": "..."}},
        ...
      ]
    }

The signals an account can be measured on are ``SIGNALS`` (``scan/account_signals.py`` measures
them); a policy names the ones it uses.  A grade applies when every signal in ``all`` fired and at
least ``any_count`` (default 1) of ``any`` did; the account's measure is the most severe of its
grades' actions and the ``repeat_offenders`` action.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import PolicyError

# signal -> (what it measures, fires when the value is "at-least" or "at-most" the threshold)
SIGNALS: dict[str, tuple[str, str]] = {
    "ai_posts": ("number of the account's posts whose status is AI", "at-least"),
    "ai_share": ("share of the account's posts whose status is AI", "at-least"),
    "cluster_share": ("share of its hashed posts that are in a near-duplicate cluster", "at-least"),
    "own_cluster_share": ("share of its hashed posts in a cluster with another post of the same account", "at-least"),
    "cross_account_share": ("share of its hashed posts in a cluster that spans two or more accounts", "at-least"),
    "one_generator": ("share of its AI posts made by its most used generator", "at-least"),
    "one_template": ("share of its AI posts with its most used generation-parameter template", "at-least"),
    "cadence_regularity": ("coefficient of variation of the gaps between posts (low: clockwork)", "at-most"),
    "hours_active": ("distinct hours of the day (poster's clock) with at least one post", "at-least"),
    "burst": ("most posts within any burst window (burst_window_s seconds)", "at-least"),
}
PLACEHOLDERS = {"value", "threshold"}


@dataclass(frozen=True)
class SignalRule:
    name: str
    threshold: float
    min_posts: int
    reason: dict[str, str]

    @property
    def direction(self) -> str:
        return SIGNALS[self.name][1]

    def fires(self, value: float | None) -> bool:
        if value is None:
            return False
        return value >= self.threshold if self.direction == "at-least" else value <= self.threshold


@dataclass(frozen=True)
class Grade:
    id: str
    all: tuple[str, ...]
    any: tuple[str, ...]
    any_count: int
    action: str
    text: dict[str, str]

    def applies(self, fired: set[str]) -> bool:
        if not all(s in fired for s in self.all):
            return False
        return not self.any or sum(s in fired for s in self.any) >= self.any_count


@dataclass(frozen=True)
class AccountRules:
    basis: str
    signals: dict[str, SignalRule]
    grades: tuple[Grade, ...]
    burst_window_s: float
    languages: tuple[str, ...]
    measure_order: tuple[str, ...]
    basis_text: dict[str, str] = field(default_factory=dict)  # ``basis`` in each language, when the policy gives it


def validate_accounts(data: dict, where: str, languages: list[str]) -> AccountRules | None:
    """The section's rules; ``PolicyError`` naming the key of the first thing wrong."""
    section = data.get("accounts")
    if section is None:
        return None
    where = f"{where}: accounts"
    if not isinstance(section, dict):
        raise PolicyError(f"{where} must be an object with signals and grades")
    unknown = [k for k in section if k not in ("basis", "basis_text", "signals", "grades", "burst_window_s")]
    if unknown:
        raise PolicyError(f"{where}: unknown key {unknown[0]} (basis, basis_text, signals, grades, burst_window_s)")
    basis_text = {}
    if "basis_text" in section:
        basis_text = _texts(section["basis_text"], f"{where}.basis_text", languages, set())
    signals_raw = section.get("signals")
    if not isinstance(signals_raw, dict) or not signals_raw:
        raise PolicyError(f"{where}: signals must be an object of signal rules (signals: {', '.join(SIGNALS)})")
    signals = {name: _signal(name, raw, f"{where}.signals.{name}", languages) for name, raw in signals_raw.items()}
    grades_raw = section.get("grades")
    if not isinstance(grades_raw, list) or not grades_raw:
        raise PolicyError(f"{where}: grades must be a non-empty list")
    order = data["measure_order"]
    grades = tuple(
        _grade(i, raw, f"{where}.grades[{i}]", signals, order, languages) for i, raw in enumerate(grades_raw)
    )
    window = section.get("burst_window_s", 600)
    if not isinstance(window, (int, float)) or isinstance(window, bool) or window <= 0:
        raise PolicyError(f"{where}.burst_window_s must be a positive number of seconds")
    return AccountRules(
        str(section.get("basis", "")), signals, grades, float(window), tuple(languages), tuple(order), basis_text
    )


def _texts(value: Any, where: str, languages: list[str], placeholders: set[str]) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != set(languages):
        raise PolicyError(f"{where} must give one text in each language ({', '.join(languages)})")
    for lang, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise PolicyError(f"{where}.{lang} must be a non-empty text")
        try:
            text.format(**dict.fromkeys(placeholders, 0))
        except (KeyError, IndexError, ValueError) as exc:
            allowed = ", ".join("{" + p + "}" for p in sorted(placeholders)) or "no field"
            raise PolicyError(f"{where}.{lang}: a text may use {allowed} ({exc})") from exc
    return dict(value)


def _number(value: Any, where: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise PolicyError(f"{where} must be a number")
    return float(value)


def _signal(name: str, raw: Any, where: str, languages: list[str]) -> SignalRule:
    if name not in SIGNALS:
        raise PolicyError(f"{where}: not a signal (one of {', '.join(SIGNALS)})")
    if not isinstance(raw, dict):
        raise PolicyError(f"{where} must be an object with threshold, min_posts and reason")
    threshold = _number(raw.get("threshold"), f"{where}.threshold")
    min_posts = raw.get("min_posts", 1)
    if not isinstance(min_posts, int) or isinstance(min_posts, bool) or min_posts < 1:
        raise PolicyError(f"{where}.min_posts must be a whole number of at least 1")
    return SignalRule(name, threshold, min_posts, _texts(raw.get("reason"), f"{where}.reason", languages, PLACEHOLDERS))


def _grade(
    number: int, raw: Any, where: str, signals: dict[str, SignalRule], order: list[str], languages: list[str]
) -> Grade:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise PolicyError(f"{where} must be an object with an id")
    named = []
    for key in ("all", "any"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise PolicyError(f"{where}.{key} must be a list of signal names")
        for s in value:
            if s not in signals:
                raise PolicyError(f"{where}.{key}: {s!r} is not one of this policy's signals ({', '.join(signals)})")
        named.append(tuple(value))
    if not named[0] and not named[1]:
        raise PolicyError(f"{where} needs signals in all or any")
    any_count = raw.get("any_count", 1)
    if not isinstance(any_count, int) or isinstance(any_count, bool) or not 1 <= any_count <= max(1, len(named[1])):
        raise PolicyError(f"{where}.any_count must be between 1 and the number of signals in any")
    action = raw.get("action")
    if action not in order:
        raise PolicyError(f"{where}.action {action!r} is not in measure_order")
    return Grade(
        raw["id"], named[0], named[1], any_count, action, _texts(raw.get("text"), f"{where}.text", languages, set())
    )
