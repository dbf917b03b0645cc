"""Policy files for the tests: the shipped ones as data, and variants written to a temporary folder."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ROOT

POLICIES = ROOT / "aigc_check" / "policies"
TEXT_TABLES = (
    "verdict_text",
    "status_text",
    "label_text",
    "advice",
    "finding_advice",
    "cause_advice",
    "declaration_text",
)
# A rule pack's texts nested one level deeper: (section, the text keys of each entry).
NESTED_TEXTS = (("obligations", ("summary", "how")), ("disclosure_rules", ("message",)))


def shipped_data(name: str = "cn") -> dict:
    return json.loads((POLICIES / f"{name}.json").read_text(encoding="utf-8"))


def only_languages(data: dict, languages: list[str], policy_id: str) -> dict:
    """``data`` speaking only ``languages``: other languages dropped from every text table, and the
    templates' ``{label_xx}`` fields for them removed."""
    data = json.loads(json.dumps(data))
    data["id"] = policy_id
    data["languages"] = languages
    data["advice_language"] = languages[0] if data.get("advice_language") not in languages else data["advice_language"]
    for table in TEXT_TABLES:
        for texts in data.get(table, {}).values():
            for lang in [k for k in texts if k not in languages]:
                del texts[lang]
    for section, keys in NESTED_TEXTS:
        for entry in data.get(section, {}).values():
            for key in keys:
                entry[key] = {k: v for k, v in entry[key].items() if k in languages}
    if "label_clause" in data:
        data["label_clause"] = {k: v for k, v in data["label_clause"].items() if k in languages}
    # The accounts section's texts (policy_accounts.py): each signal's reason, each grade's text.
    accounts = data.get("accounts", {})
    for texts in [s["reason"] for s in accounts.get("signals", {}).values()] + [
        g["text"] for g in accounts.get("grades", [])
    ]:
        for lang in [k for k in texts if k not in languages]:
            del texts[lang]
    # The gradings' rule in each language (basis_text of repeat_offenders and accounts).
    for section in ("repeat_offenders", "accounts"):
        texts = data.get(section, {}).get("basis_text", {})
        for lang in [k for k in texts if k not in languages]:
            del texts[lang]
    dropped = {"zh", "en"} - set(languages)
    for texts in data["advice"].values():
        for lang, template in texts.items():
            for other in dropped:
                template = template.replace(f" ({{label_{other}}})", "").replace(f"{{label_{other}}}", "{label}")
            texts[lang] = template
    return data


def write_policy(folder: Path, data: dict, name: str | None = None) -> Path:
    path = folder / f"{name or data['id']}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def english_only(folder: Path) -> Path:
    """A user's policy file: the ``cn`` rules, English texts only."""
    return write_policy(folder, only_languages(shipped_data("cn"), ["en"], "cn-en"))
