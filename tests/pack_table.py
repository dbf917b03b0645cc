"""The per-pack table: for each fixture kind (GB label tiers 1/2/3, IPTC, C2PA trusted and untrusted,
traces only, nothing) and each declaration, what every shipped pack decides: verdict, label, label
text, measures and the pack's own disclosure findings.

``python tests/pack_table.py --write`` records it in ``tests/data/pack_table.json`` and the README's
generated section; ``tests/test_policy_packs.py`` recomputes both and compares, so a change to a
pack shows up as a reviewed diff of this table.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from conftest import FIXTURES, ROOT, TEST_ROOT_CA  # noqa: E402

TABLE = HERE / "data" / "pack_table.json"
README = ROOT / "README.md"
BEGIN, END = "<!-- pack-table:begin -->", "<!-- pack-table:end -->"
# (what the row stands for, fixture)
CASES = [
    ("GB 45438 label, Label 1", "gb-png-text.png"),
    ("GB 45438 label, Label 2", "gb-png-label2.png"),
    ("GB 45438 label, Label 3", "gb-png-label3.png"),
    ("IPTC trainedAlgorithmicMedia (unsigned)", "iptc-trained-http-element.jpg"),
    ("C2PA, trusted signer", "c2pa-ai-created.jpg"),
    ("C2PA, untrusted signer", "c2pa-ai-untrusted-ca.jpg"),
    ("generator traces only", "gen-a1111-parameters.png"),
    ("nothing", "plain.jpg"),
]
DECLARED = ("ai", "not-ai", "none")


def rows() -> list[dict]:
    from aigc_check import Checker, CheckOptions, shipped_policies

    out = []
    for pack in shipped_policies():
        checker = Checker(CheckOptions(policy=pack, trust_anchor_files=(str(TEST_ROOT_CA),)))
        own = set(checker.policy.data.get("disclosure_rules", {}))
        for case, name in CASES:
            for declared in DECLARED:
                r = checker.check(str(FIXTURES / name), declared)
                out.append(
                    {
                        "pack": pack,
                        "case": case,
                        "file": name,
                        "declared": declared,
                        "verdict": r.verdict.value,
                        "label": r.label,
                        "label_text": r.label_text,
                        "measures": r.measures,
                        "pack_findings": sorted({f.code for f in r.findings if f.code in own}),
                    }
                )
    return out


def markdown(table: list[dict]) -> str:
    parts = [BEGIN, ""]
    for pack in dict.fromkeys(r["pack"] for r in table):
        parts += [f"<details><summary><code>{pack}</code></summary>", ""]
        parts += ["| file shows | declared | verdict | label | label text | measures | pack findings |"]
        parts += ["| --- | --- | --- | --- | --- | --- | --- |"]
        for r in (r for r in table if r["pack"] == pack):
            text = " / ".join((r["label_text"] or {}).values()) or "—"
            parts.append(
                f"| {r['case']} | {r['declared']} | {r['verdict']} | {r['label'] or '—'} | {text} | "
                f"{', '.join(r['measures']) or '—'} | {', '.join(r['pack_findings']) or '—'} |"
            )
        parts += ["", "</details>", ""]
    parts.append(END)
    return "\n".join(parts)


def sync_readme(text: str, table: list[dict]) -> str:
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {BEGIN} ... {END} section")
    return pattern.sub(lambda _: markdown(table), text)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/pack_table.py --write")
    table = rows()
    TABLE.write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    README.write_text(sync_readme(README.read_text(encoding="utf-8"), table), encoding="utf-8")
    print(len(table), "rows")
