"""``report.html``: one self-contained page an auditor can hand on, which opens offline.

Inline CSS, charts as inline SVG drawn here (they render without script), a
few lines of inline script only for filtering the table; no network, no
external font.  Every text that comes from a file or a sidecar (names may
hold ``<``, control characters or undecodable bytes) goes through ``text``.
Thumbnails are re-encoded by Pillow into small JPEG data URIs, for image
violations only and at most ``thumbnails`` of them.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import warnings
from collections.abc import Iterable, Iterator

from ..model import result_path
from .outputs import REPORT_HTML, open_text

THUMB_PX = 96
THUMB_MAX_PIXELS = 40_000_000  # larger images are not decoded for a thumbnail (decompression bombs)
THUMB_FORMATS = {"jpeg", "png", "webp", "gif", "tiff"}
MAX_ACCOUNT_ROWS = 5000
MAX_MISSING_ROWS = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
VERDICT_COLOURS = {
    "compliant": "#3a8d5d",
    "unlabelled-ai": "#c0392b",
    "mislabelled": "#8e44ad",
    "unreadable": "#b7950b",
}
VERDICT_WORDS = {
    "compliant": "compliant",
    "unlabelled-ai": "unlabelled AI",
    "mislabelled": "mislabelled",
    "unreadable": "unreadable",
}


def text(value) -> str:
    """Safe HTML text for any value: lone surrogates and control characters shown as escapes."""
    s = "" if value is None else str(value)
    s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s), quote=True)


def bar_chart(title: str, counts: dict, chart_id: str, colours: dict | None = None, top: int = 12) -> str:
    items = sorted(((k, v) for k, v in counts.items() if v), key=lambda kv: (-kv[1], str(kv[0])))
    rest = sum(v for _, v in items[top:])
    items = items[:top] + ([("(all others)", rest)] if rest else [])
    row_h, label_w, bar_w = 22, 190, 260
    height = max(1, len(items)) * row_h + 8
    peak = max((v for _, v in items), default=1)
    parts = [
        f'<figure class="chart" id="{chart_id}"><figcaption>{text(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 90}" height="{height}" '
        f'role="img" aria-label="{text(title)}">'
    ]
    if not items:
        parts.append('<text x="4" y="16" class="muted">none</text>')
    for i, (key, value) in enumerate(items):
        y = 4 + i * row_h
        width = max(2, round(bar_w * value / peak))
        colour = (colours or {}).get(key, "#3b6ea8")
        label = str(key) if len(str(key)) <= 28 else str(key)[:27] + "…"
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
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}.card{border:1px solid #dde;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:22px}.charts{display:flex;flex-wrap:wrap;gap:18px}
figure.chart{margin:0;border:1px solid #e4e6ee;border-radius:6px;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
svg text{font-size:12px;fill:#1d2330}table{border-collapse:collapse;width:100%;margin-top:6px}
th,td{border-bottom:1px solid #e4e6ee;padding:5px 6px;text-align:left;vertical-align:top}
th{background:#f4f5f9;position:sticky;top:0}td.n{text-align:right}td.path{word-break:break-all;min-width:220px;max-width:380px}
.v{display:inline-block;padding:1px 6px;border-radius:4px;color:#fff;font-size:12px;white-space:nowrap}
.filters{display:flex;gap:10px;align-items:center;flex-wrap:wrap}.filters input{width:260px}
img.thumb{width:64px;height:64px;object-fit:contain;background:#eee}ul.ev{margin:0;padding-left:16px}
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


def _cards(summary: dict) -> str:
    files = summary["files"]
    v = summary["verdicts"]
    checked = files["checked"] or 1
    ai = sum(n for s, n in summary["statuses"].items() if s in ("ai-generated", "ai-modified"))
    cards = [
        ("files checked", f"{files['checked']:,}"),
        ("violations", f"{summary['violations']:,}"),
        ("unlabelled AI", f"{v.get('unlabelled-ai', 0):,}"),
        ("mislabelled", f"{v.get('mislabelled', 0):,}"),
        ("unreadable", f"{v.get('unreadable', 0):,}"),
        ("AI share", f"{100 * ai / checked:.1f}%"),
        ("skipped (not media)", f"{sum(files['skipped'].values()):,}"),
    ]
    if summary.get("declarations"):
        cards.append(("declared, file missing", f"{summary['declarations']['missing_files'] or 0:,}"))
    return (
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{text(value)}</b>{text(name)}</div>' for name, value in cards)
        + "</div>"
    )


def _account_table(rows: list) -> Iterator[str]:
    yield (
        f'<h2 id="accounts-h">Accounts ({len(rows):,})</h2>'
        '<table id="accounts"><thead><tr><th>account</th><th>posts</th><th>AI share</th><th>unlabelled</th>'
        "<th>mislabelled</th><th>unreadable</th><th>score</th><th>suggested action</th></tr></thead><tbody>"
    )
    for r in rows[:MAX_ACCOUNT_ROWS]:
        yield (
            f'<tr><td>{text(r["account"])}</td><td class="n">{r["posts"]:,}</td>'
            f'<td class="n">{100 * r["ai_share"]:.0f}%</td><td class="n">{r["unlabelled"]:,}</td>'
            f'<td class="n">{r["mislabelled"]:,}</td><td class="n">{r["unreadable"]:,}</td>'
            f'<td class="n">{r["score"]:,}</td><td class="act-{text(r["action"])}">{text(r["action"])}</td></tr>'
        )
    yield "</tbody></table>"
    if len(rows) > MAX_ACCOUNT_ROWS:
        yield f'<p class="muted">{len(rows) - MAX_ACCOUNT_ROWS:,} more accounts in accounts.csv.</p>'
    if not rows:
        yield '<p class="muted">No accounts: the declarations sidecar named none.</p>'


def _issue_rows(issues: Iterable[dict], thumbnails: int) -> Iterator[str]:
    made = 0
    for d in issues:
        thumb = ""
        if made < thumbnails and d["verdict"] in ("unlabelled-ai", "mislabelled") and d.get("format") in THUMB_FORMATS:
            uri = thumbnail(result_path(d))
            if uri:
                made += 1
                thumb = f'<img class="thumb" alt="" src="{uri}">'
        tampered = any(sev == "error" for _, sev in d["findings"])
        status = d["status"] + (f" · {d['generator']}" if d.get("generator") else "")
        post = " / ".join(text(x) for x in (d.get("account"), d.get("post_id")) if x)
        why = "".join(f"<li>{text(e)}</li>" for e in d["evidence"])
        why += "".join(f"<li>{text(sev)}: {text(code)}</li>" for code, sev in d["findings"] if sev != "info")
        why += "".join(f"<li>error {text(e)}</li>" for e in d["errors"])
        colour = VERDICT_COLOURS.get(d["verdict"], "#555")
        yield (
            f'<tr data-verdict="{text(d["verdict"])}" data-tampered="{int(tampered)}"><td>{thumb}</td>'
            f'<td class="path">{text(d["path"])}</td><td><span class="v" style="background:{colour}">'
            f"{text(VERDICT_WORDS.get(d['verdict'], d['verdict']))}</span></td><td>{text(status)}</td>"
            f"<td>{text(d['declared'])}</td><td>{text(d.get('label') or '')}</td><td>{text(d.get('action'))}</td>"
            f'<td>{post}</td><td><ul class="ev">{why}</ul></td></tr>'
        )


def _missing_table(missing: Iterable[dict], total: int) -> Iterator[str]:
    yield (
        f'<h2>Declared but not found ({total:,})</h2><p class="muted">Rows of the declarations sidecar whose '
        f'file the scan did not find (full list: missing-files.jsonl).</p><table id="missing"><thead><tr>'
        f"<th>sidecar line</th><th>path</th><th>declared</th><th>account</th><th>post</th></tr></thead><tbody>"
    )
    for i, m in enumerate(missing):
        if i >= MAX_MISSING_ROWS:
            break
        yield (
            f'<tr><td class="n">{m["line"]}</td><td class="path">{text(m["path"])}</td><td>{text(m["declared"])}'
            f"</td><td>{text(m['account'] or '')}</td><td>{text(m['post_id'] or '')}</td></tr>"
        )
    yield "</tbody></table>"


def write_report(
    out_dir: str, summary: dict, accounts: list, issues_path: str, missing_path: str | None, thumbnails: int = 200
) -> str:
    """Write report.html from the summary and the streamed issue list; return its path."""
    path = os.path.join(out_dir, REPORT_HTML)
    tmp = path + ".tmp"
    policy = summary["policy"]
    files = summary["files"]
    with open_text(tmp, "w") as f:
        f.write(
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
            f"style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            f"<title>aigc-check scan report</title><style>{CSS}</style></head><body>"
            f'<h1>AI-content labelling audit</h1><p class="muted">Policy {text(policy["id"])}: '
            f"{text(policy['name'])}. Scanned {text(', '.join(summary['scanned']['paths']) or '')}"
            f"{' (list ' + text(summary['scanned']['from_list']) + ')' if summary['scanned']['from_list'] else ''}"
            f", started {text(summary['started'])}, {files['elapsed_s']:,.1f} s for this run.</p>"
        )
        if summary["interrupted"]:
            f.write(
                '<div class="banner">This scan was interrupted: the figures cover the files checked so far. '
                "Run it again with --resume to finish.</div>"
            )
        f.write(_cards(summary))
        f.write('<h2>Overview</h2><div class="charts">')
        f.write(
            bar_chart(
                "Verdicts",
                {VERDICT_WORDS.get(k, k): v for k, v in summary["verdicts"].items()},
                "chart-verdicts",
                {VERDICT_WORDS[k]: c for k, c in VERDICT_COLOURS.items()},
            )
        )
        f.write(bar_chart("AI status", summary["statuses"], "chart-statuses"))
        f.write(bar_chart("Generators (AI files)", summary["generators"], "chart-generators"))
        f.write(bar_chart("Formats", summary["formats"], "chart-formats"))
        f.write(bar_chart("Findings (integrity, conformance)", summary["findings"], "chart-findings"))
        f.write("</div>")
        if policy.get("repeat_offenders"):
            f.write(f'<p class="muted">Suggested account actions: {text(policy["repeat_offenders"])}</p>')
        f.writelines(_account_table(accounts))
        f.write(
            '<h2>Files to act on</h2><p class="muted">Every violation, unreadable file and integrity error '
            "(e.g. a tampered C2PA manifest), with the evidence that decided it.</p>"
            '<div class="filters"><label>Show <select id="verdict"><option value="">all</option>'
            '<option value="unlabelled-ai">unlabelled AI</option><option value="mislabelled">mislabelled</option>'
            '<option value="unreadable">unreadable</option><option value="tampered">integrity errors</option>'
            '</select></label><label>Search <input id="q" type="search" placeholder="path, account, generator…">'
            '</label><span class="muted"><span id="shown">0</span> shown</span></div>'
            '<table id="issues"><thead><tr><th></th><th>file</th><th>verdict</th><th>status</th><th>declared</th>'
            "<th>label</th><th>action</th><th>account / post</th><th>evidence</th></tr></thead><tbody>"
        )
        f.writelines(_issue_rows(_read_jsonl(issues_path), thumbnails))
        f.write("</tbody></table>")
        declarations = summary.get("declarations")
        if declarations and declarations.get("missing_files"):
            f.writelines(_missing_table(_read_jsonl(missing_path), declarations["missing_files"]))
        problems = summary["walk_problems"]["examples"]
        if problems:
            f.write(
                "<h2>Folders not fully scanned</h2><ul>"
                + "".join(f"<li>{text(p['code'])}: {text(p['path'])}: {text(p['message'])}</li>" for p in problems)
                + "</ul>"
            )
        f.write(
            f'<p class="muted">Made by aigc-check. Full data: results.jsonl, results.csv, summary.json.</p>'
            f"<script>{SCRIPT}</script></body></html>\n"
        )
    os.replace(tmp, path)
    return path
