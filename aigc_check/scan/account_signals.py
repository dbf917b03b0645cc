"""Account signals (``scan --similar``): what each account's posts say together, measured, explained
and graded by the policy's ``accounts`` section (``policy_accounts.py``).

Measured per account: the AI share; the share of its hashed posts in a near-duplicate cluster (any,
with its own other posts, with other accounts'); how much of its AI output comes from one generator
and from one generation-parameter template; and, from the sidecar's ``posted_at``, the regularity of
the gaps between posts (coefficient of variation), the hours of the day it posts in, and its largest
burst.  A signal an account has too few posts for (``min_posts``) is not measured (empty), never
guessed.  Memory: a few counters per account, one cluster id per clustered post, one time per post.
"""

from __future__ import annotations

import itertools
import json
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..policy_accounts import AccountRules

# The parts of an A1111-style settings line that change on every image of one template.
VARYING_SETTINGS = frozenset({"seed", "variation seed", "seed resize from", "prompt", "negative prompt"})
SETTING = re.compile(r"([A-Za-z][A-Za-z0-9 _-]{0,40}):\s*([^,\n]{1,200})")

COUNTS = frozenset({"ai_posts", "hours_active", "burst"})  # signals that are counts, shown as whole numbers
# accounts.csv's added columns with --similar: the measured values, then what they led to.
SIGNAL_COLUMNS = (
    "ai_posts", "ai_share_all", "cluster_share", "own_cluster_share", "cross_account_share", "one_generator",
    "one_template", "cadence_regularity", "hours_active", "burst", "signals", "grades", "reasons",
)  # fmt: skip


def parameter_template(evidence: list[dict]) -> str | None:
    """The generation-parameter template of a result: the generator's settings with what varies per
    image (seed, prompt) left out, or the node types of a ComfyUI workflow; None when there are none."""
    for e in evidence:
        if e.get("source") != "generator" or not e.get("generator"):
            continue
        value = str(e.get("value") or "")
        stripped = value.lstrip()
        if stripped.startswith("{"):
            try:
                graph = json.loads(stripped)
            except ValueError:
                graph = None
            if isinstance(graph, dict):
                listed = graph.get("nodes")
                nodes: list = listed if isinstance(listed, list) else list(graph.values())
                kinds = sorted(
                    {str(n.get("class_type") or n.get("type")) for n in nodes if isinstance(n, dict)} - {"None"}
                )
                if kinds:
                    return f"{e['generator']}:" + ",".join(kinds)
        settings_line = next((line for line in reversed(value.splitlines()) if "Steps:" in line), None)
        if settings_line is not None:
            pairs = sorted(
                f"{k.strip()}={v.strip()}"
                for k, v in SETTING.findall(settings_line)
                if k.strip().lower() not in VARYING_SETTINGS
            )
            return f"{e['generator']}:" + ";".join(pairs)
    return None


@dataclass
class _Account:
    posts: int = 0
    ai: int = 0
    hashed: int = 0
    clusters: list[str] = field(default_factory=list)
    generators: Counter[str] = field(default_factory=Counter)
    templates: Counter[str] = field(default_factory=Counter)
    times: list[datetime] = field(default_factory=list)


class SignalCollector:
    """Fed every final result of the scan (and the sidecar's posting times), then measures."""

    def __init__(self, rules: AccountRules | None, ai_statuses: Iterable[str]) -> None:
        self.rules = rules
        self.ai_statuses = {str(getattr(s, "value", s)) for s in ai_statuses}
        self.accounts: dict[str, _Account] = defaultdict(_Account)
        self.cluster_members: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, result: dict) -> None:
        name = result.get("account")
        if name is None:
            return
        a = self.accounts[name]
        a.posts += 1
        if result.get("status") in self.ai_statuses:
            a.ai += 1
            a.generators[result.get("generator") or "(not named)"] += 1
            template = parameter_template(result.get("evidence") or [])
            if template:
                a.templates[template] += 1
        sim = result.get("similarity")
        if isinstance(sim, dict) and sim.get("reliable"):
            a.hashed += 1
        cluster = result.get("cluster")
        if cluster:
            a.clusters.append(cluster)
            self.cluster_members[cluster][name] += 1

    def add_times(self, rows: Iterable[tuple[str, str]]) -> None:
        for name, posted_at in rows:
            if name in self.accounts:
                self.accounts[name].times.append(datetime.fromisoformat(posted_at))

    def measure(self, name: str) -> dict[str, float | None]:
        a = self.accounts.get(name) or _Account()
        rules = self.rules.signals if self.rules else {}

        def gated(signal: str, posts: int, value: float | None) -> float | None:
            rule = rules.get(signal)
            return value if rule is None or posts >= rule.min_posts else None

        own = sum(1 for c in a.clusters if self.cluster_members[c][name] >= 2)
        cross = sum(1 for c in a.clusters if len(self.cluster_members[c]) >= 2)
        values: dict[str, float | None] = {
            "ai_posts": gated("ai_posts", a.posts, float(a.ai)),
            "ai_share": gated("ai_share", a.posts, _share(a.ai, a.posts)),
            "cluster_share": gated("cluster_share", a.hashed, _share(len(a.clusters), a.hashed)),
            "own_cluster_share": gated("own_cluster_share", a.hashed, _share(own, a.hashed)),
            "cross_account_share": gated("cross_account_share", a.hashed, _share(cross, a.hashed)),
            "one_generator": gated("one_generator", a.ai, _share(_top(a.generators), a.ai)),
            "one_template": gated("one_template", a.ai, _share(_top(a.templates), a.ai)),
        }
        values.update(self._cadence(a, gated))
        return values

    def _cadence(self, a: _Account, gated: Callable[[str, int, float | None], float | None]) -> dict[str, float | None]:
        times = sorted(a.times, key=_instant)
        gaps = [(_instant(b) - _instant(x)) for x, b in itertools.pairwise(times)]
        regularity = None
        if len(gaps) >= 2 and statistics.fmean(gaps) > 0:
            regularity = round(statistics.pstdev(gaps) / statistics.fmean(gaps), 4)
        window = self.rules.burst_window_s if self.rules else 600.0
        burst, start = 0, 0
        for end in range(len(times)):
            while _instant(times[end]) - _instant(times[start]) > window:
                start += 1
            burst = max(burst, end - start + 1)
        return {
            "cadence_regularity": gated("cadence_regularity", len(times), regularity),
            "hours_active": gated("hours_active", len(times), float(len({t.hour for t in times})) if times else None),
            "burst": gated("burst", len(times), float(burst) if times else None),
        }

    def row(self, name: str, base_action: str, language: str) -> dict:
        """The account's signal columns, the grades that apply, and the combined action; the reasons
        in ``language`` (``reasons``, the policy's advice language, as a result's ``advice``) and in
        every language the policy declares (``reasons_text``, as a result's ``label_text``)."""
        values = self.measure(name)
        rules = self.rules
        fired: list[str] = []
        texts: dict[str, list[str]] = {lang: [] for lang in rules.languages} if rules else {}
        grades: list[str] = []
        action = base_action
        if rules is not None:
            for signal, rule in rules.signals.items():
                value = values.get(signal)
                if rule.fires(value):
                    fired.append(signal)
                    for lang, said in texts.items():
                        said.append(rule.reason[lang].format(value=_shown(value), threshold=_shown(rule.threshold)))
            for grade in rules.grades:
                if grade.applies(set(fired)):
                    grades.append(grade.id)
                    for lang, said in texts.items():
                        said.append(grade.text[lang])
                    if rules.measure_order.index(grade.action) > rules.measure_order.index(action):
                        action = grade.action
        columns = {
            f"{k}_all" if k == "ai_share" else k: int(v) if k in COUNTS and v is not None else v
            for k, v in values.items()
        }
        return {
            **columns,
            "signals": ";".join(fired),
            "grades": ";".join(grades),
            "reasons": " ".join(texts.get(language, [])),
            "reasons_text": {lang: " ".join(said) for lang, said in texts.items()},
            "action": action,
        }


def rank_accounts(rows: list[dict], measure_order: list[str]) -> None:
    """Sort account rows with their signals in place: the most severe measure first, then the score,
    the posts, the name (accounts.csv's order; shared by the local and the Spark scan)."""
    rows.sort(key=lambda r: (-measure_order.index(r["action"]), -r["score"], -r["posts"], r["account"]))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _top(counter: Counter[str]) -> int:
    return counter.most_common(1)[0][1] if counter else 0


def _instant(t: datetime) -> float:
    # A time without an offset is read as UTC for ordering; its hour of day stays as written.
    return t.timestamp() if t.tzinfo is not None else t.replace(tzinfo=timezone.utc).timestamp()


def _shown(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
