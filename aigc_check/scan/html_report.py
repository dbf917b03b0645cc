"""``report.html``: one self-contained page an auditor can hand on, which opens offline.

Inline CSS and script (``report/report.css``, ``report/report.js``, inlined when the page is
written), charts as inline SVG drawn here (they render without script); no network, no external
font.  The files to act on are one JSON array (``<script type="application/json">``) the script
filters, sorts and shows a page at a time, so 100,000 rows do not freeze the tab (the rows and
their thumbnails: ``report_rows.py``); its own words are one table (``report/text.json``, the
page's ``TEXT``).  Each section is its own function below.  Every text that comes from a file or
a sidecar (names may hold ``<``, control characters or undecodable bytes) goes through ``text``
(HTML) or ``report_rows.shown`` (the rows' JSON, written by the script as text nodes).

The verdict, status and label words are the policy's, in every language it
declares and in its order (``cn``: Chinese first); which statuses count as AI
is the policy's too.  The report's own words are the interface's (``data/interface_text.json``'s
``report`` for the sections written here, ``report/text.json`` for the script's), in the policy's
languages with a switch (``report_text.py``: every text written in each language, the switch shows
one; the script renders the rows again in the chosen language).
"""

from __future__ import annotations

import html
import json
import os
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources

from ..model import Verdict
from ..policy import Policy, policy_by_id
from ..signatures.fingerprints import FingerprintTable
from . import report as report_assets
from .accounts import RepeatOffenderRules
from .outputs import REPORT_HTML, open_text
from .report_rows import CONTROL_CHARS, ROW_FIELDS, ReportRows, RowsFile, escape_control, script_safe_json
from .report_text import SWITCH_SCRIPT, ReportText

MAX_ACCOUNT_ROWS = 5000
MAX_MISSING_ROWS = 1000
VERDICT_COLOURS = {
    Verdict.COMPLIANT: "#3a8d5d",
    Verdict.UNLABELLED_AI: "#c0392b",
    Verdict.MISLABELLED: "#8e44ad",
    Verdict.UNREADABLE: "#b7950b",
}
TO_ACT_ON = [v for v in Verdict if v is not Verdict.COMPLIANT]  # the verdicts the report lists
CHART_LABEL_PX = (190, 330)  # a chart's label column: at least, at most
CHART_LABEL_CLIP = 46  # longer labels are cut (in character widths: a CJK character counts two)
OTHERS = "(all others)"
# Tally keys no table row carries: their bars filter nothing.
UNFILTERABLE = {OTHERS, "(other)", "(none)"}


def text(value: object) -> str:
    """Safe HTML text for any value: lone surrogates and control characters shown as escapes."""
    s = "" if value is None else str(value)
    if s.isprintable():
        # Lone surrogates and every character CONTROL_CHARS escapes are ones str.isprintable rejects, so
        # a printable text only needs the HTML escapes (the report has tens of thousands of cells).
        return html.escape(s, quote=True)
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(CONTROL_CHARS.sub(escape_control, s), quote=True)


def plain_words(texts: Mapping[str, str], fallback: object) -> str:
    return " / ".join(texts.values()) or str(fallback)


def _units(s: str) -> int:
    """Width in character cells: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _clip(s: str) -> str:
    if _units(s) <= CHART_LABEL_CLIP:
        return s
    out, used = "", 0
    for c in s:
        used += _units(c)
        if used > CHART_LABEL_CLIP - 1:
            break
        out += c
    return out + "…"


def bar_chart(
    title: str,
    counts: Mapping[str, int],
    chart_id: str,
    colours: Mapping[str, str] | None = None,
    top: int = 12,
    filter_name: str | None = None,
    labels: Mapping[str, str] | None = None,
    caption: str | None = None,
    none: str = "none",
) -> str:
    """An inline SVG bar chart of ``counts`` (keys are codes; ``labels`` their display words).  With
    ``filter_name`` each bar is a control the page's script turns into that table filter."""
    items = sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], str(kv[0])))
    rest = sum(v for _, v in items[top:])
    items = items[:top] + ([(OTHERS, rest)] if rest else [])
    shown = {k: (labels or {}).get(k, str(k)) for k, _ in items}
    widest = max((_units(_clip(shown[k])) for k, _ in items), default=0)
    row_h, bar_w = 22, 260
    label_w = min(CHART_LABEL_PX[1], max(CHART_LABEL_PX[0], 7 * widest + 12))
    height = max(1, len(items)) * row_h + 8
    peak = max((v for _, v in items), default=1)
    parts = [
        f'<figure class="chart" id="{chart_id}"><figcaption>{caption or text(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" height="{height}" '
        f'role="img" aria-label="{text(title)}">'
    ]
    if not items:
        parts.append(f'<text x="4" y="16" class="muted">{text(none)}</text>')
    for i, (key, value) in enumerate(items):
        y = 4 + i * row_h
        width = max(2, round(bar_w * value / peak))
        colour = (colours or {}).get(key, "#3b6ea8")
        bar = (
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{text(_clip(shown[key]))}<title>'
            f'{text(shown[key])}</title></text><rect class="bar" x="{label_w}" y="{y + 3}" width="{width}" '
            f'height="{row_h - 6}" fill="{colour}"/><text x="{label_w + width + 6}" y="{y + 15}">{value:,}</text>'
        )
        if filter_name and key not in UNFILTERABLE:
            bar = (
                f'<g class="bar-link" role="button" tabindex="0" data-filter="{filter_name}" '
                f'data-value="{text(key)}">{bar}</g>'
            )
        parts.append(bar)
    parts.append("</svg></figure>")
    return "".join(parts)


def _read_jsonl(path: str | None) -> Iterator[dict]:
    if not path or not os.path.exists(path):
        return
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _verdict_words(policy: Policy | None, verdict: str) -> dict[str, str]:
    return policy.verdict_text(verdict) if policy else {}


def _cards(summary: dict, policy: Policy | None, t: ReportText) -> str:
    files = summary["files"]
    v = summary["verdicts"]
    checked = files["checked"] or 1
    if policy:
        ai = sum(n for s, n in summary["statuses"].items() if s in {a.value for a in policy.ai_statuses})
        share = f"{100 * ai / checked:.1f}%"
    else:
        share = "n/a"  # which statuses are AI is the policy's to say, and it is not known here
    cards = [
        (t("files checked"), f"{files['checked']:,}"),
        (t("violations"), f"{summary['violations']:,}"),
        *(
            (f'<span class="ml">{t.words(_verdict_words(policy, k), k.value)}</span>', f"{v.get(k.value, 0):,}")
            for k in TO_ACT_ON
        ),
        (t("AI share"), share),
        (t("skipped (not media)"), f"{sum(files['skipped'].values()):,}"),
    ]
    if summary.get("declarations"):
        cards.append((t("declared, file missing"), f"{summary['declarations']['missing_files'] or 0:,}"))
    return (
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{text(value)}</b>{name}</div>' for name, value in cards)
        + "</div>"
    )


def _asset(name: str) -> str:
    return resources.files(report_assets).joinpath(name).read_text(encoding="utf-8")


def interface_text(lang: str = "en") -> dict:
    """The script's own words in ``lang`` (one table of the page's ``TEXT``): ``report/text.json``."""
    table = json.loads(_asset("text.json"))
    return dict(table[lang] if lang in table else table["en"])


def _script_json(element_id: str, value: object) -> str:
    """A ``<script type="application/json">`` block: ``<``, ``>`` and ``&`` escaped, so no value
    (a file name holding ``</script>``) can end the block."""
    return f'<script type="application/json" id="{element_id}">{script_safe_json(value)}</script>'


def _policy_block(policy: Policy | None, fingerprints: FingerprintTable, summary: dict) -> dict:
    """The policy's words the page needs, once (the rows carry only codes)."""
    names = {g: fingerprints.display_name(g) for g in summary["generators"] if g in fingerprints.ids}
    colours = {v.value: c for v, c in VERDICT_COLOURS.items()}
    if policy is None:
        return {"colours": colours, "generator_names": names}
    data = policy.page_data()
    notes = policy.data.get("finding_advice", {})
    data.update(
        colours=colours,
        generator_names=names,
        measure_order=list(policy.data["measure_order"]),
        finding_advice={code: texts.get(policy.advice_language, "") for code, texts in notes.items()},
    )
    return data


def _header(summary: dict, t: ReportText) -> str:
    policy_info = summary["policy"]
    scanned = summary["scanned"]
    files = summary["files"]
    runs = summary.get("runs") or []
    first = summary.get("first_started") or summary["started"]
    total = files.get("elapsed_total_s", files["elapsed_s"])
    from_list = scanned["from_list"]
    intro = {
        lang: t.raw(
            lang,
            "intro runs",
            policy=policy_info["id"],
            name=policy_info["name"],
            paths=", ".join(scanned["paths"]) or "",
            list=t.raw(lang, "from_list", list=from_list) if from_list else "",
            first=first,
            total=f"{total:,.1f}",
            over=t.raw(lang, "over runs", n=len(runs)) if len(runs) > 1 else "",
            started=summary["started"],
            seconds=f"{files['elapsed_s']:,.1f}",
        )
        for lang in t.languages
    }
    out = f'<h1>{t("heading")}</h1><p class="muted">{t.spans(intro)}</p>'
    if len(runs) > 1:
        heads = ("run", "started", "ended", "seconds", "files checked", "interrupted?")
        out += (
            f'<details class="runs"><summary>{t("Runs (--resume)")}</summary><table class="runs" id="runs">'
            "<thead><tr>"
            + "".join(f"<th>{t(h)}</th>" for h in heads)
            + "</tr></thead><tbody>"
            + "".join(
                f'<tr><td class="n">{i}</td><td>{text(r.get("started"))}</td><td>{text(r.get("ended"))}</td>'
                f'<td class="n">{r.get("elapsed_s") or 0:,.1f}</td><td class="n">{r.get("checked") or 0:,}</td>'
                f"<td>{t('yes' if r.get('interrupted') else 'no')}</td></tr>"
                for i, r in enumerate(runs, 1)
            )
            + "</tbody></table></details>"
        )
    if summary["interrupted"]:
        out += f'<div class="banner">{t("interrupted")}</div>'
    return out


def _charts(summary: dict, policy: Policy | None, fingerprints: FingerprintTable, t: ReportText) -> str:
    verdict_names = {k: plain_words(_verdict_words(policy, k), k) for k in summary["verdicts"]}
    status_names = {k: plain_words(policy.status_text(k) if policy else {}, k) for k in summary["statuses"]}
    generator_names = {k: fingerprints.display_name(k) for k in summary["generators"]}
    colours = {v.value: c for v, c in VERDICT_COLOURS.items()}

    def chart(key: str, counts: Mapping[str, int], chart_id: str, **kw: object) -> str:
        return bar_chart(t.plain(key), counts, chart_id, caption=t(key), none=t.plain("none"), **kw)  # type: ignore[arg-type]

    parts = [
        f'<h2>{t("Overview")}</h2><p class="muted">{t("overview note")}</p><div class="charts">',
        chart(
            "Verdicts",
            summary["verdicts"],
            "chart-verdicts",
            colours=colours,
            filter_name="verdict",
            labels=verdict_names,
        ),
        chart("AI status", summary["statuses"], "chart-statuses", filter_name="status", labels=status_names),
        chart(
            "Generators (AI files)",
            summary["generators"],
            "chart-generators",
            filter_name="generator",
            labels=generator_names,
        ),
        chart("Formats", summary["formats"], "chart-formats", filter_name="format"),
        chart("Findings (integrity, conformance)", summary["findings"], "chart-findings", filter_name="finding"),
        "</div>",
    ]
    names = summary.get("generator_names") or {}
    if names:
        parts.append(
            f'<p class="muted">{t("name only note")} '
            + text(", ".join(f"{k} ({v:,})" for k, v in sorted(names.items(), key=lambda kv: -kv[1])[:30]))
            + "</p>"
        )
    return "".join(parts)


def _account_measure(r: dict, rules: RepeatOffenderRules | None, t: ReportText) -> str:
    """The account's suggested measure and why, in words: its score and the policy's grading."""
    if rules is None:
        return t("no grading")
    texts = {}
    for lang in t.languages:
        parts = [
            f"{w} × {r['unlabelled'] if verdict == Verdict.UNLABELLED_AI else r.get(verdict, 0)} {verdict}"
            for verdict, w in rules.weights.items()
        ]
        grading = t.raw(lang, "grading sep").join(
            t.raw(lang, "grade", action=t.word(lang, "measure_values", action), score=score)
            for score, action in rules.thresholds
        )
        texts[lang] = t.raw(
            lang,
            "account measure",
            score=f"{r['score']:,}",
            parts=" + ".join(parts) or "0",
            grading=grading,
            action=t.word(lang, "measure_values", r["action"]),
            basis=rules.basis_text.get(lang, rules.basis),
        )
    return t.spans(texts)


def _accounts(
    rows: list, rules: RepeatOffenderRules | None, basis: str | None, basis_text: dict | None, t: ReportText
) -> Iterator[str]:
    yield f'<h2 id="accounts-h">{t("Accounts", n=f"{len(rows):,}")}</h2>'
    if basis:
        texts = basis_text or {}
        lines = {lang: t.raw(lang, "suggested account actions", basis=texts.get(lang, basis)) for lang in t.languages}
        yield f'<p class="muted">{t.spans(lines)}</p>'
    if not rows:
        yield f'<p class="muted">{t("no accounts")}</p>'
        return
    heads = ("account", "posts", "AI share", "unlabelled", "mislabelled", "unreadable", "score", "suggested action")
    yield (
        f'<p class="muted">{t("accounts note")}</p>'
        '<table id="accounts"><thead><tr>' + "".join(f"<th>{t(h)}</th>" for h in heads) + "</tr></thead><tbody>"
    )
    measures: dict[str, str] = {}  # the policy's measure words, made once each

    def measure(action: str) -> str:
        if action not in measures:
            measures[action] = t.value("measure_values", action)
        return measures[action]

    for r in rows[:MAX_ACCOUNT_ROWS]:
        yield (
            f'<tr><td><button type="button" class="acct" data-account="{text(r["account"])}">{text(r["account"])}'
            f'</button></td><td class="n">{r["posts"]:,}</td>'
            f'<td class="n">{100 * r["ai_share"]:.0f}%</td><td class="n">{r["unlabelled"]:,}</td>'
            f'<td class="n">{r[Verdict.MISLABELLED]:,}</td><td class="n">{r[Verdict.UNREADABLE]:,}</td>'
            f'<td class="n">{r["score"]:,}</td><td class="act-{text(r["action"])}">{measure(r["action"])}</td></tr>'
        )
    yield "</tbody></table>"
    if len(rows) > MAX_ACCOUNT_ROWS:
        yield f'<p class="muted">{t("more accounts", n=f"{len(rows) - MAX_ACCOUNT_ROWS:,}")}</p>'
    yield '<div id="account-sections">'
    for r in rows[:MAX_ACCOUNT_ROWS]:
        yield (
            f'<section class="account" data-account="{text(r["account"])}" hidden><h3>{t("Account")} '
            f'{text(r["account"])} <button type="button" class="close-account">{t("close")}</button></h3><dl>'
            f"<dt>{t('posts')}</dt><dd>{r['posts']:,} ({r['ai']:,} AI, {100 * r['ai_share']:.0f}%)</dd>"
            f"<dt>{t('unlabelled AI')}</dt><dd>{r['unlabelled']:,}</dd>"
            f"<dt>{t('mislabelled')}</dt><dd>{r[Verdict.MISLABELLED]:,}</dd>"
            f"<dt>{t('unreadable')}</dt><dd>{r[Verdict.UNREADABLE]:,}</dd>"
            f'<dt>{t("suggested measure")}</dt><dd class="acct-measure"><b class="act-{text(r["action"])}">'
            f"{measure(r['action'])}</b>: {_account_measure(r, rules, t)}</dd></dl>"
            f'<h4>{t("signals note")}</h4><div class="acct-signals"></div>'
            f'<h4>{t("its files note")}</h4><div class="acct-files"></div></section>'
        )
    yield "</div>"


def _files_head(t: ReportText) -> str:
    filters = "".join(
        f'<label>{t(name)} <select id="f-{key}"><option value="" {t.attrs("all")}>{text(t.raw(t.first, "all"))}'
        "</option></select></label>"
        for key, name in (
            ("verdict", "Verdict"),
            ("status", "Status"),
            ("account", "Account"),
            ("generator", "Generator"),
            ("format", "Format"),
            ("finding", "Finding"),
        )
    )
    columns = "".join(
        f'<th data-sort="{key}">{t(name)}</th>' if key else f"<th>{t(name) if name else ''}</th>"
        for key, name in (
            ("", ""),
            ("file", "file"),
            ("verdict", "verdict"),
            ("status", "status / generator"),
            ("declared", "declared"),
            ("label", "label"),
            ("action", "action and why"),
            ("account", "account / post"),
            ("", "evidence"),
        )
    )
    return (
        f'<h2 id="files-h">{t("Files to act on")}</h2><p class="muted">{t("files note")}</p>'
        f'<div class="filters">{filters}<label>{t("Search")} <input id="q" type="search" '
        f'{t.attrs("search placeholder")} placeholder="{text(t.raw(t.first, "search placeholder"))}"></label>'
        f'<button type="button" id="clear">{t("Clear filters")}</button>'
        f'<button type="button" id="export">{t("Export this view as CSV")}</button></div>'
        f'<div class="pager"><button type="button" id="prev-page">{t("previous")}</button><span>{t("page")} '
        f'<span id="page-no">1 / 1</span></span><button type="button" id="next-page">{t("next")}</button>'
        f'<span class="muted">{t.around("shown", SHOWN_COUNT)}</span></div>'
        f'<table id="issues"><thead><tr>{columns}</tr></thead><tbody></tbody></table>'
        f'<p id="no-rows" class="muted" hidden>{t("no rows")}</p>'
    )


SHOWN_COUNT = '<span id="shown">0</span>'  # the script writes how many rows the view holds


def _missing_table(missing: Iterable[dict], total: int, t: ReportText) -> Iterator[str]:
    heads = ("sidecar line", "path", "declared", "account", "post")
    yield (
        f'<h2>{t("Declared but not found", n=f"{total:,}")}</h2><p class="muted">{t("missing note")}</p>'
        '<table id="missing"><thead><tr>' + "".join(f"<th>{t(h)}</th>" for h in heads) + "</tr></thead><tbody>"
    )
    for i, m in enumerate(missing):
        if i >= MAX_MISSING_ROWS:
            break
        yield (
            f'<tr><td class="n">{m["line"]}</td><td class="path">{text(m["path"])}</td>'
            f"<td>{t.value('declared_values', m['declared'])}</td><td>{text(m['account'] or '')}</td>"
            f"<td>{text(m['post_id'] or '')}</td></tr>"
        )
    yield "</tbody></table>"


def _walk_problems(summary: dict, t: ReportText) -> str:
    problems = summary["walk_problems"]["examples"]
    if not problems:
        return ""
    return (
        f"<h2>{t('Folders not fully scanned')}</h2><ul>"
        + "".join(f"<li>{text(p['code'])}: {text(p['path'])}: {text(p['message'])}</li>" for p in problems)
        + "</ul>"
    )


def write_report(
    out_dir: str,
    summary: dict,
    accounts: list,
    issues_path: str,
    missing_path: str | None,
    thumbnails: int = 200,
    policy: Policy | None = None,
    fingerprints: FingerprintTable | None = None,
    rows: RowsFile | None = None,
) -> str:
    """Write report.html from the summary and the streamed issue list; return its path.

    ``rows``: the rows written already while the scan ran (a ``RowsFile``), copied in place of
    the issue list's.

    ``policy`` is the one the scan judged by (its words, languages and AI statuses); by default the
    one this process loaded under the summary's policy id.  Without one the report shows the codes.
    ``fingerprints``: the table the generator names are canonicalised by (default: the shipped one)."""
    path = os.path.join(out_dir, REPORT_HTML)
    tmp = path + ".tmp"
    rules = policy or policy_by_id(summary["policy"]["id"])
    table = fingerprints or FingerprintTable.load()
    grading = RepeatOffenderRules.from_policy(rules) if rules else None
    t = ReportText(rules)
    with open_text(tmp, "w") as f:
        f.write(
            f'<!DOCTYPE html><html {t.html_attrs()}><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            f"<title>{text(t.plain('title'))}</title><style>{_asset('report.css')}{t.css()}</style></head><body>"
        )
        f.write(t.switch())
        f.write(_header(summary, t))
        f.write(_cards(summary, rules, t))
        f.write(_charts(summary, rules, table, t))
        basis, basis_text = summary["policy"].get("repeat_offenders"), summary["policy"].get("repeat_offenders_text")
        f.writelines(_accounts(accounts, grading, basis, basis_text, t))
        if summary.get("similar"):  # scan --similar: clusters and account signals (html_clusters.py)
            from .html_clusters import similar_sections

            f.writelines(similar_sections(out_dir, summary, accounts, thumbnails, t))
        f.write(_files_head(t))
        declarations = summary.get("declarations")
        if declarations and declarations.get("missing_files"):
            f.writelines(_missing_table(_read_jsonl(missing_path), declarations["missing_files"], t))
        f.write(_walk_problems(summary, t))
        f.write(f'<p class="muted">{t("footer")}</p>')
        f.write(_script_json("report-text", {lang: interface_text(lang) for lang in t.languages}))
        f.write(_script_json("report-policy", _policy_block(rules, table, summary)))
        if rows is not None:
            rows.copy_into(f)
        else:
            ReportRows(rules, table, thumbnails).write(f, _read_jsonl(issues_path))
        f.write(f"<script>{SWITCH_SCRIPT}</script><script>{_asset('report.js')}</script></body></html>\n")
    os.replace(tmp, path)
    return path


def page_rows(page: str) -> list[dict]:
    """The rows a written report.html lists, decoded as its script decodes them (``ROW_FIELDS``
    keys, shared strings resolved): for tests and for tools that read a report back."""

    def block(element_id: str) -> list:
        start = page.index(f'<script type="application/json" id="{element_id}">')
        start = page.index(">", start) + 1
        return json.loads(page[start : page.index("</script>", start)])

    strings = block("report-strings")
    out = []
    for values in block("report-rows"):
        row = dict(zip(ROW_FIELDS, values))
        for key in ("v", "s", "g", "gn", "gm", "f", "d", "l", "a", "ac"):
            row[key] = strings[row[key]]
        for key in ("w", "fi"):
            flat = [strings[i] for i in row[key]]
            row[key] = [flat[i : i + 2] for i in range(0, len(flat), 2)]
        row["e"] = [strings[i] for i in row["e"]]
        row["ev"] = [strings[i] for i in row["ev"]]
        out.append(row)
    return out
