"""What ``aigc-check policies``, ``policy show`` and ``policy check`` print: a pack's name, date,
sources and effective rules, as text for a person or JSON for a program."""

from __future__ import annotations

import json

from .policy import Policy, load_policy, shipped_policies
from .policy_packs import pack_summary


def summaries() -> list[dict]:
    """Every shipped pack, as ``pack_summary`` describes it."""
    out = []
    for pid in shipped_policies():
        policy = load_policy(pid)
        out.append(pack_summary(policy.data, policy.extends))
    return out


def listing_text(packs: list[dict]) -> str:
    lines = []
    for p in packs:
        extends = f", extends {' > '.join(p['extends'])}" if p["extends"] else ""
        lines.append(f"{p['id']}  [{p['kind']}, as of {p['date'] or '?'}{extends}; {', '.join(p['languages'])}]")
        lines.append(f"    {p['name']}")
        for s in p["sources"]:
            mark = "primary text read" if s["verified"] else "UNVERIFIED"
            lines.append(f"    - {s['id']} ({s['date']}, {mark}): {s['title']}")
            lines.append(f"      {s['url']}")
    return "\n".join(lines)


def effective_json(policy: Policy) -> str:
    """The effective rules after ``extends``, with the chain they came from."""
    return json.dumps({"extends": list(policy.extends), **policy.data}, ensure_ascii=False, indent=2)


def check_text(policy: Policy, path: str) -> str:
    sources = policy.data.get("sources", {})
    unverified = [sid for sid, s in sources.items() if not s.get("verified")]
    extends = f", extends {' > '.join(policy.extends)}" if policy.extends else ""
    lines = [
        f"{path}: a valid policy, id {policy.id}{extends}; languages {', '.join(policy.languages)}",
        f"  {len(sources)} sources ({len(unverified)} unverified), {len(policy.data.get('obligations', {}))} "
        f"obligations, {len(policy.data.get('disclosure_rules', {}))} disclosure rules",
    ]
    return "\n".join(lines)
