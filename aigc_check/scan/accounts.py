"""The graded measure a policy suggests for an account, from its count of violations.

The grading is policy data (``repeat_offenders`` in the policy JSON): each
violation verdict has a weight, and the account's score (sum of weights) is
compared with ascending thresholds, e.g. restrict exposure at 1, warn at 3,
ban at 6.  A policy without that section suggests no account measure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import PolicyError
from ..model import Verdict
from ..policy import Policy
from .outputs import AccountStats


@dataclass(frozen=True)
class RepeatOffenderRules:
    weights: dict
    thresholds: tuple  # ((score, action), ...) ascending by score
    basis: str = ""
    basis_text: dict[str, str] = field(default_factory=dict)  # ``basis`` by language, when the policy gives it

    @classmethod
    def from_policy(cls, policy: Policy) -> RepeatOffenderRules | None:
        section = policy.data.get("repeat_offenders")
        if section is None:
            return None
        where = f"policy {policy.id}: repeat_offenders"
        try:
            weights = {str(k): int(v) for k, v in section.get("weights", {}).items()}
            thresholds = tuple(sorted((int(t["score"]), str(t["action"])) for t in section["thresholds"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PolicyError(
                f"{where} needs weights {{verdict: number}} and thresholds [{{score, action}}] ({exc})"
            ) from exc
        unknown = [a for _, a in thresholds if a not in policy.data["measure_order"]]
        if unknown or not thresholds:
            raise PolicyError(f"{where}: actions must be in measure_order (unknown: {', '.join(unknown) or 'none'})")
        return cls(weights, thresholds, str(section.get("basis", "")), dict(section.get("basis_text") or {}))

    def score(self, stats: AccountStats) -> int:
        return (
            self.weights.get(Verdict.UNLABELLED_AI.value, 0) * stats.unlabelled
            + self.weights.get(Verdict.MISLABELLED.value, 0) * stats.mislabelled
        )

    def action(self, stats: AccountStats) -> str:
        score = self.score(stats)
        chosen = "none"
        for threshold, action in self.thresholds:
            if score >= threshold:
                chosen = action
        return chosen


# accounts.csv's columns: the row keys below, in order (two counts are named by their verdict).
ACCOUNT_COLUMNS = (
    "account", "posts", "ai", "ai_share", "unlabelled", Verdict.MISLABELLED.value, Verdict.UNREADABLE.value,
    "score", "action",
)  # fmt: skip


def account_rows(accounts: dict, rules: RepeatOffenderRules | None) -> list[dict]:
    """Per-account table rows (keys: ``ACCOUNT_COLUMNS``), worst first."""
    rows = []
    for account, s in accounts.items():
        rows.append(
            {
                "account": account,
                "posts": s.posts,
                "ai": s.ai,
                "ai_share": round(s.ai / s.posts, 4) if s.posts else 0,
                "unlabelled": s.unlabelled,
                Verdict.MISLABELLED.value: s.mislabelled,
                Verdict.UNREADABLE.value: s.unreadable,
                "score": rules.score(s) if rules else s.unlabelled + s.mislabelled,
                "action": rules.action(s) if rules else "none",
            }
        )
    rows.sort(key=lambda r: (-r["score"], -r["posts"], r["account"]))
    return rows
