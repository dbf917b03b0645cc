"""``report.html``: one self-contained page an auditor can hand on, which opens offline.

Inline CSS, charts as inline SVG drawn here (they render without script), a
few lines of inline script only for filtering the table; no network, no
external font.  Every text that comes from a file or a sidecar (names may
hold ``<``, control characters or undecodable bytes) goes through ``text``.
Thumbnails are re-encoded by Pillow into small JPEG data URIs, for image
violations only and at most ``thumbnails`` of them.

The verdict, status and label words are the policy's, in every language it
declares and in its order (``cn``: Chinese first); which statuses count as AI
is the policy's too.  The report's own words are the interface's
(``data/interface_text.json``), in the policy's languages, with a switch
between them (``report_text.py``: every text is written in each language and
the switch only shows one; the data rows and their filter are unaffected).
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping

from ..model import VIOLATIONS, Verdict, result_path
from ..policy import Policy, policy_by_id
from .outputs import REPORT_HTML, open_text
from .report_text import SWITCH_SCRIPT, ReportText

THUMB_PX = 96
THUMB_MAX_PIXELS = 40_000_000  # larger images are not decoded for a thumbnail (decompression bombs)
THUMB_FORMATS = {"jpeg", "png", "webp", "gif", "tiff"}
MAX_ACCOUNT_ROWS = 5000
MAX_MISSING_ROWS = 1000
# Control characters, and the bidirectional controls and separators that would reorder or break a shown name.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u2028\u2029]")
VERDICT_COLOURS = {
    Verdict.COMPLIANT: "#3a8d5d",
    Verdict.UNLABELLED_AI: "#c0392b",
    Verdict.MISLABELLED: "#8e44ad",
    Verdict.UNREADABLE: "#b7950b",
}
SHOWN_COUNT = '<span id="shown">0</span>'  # the filter script writes how many rows are shown
TO_ACT_ON = [v for v in Verdict if v is not Verdict.COMPLIANT]  # the verdicts the report lists
CHART_LABEL_PX = (190, 330)  # a chart's label column: at least, at most
CHART_LABEL_CLIP = 46  # longer labels are cut (in character widths: a CJK character counts two)


def text(value: object) -> str:
    """Safe HTML text for any value: lone surrogates and control characters shown as escapes."""
    s = "" if value is None else str(value)
    if s.isprintable():
        # Lone surrogates and every character _CONTROL escapes are ones str.isprintable rejects, so
        # a printable text only needs the HTML escapes (the report has tens of thousands of cells).
        return html.escape(s, quote=True)
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(_CONTROL.sub(_escape, s), quote=True)


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c <= 0xFF else f"\\u{c:04x}"


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
    counts: dict,
    chart_id: str,
    colours: dict | None = None,
    top: int = 12,
    caption: str | None = None,
    others: str = "all others",
    none: str = "none",
) -> str:
    """``title`` is plain text (the aria label); ``caption`` the figure's HTML caption (by default the
    title escaped); ``others`` and ``none`` the plain words for the rest bar and an empty chart."""
    items = sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], str(kv[0])))
    rest = sum(v for _, v in items[top:])
    items = items[:top] + ([(f"({others})", rest)] if rest else [])
    widest = max((_units(_clip(str(k))) for k, _ in items), default=0)
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
        label = _clip(str(key))
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{text(label)}<title>{text(key)}'
            f'</title></text><rect class="bar" x="{label_w}" y="{y + 3}" width="{width}" height="{row_h - 6}"'
            f' fill="{colour}"/><text x="{label_w + width + 6}" y="{y + 15}">{value:,}</text>'
        )
    parts.append("</svg></figure>")
    return "".join(parts)


def thumbnail(path: str) -> str | None:
    """A small JPEG data URI of the image, or None (unreadable, too large, not an image)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about the very damage the report lists
            with Image.open(path) as img:
                if img.width * img.height > THUMB_MAX_PIXELS:
                    return None
                img.draft("RGB", (THUMB_PX * 2, THUMB_PX * 2))  # JPEG: decode at a reduced scale
                img.thumbnail((THUMB_PX, THUMB_PX))
                buf = io.BytesIO()
                img.convert("RGB").save(buf, "JPEG", quality=70)
    except Exception:  # any broken image: no thumbnail, never a failed report
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _read_jsonl(path: str | None) -> Iterator[dict]:
    if not path or not os.path.exists(path):
        return
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde;padding-bottom:4px}
.muted{color:#667;fill:#667}.banner{background:#fdecea;border:1px solid #e6a19a;padding:8px 12px;margin:12px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #dde;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:22px}.charts{display:flex;flex-wrap:wrap;gap:18px}
figure.chart{margin:0;border:1px solid #e4e6ee;border-radius:6px;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}
svg text{font-size:12px;fill:#1d2330}table{border-collapse:collapse;width:100%;margin-top:6px}
th,td{border-bottom:1px solid #e4e6ee;padding:5px 6px;text-align:left;vertical-align:top}
th{background:#f4f5f9;position:sticky;top:0}td.n{text-align:right}td.path{word-break:break-all;min-width:220px;max-width:380px}
.v{display:inline-block;padding:1px 6px;border-radius:4px;color:#fff;font-size:12px;white-space:nowrap}
.filters{display:flex;gap:10px;align-items:center;flex-wrap:wrap}.filters input{width:260px}
img.thumb{width:64px;height:64px;object-fit:contain;background:#eee}ul.ev{margin:0;padding-left:16px}
.ml>span{display:block}.card .ml{display:block}td.label{min-width:150px}td.st span{white-space:nowrap}
.act-ban{color:#b03a2e;font-weight:600}.act-warn{color:#a04000;font-weight:600}
"""

SCRIPT = """
(function(){var q=document.getElementById('q'),v=document.getElementById('verdict'),
rows=document.querySelectorAll('#issues tbody tr'),shown=document.getElementById('shown');
function apply(){var t=q.value.toLowerCase(),want=v.value,n=0;for(var i=0;i<rows.length;i++){var r=rows[i];
var ok=(!want||r.getAttribute('data-verdict')===want||(want==='tampered'&&r.getAttribute('data-tampered')==='1'))
&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);r.style.display=ok?'':'none';if(ok)n++;}shown.textContent=n;}
q.addEventListener('input',apply);v.addEventListener('change',apply);apply();})();
"""


def _policy_words(t: ReportText, texts: Mapping[str, str], fallback: object) -> str:
    """The policy's texts in the switch's spans; the code itself when there are none."""
    return t.spans(texts) if texts else text(fallback)


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
            (
                f'<span class="ml">{_policy_words(t, _verdict_words(policy, k), k.value)}</span>',
                f"{v.get(k.value, 0):,}",
            )
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


def _account_table(rows: list, t: ReportText) -> Iterator[str]:
    heads = ("account", "posts", "AI share", "unlabelled", "mislabelled", "unreadable", "score", "suggested action")
    yield (
        f'<h2 id="accounts-h">{t("Accounts", n=f"{len(rows):,}")}</h2>'
        '<table id="accounts"><thead><tr>' + "".join(f"<th>{t(h)}</th>" for h in heads) + "</tr></thead><tbody>"
    )
    for r in rows[:MAX_ACCOUNT_ROWS]:
        yield (
            f'<tr><td>{text(r["account"])}</td><td class="n">{r["posts"]:,}</td>'
            f'<td class="n">{100 * r["ai_share"]:.0f}%</td><td class="n">{r["unlabelled"]:,}</td>'
            f'<td class="n">{r[Verdict.MISLABELLED]:,}</td><td class="n">{r[Verdict.UNREADABLE]:,}</td>'
            f'<td class="n">{r["score"]:,}</td>'
            f'<td class="act-{text(r["action"])}">{t.value("measure_values", r["action"])}</td></tr>'
        )
    yield "</tbody></table>"
    if len(rows) > MAX_ACCOUNT_ROWS:
        yield f'<p class="muted">{t("more accounts", n=f"{len(rows) - MAX_ACCOUNT_ROWS:,}")}</p>'
    if not rows:
        yield f'<p class="muted">{t("no accounts")}</p>'


def _issue_rows(issues: Iterable[dict], thumbnails: int, policy: Policy | None, t: ReportText) -> Iterator[str]:
    made = 0
    # The policy's words for a status, label or verdict, made once each: rows repeat a few of them.
    shown: dict[tuple[str, str], str] = {}

    def status_words(status: str) -> str:
        key = ("status", status)
        if key not in shown:
            shown[key] = _policy_words(t, policy.status_text(status) if policy else {}, status)
        return shown[key]

    def label_words(label: str) -> str:
        key = ("label", label)
        if key not in shown:
            shown[key] = _policy_words(t, policy.label_text(label) if policy else {}, "")
        return shown[key]

    def verdict_words(verdict: str) -> str:
        key = ("verdict", verdict)
        if key not in shown:
            shown[key] = _policy_words(t, _verdict_words(policy, verdict), verdict)
        return shown[key]

    for d in issues:
        thumb = ""
        if made < thumbnails and d["verdict"] in VIOLATIONS and d.get("format") in THUMB_FORMATS:
            uri = thumbnail(result_path(d))
            if uri:
                made += 1
                thumb = f'<img class="thumb" alt="" src="{uri}">'
        tampered = any(sev == "error" for _, sev in d["findings"])
        status = status_words(d["status"])
        status += f'<span class="muted">{text(d["generator"])}</span>' if d.get("generator") else ""
        label = d.get("label") or ""
        label_cell = label_words(label)
        label_cell += f'<span class="muted">{text(label)}</span>' if label else ""
        post = " / ".join(text(x) for x in (d.get("account"), d.get("post_id")) if x)
        why = "".join(f"<li>{text(e)}</li>" for e in d["evidence"])
        why += "".join(f"<li>{t.value('', sev)}: {text(code)}</li>" for code, sev in d["findings"] if sev != "info")
        why += "".join(f"<li>{t.value('', 'error')} {text(e)}</li>" for e in d["errors"])
        colour = VERDICT_COLOURS.get(d["verdict"], "#555")
        verdict = verdict_words(d["verdict"])
        yield (
            f'<tr data-verdict="{text(d["verdict"])}" data-tampered="{int(tampered)}"><td>{thumb}</td>'
            f'<td class="path">{text(d["path"])}</td>'
            f'<td><span class="v ml" style="background:{colour}">{verdict}</span></td>'
            f'<td class="ml st">{status}</td><td>{t.value("declared_values", d["declared"])}</td>'
            f'<td class="ml label">{label_cell}</td>'
            f"<td>{t.value('measure_values', d.get('action') or '')}</td><td>{post}</td>"
            f'<td><ul class="ev">{why}</ul></td></tr>'
        )


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


def write_report(
    out_dir: str,
    summary: dict,
    accounts: list,
    issues_path: str,
    missing_path: str | None,
    thumbnails: int = 200,
    policy: Policy | None = None,
) -> str:
    """Write report.html from the summary and the streamed issue list; return its path.

    ``policy`` is the one the scan judged by (its words, languages and AI statuses); by default the
    one this process loaded under the summary's policy id.  Without one the report shows the codes."""
    path = os.path.join(out_dir, REPORT_HTML)
    tmp = path + ".tmp"
    rules = policy or policy_by_id(summary["policy"]["id"])
    policy_info = summary["policy"]
    files = summary["files"]
    t = ReportText(rules)
    from_list = summary["scanned"]["from_list"]
    intro = {
        lang: t.raw(
            lang,
            "intro",
            policy=policy_info["id"],
            name=policy_info["name"],
            paths=", ".join(summary["scanned"]["paths"]) or "",
            list=t.raw(lang, "from_list", list=from_list) if from_list else "",
            started=summary["started"],
            seconds=f"{files['elapsed_s']:,.1f}",
        )
        for lang in t.languages
    }
    with open_text(tmp, "w") as f:
        f.write(
            f'<!DOCTYPE html><html {t.html_attrs()}><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
            f"style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            f"<title>{text(t.plain('title'))}</title><style>{CSS}{t.css()}</style></head><body>"
            f'{t.switch()}<h1>{t("heading")}</h1><p class="muted">{t.spans(intro)}</p>'
        )
        if summary["interrupted"]:
            f.write(f'<div class="banner">{t("interrupted")}</div>')
        f.write(_cards(summary, rules, t))
        f.write(f'<h2>{t("Overview")}</h2><div class="charts">')
        verdict_names = {k: plain_words(_verdict_words(rules, k), k) for k in summary["verdicts"]}
        status_names = {k: plain_words(rules.status_text(k) if rules else {}, k) for k in summary["statuses"]}

        def chart(key: str, counts: dict, chart_id: str, colours: dict | None = None) -> str:
            return bar_chart(
                t.plain(key),
                counts,
                chart_id,
                colours,
                caption=t(key),
                others=t.plain("all others"),
                none=t.plain("none"),
            )

        f.write(
            chart(
                "Verdicts",
                {verdict_names[k]: v for k, v in summary["verdicts"].items()},
                "chart-verdicts",
                {verdict_names[k]: c for k, c in VERDICT_COLOURS.items() if k in verdict_names},
            )
        )
        f.write(chart("AI status", {status_names[k]: v for k, v in summary["statuses"].items()}, "chart-statuses"))
        f.write(chart("Generators (AI files)", summary["generators"], "chart-generators"))
        f.write(chart("Formats", summary["formats"], "chart-formats"))
        f.write(chart("Findings (integrity, conformance)", summary["findings"], "chart-findings"))
        f.write("</div>")
        if policy_info.get("repeat_offenders"):
            f.write(f'<p class="muted">{t("suggested account actions", basis=policy_info["repeat_offenders"])}</p>')
        f.writelines(_account_table(accounts, t))
        if summary.get("similar"):  # scan --similar: clusters and account signals (html_clusters.py)
            from .html_clusters import similar_sections

            f.writelines(similar_sections(out_dir, summary, accounts, thumbnails))
        f.write(
            f'<h2>{t("Files to act on")}</h2><p class="muted">{t("files note")}</p>'
            f'<div class="filters"><label>{t("Show")} <select id="verdict"><option value="" {t.attrs("all")}>'
            f"{text(t.raw(t.first, 'all'))}</option>"
            + "".join(
                f'<option value="{k.value}">{text(plain_words(_verdict_words(rules, k), k.value))}</option>'
                for k in TO_ACT_ON
            )
            + f'<option value="tampered" {t.attrs("integrity errors")}>{text(t.raw(t.first, "integrity errors"))}'
            f"</option></select></label>"
            f'<label>{t("Search")} <input id="q" type="search" {t.attrs("search placeholder")} '
            f'placeholder="{text(t.raw(t.first, "search placeholder"))}"></label>'
            f'<span class="muted">{t.around("shown", SHOWN_COUNT)}</span></div>'
            '<table id="issues"><thead><tr><th></th>'
            + "".join(
                f"<th>{t(h)}</th>"
                for h in ("file", "verdict", "status", "declared", "label", "action", "account / post", "evidence")
            )
            + "</tr></thead><tbody>"
        )
        f.writelines(_issue_rows(_read_jsonl(issues_path), thumbnails, rules, t))
        f.write("</tbody></table>")
        declarations = summary.get("declarations")
        if declarations and declarations.get("missing_files"):
            f.writelines(_missing_table(_read_jsonl(missing_path), declarations["missing_files"], t))
        problems = summary["walk_problems"]["examples"]
        if problems:
            f.write(
                f"<h2>{t('Folders not fully scanned')}</h2><ul>"
                + "".join(f"<li>{text(p['code'])}: {text(p['path'])}: {text(p['message'])}</li>" for p in problems)
                + "</ul>"
            )
        f.write(
            f'<p class="muted">{t("footer")}</p>'
            f"<script>{SCRIPT}</script><script>{SWITCH_SCRIPT}</script></body></html>\n"
        )
    os.replace(tmp, path)
    return path
