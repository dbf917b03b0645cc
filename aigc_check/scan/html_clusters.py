"""``report.html``'s ``--similar`` sections: the near-duplicate clusters (thumbnails side by side, the
accounts involved, what was inherited) and each account's signals with the reasons.

Called by ``html_report.write_report`` only when the summary has a ``similar`` section; every text
from a file or a sidecar goes through ``html_report.text``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from ..similar.audit import CLUSTERS_JSONL

MAX_CLUSTERS = 100  # clusters shown (largest first); all of them are in clusters.jsonl
THUMBS_PER_CLUSTER = 6
CSS = (
    ".cl{border:1px solid #ddd;border-radius:6px;padding:8px;margin:8px 0}.cl .row{display:flex;gap:6px;"
    "flex-wrap:wrap}.cl figure{margin:0;width:110px;font-size:11px;word-break:break-all}.cl img{max-width:"
    "100px;max-height:100px;display:block}.ai{color:#c0392b;font-weight:bold}.sig td{vertical-align:top}"
)


def similar_sections(out_dir: str, summary: dict, accounts: list, thumbnails: int) -> Iterator[str]:
    from .html_report import text, thumbnail

    similar = summary["similar"]
    yield f"<style>{CSS}</style>"
    yield (
        f'<h2 id="clusters-h">Near-duplicate clusters ({similar["clusters"]:,})</h2><p class="muted">'
        f"{similar['hashed']:,} files hashed (PDQ), {similar['unreliable']:,} with too little detail to match, "
        f"{similar['hash_errors']:,} could not be decoded; {similar['clustered_files']:,} files are in a cluster, "
        f"{similar['inherited']:,} unlabelled copies inherited an AI status from their original "
        f"({similar['inherited_from_index']:,} from the known-content index). Full list: {CLUSTERS_JSONL}.</p>"
    )
    budget = thumbnails
    path = os.path.join(out_dir, CLUSTERS_JSONL)
    shown = 0
    try:
        f = open(path, encoding="utf-8", errors="surrogateescape")  # noqa: SIM115 (closed below)
    except OSError:
        yield '<p class="muted">clusters.jsonl could not be read.</p>'
        return
    with f:
        for line in f:
            if shown >= MAX_CLUSTERS:
                yield f'<p class="muted">More clusters in {CLUSTERS_JSONL}.</p>'
                break
            c = json.loads(line)
            shown += 1
            figures = []
            for m in c["members"][:THUMBS_PER_CLUSTER]:
                uri = thumbnail(m["path"]) if budget > 0 else None
                if uri:
                    budget -= 1
                img = f'<img alt="" src="{uri}">' if uri else ""
                mark = ' class="ai"' if m["confirmed_ai"] or m["inherited_from"] else ""
                note = "labelled AI" if m["labelled"] else ("AI" if m["confirmed_ai"] else "")
                if m["inherited_from"]:
                    note = f"inherits from {os.path.basename(m['inherited_from'])}"
                figures.append(
                    f"<figure>{img}<figcaption><span{mark}>{text(note)}</span><br>{text(os.path.basename(m['path']))}"
                    f"<br>{text(m['account'] or '')} {text(m['post_id'] or '')}</figcaption></figure>"
                )
            more = len(c["members"]) - THUMBS_PER_CLUSTER
            yield (
                f'<div class="cl" id="{text(c["id"])}"><b>{text(c["id"])}</b>: {c["size"]:,} files, '
                f"{c['accounts']:,} accounts ({text(', '.join(c['account_names'][:10]))}), {c['ai']:,} confirmed AI, "
                f"{len(c['labelled']):,} labelled, {c['inherited']:,} inherited"
                f'<div class="row">{"".join(figures)}</div>'
                + (f'<p class="muted">and {more:,} more</p>' if more > 0 else "")
                + "</div>"
            )
    if not shown:
        yield '<p class="muted">No two files are near-duplicates.</p>'
    rows = [a for a in accounts if a.get("signals") or a.get("grades")]
    yield (
        f'<h2 id="signals-h">Account signals ({len(rows):,} accounts with a signal)</h2><p class="muted">'
        f"{text(summary['policy'].get('accounts') or '')}</p>"
        '<table id="signals" class="sig"><thead><tr><th>account</th><th>posts</th><th>grades</th><th>suggested '
        "action</th><th>signals</th><th>reasons</th></tr></thead><tbody>"
    )
    for a in rows[:5000]:
        yield (
            f'<tr><td>{text(a["account"])}</td><td class="n">{a["posts"]:,}</td><td>{text(a["grades"])}</td>'
            f'<td class="act-{text(a["action"])}">{text(a["action"])}</td><td>{text(a["signals"])}</td>'
            f"<td>{text(a['reasons'])}</td></tr>"
        )
    yield "</tbody></table>"
    if not rows:
        yield '<p class="muted">No account signal fired.</p>'
