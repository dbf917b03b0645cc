"""Rule packs: policies that extend each other, and what a pack says about itself.

A policy may name another in ``"extends"`` (a shipped id, or a path, relative to the file that
names it) and write only what differs.  The effective policy is the parent's data with the child
applied as a JSON Merge Patch (RFC 7396): objects are merged key by key, any other value (a text,
a list, a number) replaces the parent's, and ``null`` removes the key.  Nothing here knows any
section by name, so every section (``accounts`` included) inherits the same way.  The merged
result is then validated as a whole by ``policy._validate``, so an error names the child's file.

A pack also documents itself, and that is validated here: ``sources`` (each primary text or
secondary report the pack relies on, with its date and whether it was confirmed from a primary
text), ``text_sources`` (which source each text a person reads was taken from), ``obligations``
(each rule with its article, and whether a metadata checker can verify it), ``declaration_text``
(the wording a platform offers the creator), ``disclosure_rules`` (which parts of the result's
``disclosure`` object must be present, and the finding when they are not) and ``accounts`` (the
account rules; the account-signals work owns their finer schema).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import PolicyError
from .model import Finding

MAX_EXTENDS_DEPTH = 8  # a chain longer than this is a mistake (or a cycle through paths)
PACK_KINDS = ("base", "jurisdiction", "platform", "user")
CHECKED = ("yes", "partly", "no")
LATENT_ELEMENTS = ("provider", "system", "version", "time", "identifier")
# What a disclosure rule may require of the result's ``disclosure`` object.
DISCLOSURE_CHECKS = ("latent-elements", "provenance", "signature", "timestamp")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FINDING_CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEVERITIES = ("error", "warning", "info")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch of ``patch`` onto ``target`` (neither is changed).

    Written here: the algorithm is the RFC's ten lines, and the libraries that implement it
    (json-merge-patch, jsonmerge) would be a runtime dependency for those ten lines."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


@dataclass(frozen=True)
class RawPolicy:
    data: dict
    where: str  # the file, for messages: a path, or ``cn.json`` for a shipped one
    folder: Path | None  # where a relative ``extends`` path is looked up (None: shipped)


def read_raw(name_or_path: str, relative_to: Path | None = None) -> RawPolicy:
    """The JSON object of a policy file, not yet extended or validated."""
    path = Path(name_or_path)
    if relative_to is not None and not path.is_absolute() and (path.suffix == ".json" or "/" in name_or_path):
        path = relative_to / path
    try:
        if path.suffix == ".json" or path.exists():
            where, folder = str(path), path.resolve().parent
            text = path.read_text(encoding="utf-8")
        else:
            where, folder = f"{name_or_path}.json", None
            text = resources.files("aigc_check.policies").joinpath(where).read_text(encoding="utf-8")
        data = json.loads(text)
    except FileNotFoundError as exc:
        raise PolicyError(f"no policy named {name_or_path!r} (shipped: {', '.join(shipped_ids())})") from exc
    except (OSError, ValueError) as exc:
        raise PolicyError(f"policy {name_or_path} could not be read: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"policy {name_or_path} must be a JSON object")
    return RawPolicy(data, where, folder)


def resolve(raw: RawPolicy, read: Callable[[str, Path | None], RawPolicy] = read_raw) -> tuple[dict, tuple[str, ...]]:
    """The effective data of ``raw`` (its ``extends`` chain applied) and the chain of ids it
    extends, nearest first.  ``extends`` itself is not in the result."""
    chain: list[RawPolicy] = [raw]
    seen = {raw.where}
    while "extends" in chain[-1].data:
        child = chain[-1]
        parent_name = child.data["extends"]
        if not isinstance(parent_name, str) or not parent_name.strip():
            raise PolicyError(f"{child.where}: extends must name a shipped policy or a policy file")
        if len(chain) > MAX_EXTENDS_DEPTH:
            raise PolicyError(f"{raw.where}: extends is nested more than {MAX_EXTENDS_DEPTH} deep")
        try:
            parent = read(parent_name, child.folder)
        except PolicyError as exc:
            raise PolicyError(f"{child.where}: extends {parent_name!r}: {exc}") from exc
        if parent.where in seen:
            raise PolicyError(f"{child.where}: extends {parent_name!r}, which extends it again (a cycle)")
        seen.add(parent.where)
        chain.append(parent)
    data: dict = {}
    for link in reversed(chain):
        data = merge_patch(data, {k: v for k, v in link.data.items() if k != "extends"})
    ids = tuple(str(link.data.get("id", link.where)) for link in chain[1:])
    return data, ids


def shipped_ids() -> list[str]:
    return sorted(p.name[:-5] for p in resources.files("aigc_check.policies").iterdir() if p.name.endswith(".json"))


# --- validation of what a pack says about itself -------------------------------------------------


def validate_pack(data: dict, where: str, languages: list[str], texts: Callable[..., None]) -> None:
    """The pack's own sections; ``texts`` is ``policy._texts`` (one text per declared language)."""
    if "kind" in data and data["kind"] not in PACK_KINDS:
        raise PolicyError(f"{where}: kind must be one of {', '.join(PACK_KINDS)}")
    if "date" in data and not (isinstance(data["date"], str) and DATE.match(data["date"])):
        raise PolicyError(f"{where}: date must be the pack's as-of date, YYYY-MM-DD")
    sources = data.get("sources", {})
    _sources(sources, where)
    for path, entry in _object(data, "text_sources", where).items():
        if not isinstance(entry, dict) or set(entry) - {"source", "verified", "note"}:
            raise PolicyError(f"{where}: text_sources.{path} must be {{source, verified, note}}")
        if entry.get("source") not in sources:
            raise PolicyError(f"{where}: text_sources.{path}.source {entry.get('source')!r} is not one of sources")
        if not isinstance(entry.get("verified"), bool):
            raise PolicyError(f"{where}: text_sources.{path}.verified must be true or false")
        if entry["verified"] and not sources[entry["source"]].get("verified"):
            raise PolicyError(
                f"{where}: text_sources.{path} is marked verified but its source {entry['source']} is not"
            )
        if _lookup(data, path) is None:
            raise PolicyError(f"{where}: text_sources.{path} names no text of this policy")
    for table in ("label_text", "declaration_text"):
        if sources and data.get("kind") == "platform":
            for item in data.get(table, {}):
                if f"{table}.{item}" not in data.get("text_sources", {}):
                    raise PolicyError(f"{where}: {table}.{item} has no entry in text_sources (its source)")
    for declared, wording in _object(data, "declaration_text", where).items():
        if declared not in ("ai", "not-ai", "none"):
            raise PolicyError(f"{where}: declaration_text.{declared} is not a declaration (ai, not-ai, none)")
        texts(where, f"declaration_text.{declared}", wording, languages)
    for key, rule in _object(data, "obligations", where).items():
        _obligation(where, key, rule, sources, languages, texts)
    for code, rule in _object(data, "disclosure_rules", where).items():
        _disclosure_rule(where, code, rule, languages, texts)
        if "obligation" in rule and rule["obligation"] not in data.get("obligations", {}):
            raise PolicyError(
                f"{where}: disclosure_rules.{code}.obligation {rule['obligation']!r} is not one of obligations"
            )
    accounts = data.get("accounts")
    if accounts is not None and not isinstance(accounts, dict):
        raise PolicyError(f"{where}: accounts must be an object")


def _object(data: dict, key: str, where: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: {key} must be an object")
    return value


def _sources(sources: object, where: str) -> None:
    if not isinstance(sources, dict):
        raise PolicyError(f"{where}: sources must be an object keyed by source id")
    for sid, source in sources.items():
        if not isinstance(source, dict):
            raise PolicyError(f"{where}: sources.{sid} must be an object")
        for key in ("title", "url", "date"):
            if not isinstance(source.get(key), str) or not source[key].strip():
                raise PolicyError(f"{where}: sources.{sid} lacks {key}")
        if not DATE.match(source["date"]):
            raise PolicyError(f"{where}: sources.{sid}.date must be YYYY-MM-DD")
        if not isinstance(source.get("verified"), bool):
            raise PolicyError(f"{where}: sources.{sid}.verified must be true (read in a primary text) or false")
        unknown = set(source) - {"title", "url", "date", "verified", "kind", "note"}
        if unknown:
            raise PolicyError(f"{where}: sources.{sid} has unknown key {sorted(unknown)[0]}")


def _obligation(
    where: str, key: str, rule: object, sources: dict, languages: list[str], texts: Callable[..., None]
) -> None:
    path = f"obligations.{key}"
    if not isinstance(rule, dict):
        raise PolicyError(f"{where}: {path} must be an object")
    unknown = set(rule) - {"source", "article", "summary", "checked", "how", "applies_from"}
    if unknown:
        raise PolicyError(f"{where}: {path} has unknown key {sorted(unknown)[0]}")
    if rule.get("source") not in sources:
        raise PolicyError(f"{where}: {path}.source {rule.get('source')!r} is not one of sources")
    if not isinstance(rule.get("article"), str) or not rule["article"].strip():
        raise PolicyError(f"{where}: {path} lacks article (the clause it cites)")
    if rule.get("checked") not in CHECKED:
        raise PolicyError(f"{where}: {path}.checked must be one of {', '.join(CHECKED)}")
    if "applies_from" in rule and not (isinstance(rule["applies_from"], str) and DATE.match(rule["applies_from"])):
        raise PolicyError(f"{where}: {path}.applies_from must be YYYY-MM-DD")
    for text_key in ("summary", "how"):
        if text_key not in rule:
            raise PolicyError(f"{where}: {path} lacks {text_key}")
        texts(where, f"{path}.{text_key}", rule[text_key], languages)


def _disclosure_rule(where: str, code: str, rule: object, languages: list[str], texts: Callable[..., None]) -> None:
    path = f"disclosure_rules.{code}"
    if not FINDING_CODE.match(code):
        raise PolicyError(f"{where}: {path}: a finding code is lower-case words joined by '-'")
    if not isinstance(rule, dict):
        raise PolicyError(f"{where}: {path} must be an object")
    unknown = set(rule) - {"check", "elements", "severity", "message", "obligation"}
    if unknown:
        raise PolicyError(f"{where}: {path} has unknown key {sorted(unknown)[0]}")
    if rule.get("check") not in DISCLOSURE_CHECKS:
        raise PolicyError(f"{where}: {path}.check must be one of {', '.join(DISCLOSURE_CHECKS)}")
    if rule["check"] == "latent-elements":
        elements = rule.get("elements")
        if not isinstance(elements, list) or not elements or any(e not in LATENT_ELEMENTS for e in elements):
            raise PolicyError(f"{where}: {path}.elements must list some of {', '.join(LATENT_ELEMENTS)}")
    if rule.get("severity") not in SEVERITIES:
        raise PolicyError(f"{where}: {path}.severity must be one of {', '.join(SEVERITIES)}")
    texts(where, f"{path}.message", rule.get("message"), languages, {"missing"})


def _lookup(data: dict, path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def pack_summary(data: dict, chain: Iterable[str]) -> dict[str, Any]:
    """What ``aigc-check policies`` lists of a pack."""
    sources = data.get("sources", {})
    return {
        "id": data["id"],
        "name": data.get("name", data["id"]),
        "kind": data.get("kind", "user"),
        "date": data.get("date"),
        "extends": list(chain),
        "languages": list(data["languages"]),
        "sources": [
            {"id": sid, **{k: s[k] for k in ("title", "url", "date", "verified")}} for sid, s in sources.items()
        ],
    }


# What a disclosure rule found missing, in the advice language's words (English); the text report
# in another language shows them from interface_text.json (``missing_values``, ``element_values``).
MISSING_PROVENANCE, MISSING_SIGNATURE, MISSING_TIME = "provenance data", "a valid digital signature", "a time"


def _missing(rule: dict, disclosure: Any) -> list[str]:
    check = rule["check"]
    if check == "latent-elements":
        return (
            [e for e in rule["elements"] if e in disclosure.latent_missing] if disclosure.provenance_available else []
        )
    if check == "provenance":
        return [] if disclosure.provenance_available else [MISSING_PROVENANCE]
    if check == "signature":
        return [MISSING_SIGNATURE] if disclosure.provenance_available and disclosure.signature_valid is not True else []
    if check == "timestamp" and disclosure.signature_present and disclosure.time is None:
        return [MISSING_TIME]
    return []


def disclosure_findings(
    rules: dict, disclosure: Any, is_ai: bool, policy: Any, lang: str | None = None
) -> list[Finding]:
    """The findings of a policy's ``disclosure_rules`` for one file: each rule concerns AI content
    only (a camera photo owes no latent AI disclosure), and its message is in the policy's
    ``advice_language`` (the contract's), or in ``lang`` for a person reading another language."""
    if not is_ai or not rules:
        return []
    lang = lang or policy.advice_language
    words: dict[str, Any] = {}
    if lang != "en":
        from .interface_text import languages
        from .interface_text import words as interface_words

        table = interface_words(lang) if lang in languages() else {}
        words = {**table.get("missing_values", {}), **table.get("element_values", {})}
    out = []
    for code, rule in rules.items():
        missing = _missing(rule, disclosure)
        if missing:
            said = [str(words.get(m, m)) for m in missing]
            message = rule["message"][lang].format(missing=("、" if lang == "zh" else ", ").join(said))
            out.append(Finding(code, rule["severity"], message, "disclosure"))
    return out
