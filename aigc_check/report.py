"""Render results: one JSON object per line for machines, plain text for people.

The words a person reads (verdict, status, label, advice) come from the policy that judged the
file, in every language it declares and in its order: ``cn`` shows Chinese first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from .errors import UsageError
from .interface_text import words
from .model import CheckResult, Disclosure, Indicates, Status, Strength, printable
from .policy import Policy, ordered, policy_by_id

# One encoder for every line: ``json.dumps`` with any option builds a new one per call (a fifth of
# a small result's line).  Same options, same text.
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=False)


def to_json_line(result: CheckResult) -> str:
    return _LINE_ENCODER.encode(result.to_dict())


def _joined(texts: Mapping[str, str], languages: Iterable[str], fallback: str) -> str:
    """The texts in every language, ``zh / en``; the code itself when there are none."""
    return " / ".join(text for _, text in ordered(texts, languages)) or fallback


# Folded into the Disclosure line ("signer not on the trust list") rather than a line of its own:
# every file signed by a signer outside the trust list has it, so as a line it is noise.
UNTRUSTED_SIGNER = "c2pa-untrusted-signer"
# A role for ``style``: the headline is styled by its verdict, these lines by their severity.
Style = Callable[[str, str], str]


def _plain(text: str, role: str) -> str:
    return text


def to_text(
    result: CheckResult,
    policy: Policy | None = None,
    lang: str | None = None,
    verbose: bool = False,
    style: Style = _plain,
) -> str:
    """The result for a person.  ``policy`` is the one that judged it (by default the policy this
    process loaded under the result's ``policy`` id, or the shipped one); without it the codes are
    shown and the label in the languages the result carries.

    ``lang`` (``check --lang``): one language throughout, the interface's words included; it must be
    one the policy declares.  Without it the interface is English and the policy's texts are shown
    in every language it declares.

    The measures and the integrity findings are said in words; ``verbose`` (``check -v``) adds the
    codes behind them (the measure codes, each finding's code, raw message and location, and the
    untrusted-signer note).  ``style(text, role)`` colours the headline (role: the verdict) and the
    finding lines (role: the severity); by default the text is left plain."""
    r = result
    policy = policy or policy_by_id(r.policy)
    if lang is not None and policy is not None and lang not in policy.languages:
        raise UsageError(f"policy {policy.id} has no texts in {lang!r} (it declares {', '.join(policy.languages)})")
    w = words(lang or "en")
    languages = (lang,) if lang else policy.languages if policy else ()

    def texts(found: Mapping[str, str] | None, fallback: str) -> str:
        if lang:
            return (found or {}).get(lang) or fallback
        return _joined(found or {}, languages, fallback)

    def value(table: str, code: str) -> str:
        return str(w[table].get(code, code)) if lang else code

    # File names and metadata values come from the file: escape control characters and line breaks
    # in them, so a file can neither drive the terminal nor fake a line of this report.
    p = printable
    verdict = texts(policy.verdict_text(r.verdict) if policy else {}, r.verdict)
    lines = [
        style(f"{p(r.path)}: {verdict.upper()}", r.verdict) + f"  ({r.format or w['unknown format']}, {w['declared']} "
        f"{value('declared_values', r.declared.value)}, {w['policy']} {r.policy})"
    ]
    status = texts(policy.status_text(r.status) if policy else {}, r.status.value)
    if r.status is not Status.UNKNOWN:
        status += f", {w['certainty']} {value('certainty_values', r.certainty)}"
        status += f", {w['generator']} {p(r.generator)}" if r.generator else ""
    lines.append(f"  {w['Status']}:  {status}")
    deciding = [e for e in r.evidence if e.strength is not Strength.WEAK and e.indicates is not Indicates.INFO]
    other = [e for e in r.evidence if e not in deciding]
    if deciding:
        lines.append(f"  {w['Found']}:")
        lines.extend(f"    - {p(e.explanation)}\n      {w['at']} {p(e.location)}" for e in deciding)
    if other:
        lines.append(f"  {w['Also noted (not decisive)']}:")
        lines.extend(f"    - {p(e.explanation)} ({w['at']} {p(e.location)})" for e in other)
    if r.label_text:
        lines.append(f"  {w['Label']}:   {texts(r.label_text, r.label or '')}  [{r.label}]")
    else:
        lines.append(f"  {w['Label']}:   {w['none required']}")
    lines.append(f"  {w['Action']}:  {_measures_in_words(r, w, verbose)}")
    untrusted = any(f.code == UNTRUSTED_SIGNER for f in r.findings)
    if r.disclosure.provenance_available:
        # Which latent-disclosure elements are missing matters under a policy that asks for them (its
        # disclosure rules: California's); elsewhere it is shown with -v only, not to every creator.
        latent = verbose or bool(policy is not None and policy.data.get("disclosure_rules"))
        lines.append(f"  {w['Disclosure']}: {_disclosure_line(r.disclosure, w, value, untrusted, latent)}")
    finding_words: dict[str, str] = w["finding_words"]
    # The policy's own findings (its disclosure rules) in the language asked; the readers' and
    # signatures' findings are English (their messages are made by code, not from texts).
    own = {}
    if lang and policy is not None and lang != policy.advice_language:
        own = {
            f.code: f.message for f in policy.disclosure_findings(r.disclosure, r.status in policy.ai_statuses, lang)
        }
    for f in r.findings:
        if f.code == UNTRUSTED_SIGNER and r.disclosure.signature_present and not verbose:
            continue  # said on the Disclosure line
        severity = str(w.get(f.severity, f.severity.upper())) if lang else f.severity.upper()
        message = own.get(f.code, f.message) if f.location == "disclosure" else f.message
        if verbose or f.code not in finding_words:
            text = f"{f.code}: {p(message)}" + (f" [{p(f.location)}]" if f.location and verbose else "")
        else:
            text = finding_words[f.code]
        lines.append(style(f"  {severity:7}  ", f.severity) + text)
    for e in r.errors:
        where = f" [{p(e.location)}]" if e.location and verbose else ""
        lines.append(style(f"  {w['error']:7}  ", "error") + f"{e.code}: {p(e.message)}{where}")
    advice = [r.advice]
    if policy and (len(languages) > 1 or (lang and lang != policy.advice_language)):
        try:
            codes = [e.code for e in r.errors] + [f.code for f in r.findings]  # as Policy.decide has them
            advice_texts = policy.advice_texts(r.verdict, r.status, r.label, codes)
        except (KeyError, ValueError):  # a result this policy did not make (another file of the same id)
            advice_texts = {}
        if advice_texts:
            advice_texts[policy.advice_language] = r.advice  # exactly the contract's string
            advice = [advice_texts[lang]] if lang else [text for _, text in ordered(advice_texts, languages)]
    label = f"  {w['What to do']}: "
    lines.append(label + advice[0])
    lines.extend(" " * len(label) + text for text in advice[1:])
    return "\n".join(lines)


def _measures_in_words(r: CheckResult, w: dict, verbose: bool) -> str:
    """What the platform does, the way the creator page says it ("the post's reach is restricted");
    with ``verbose`` the codes follow: ``[restrict-exposure: add-label, restrict-exposure]``."""
    said: dict[str, str] = w["measure_words"]
    words_ = str(w["list separator"]).join(said.get(m, m) for m in r.measures) or said["none"]
    if not verbose:
        return words_
    return f"{words_}  [{r.action}: {', '.join(r.measures) or 'none'}]"


def _disclosure_line(
    d: Disclosure, w: dict, value: Callable[[str, str], str], untrusted: bool = False, latent: bool = True
) -> str:
    """One line of what the provenance data discloses: standards, signer and signature state (and
    whether the signer is on the trust list), identities, watermark evidence, and the
    latent-disclosure elements that are missing."""
    p = printable
    parts = [f"{w['provenance data']} {', '.join(d.provenance)}"]
    if d.signature_present:
        state = {True: w["signature valid"], False: w["signature invalid"], None: w["signature not validated"]}
        trusted = f", {w['trusted']}" if d.signature_trusted else f", {w['not on the trust list']}" if untrusted else ""
        parts.append(f"{w['signed by']} {p(d.signer or '?')} ({state[d.signature_valid]}{trusted})")
    if d.identity:
        parts.append(f"{w['identity']} {p('; '.join(d.identity))}")
    if d.watermark:
        parts.append(f"{w['watermark']} {p('; '.join(d.watermark))}")
    if latent and d.latent_missing:
        missing = ", ".join(value("element_values", e) for e in d.latent_missing)
        parts.append(f"{w['latent disclosure lacks']} {missing}")
    return "; ".join(parts)


def summary_line(results: Iterable[CheckResult]) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no files"
