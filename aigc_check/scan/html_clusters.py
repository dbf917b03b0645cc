"""``report.html``'s ``--similar`` sections: the near-duplicate clusters (thumbnails side by side, the
accounts involved, what was inherited) and each account's signals with the reasons.

Called by ``html_report.write_report`` only when the summary has a ``similar`` section; every text
from a file or a sidecar goes through ``html_report.text`` (or is a field of an interface text,
escaped by ``ReportText``).  The words are the report's, in each of its languages with the switch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..similar.audit import CLUSTERS_JSONL

if TYPE_CHECKING:
    from .report_text import ReportText

MAX_CLUSTERS = 100  # clusters shown (largest first); all of them are in clusters.jsonl
MAX_SIGNAL_ROWS = 5000  # accounts shown in the signals table; all of them are in accounts.csv
THUMBS_PER_CLUSTER = 6
CSS = (
    ".cl{border:1px solid #ddd;border-radius:6px;padding:8px;margin:8px 0}.cl .row{display:flex;gap:6px;"
    "flex-wrap:wrap}.cl figure{margin:0;width:110px;font-size:11px;word-break:break-all}.cl img{max-width:"
    "100px;max-height:100px;display:block}.ai{color:#c0392b;font-weight:bold}.sig td{vertical-align:top}"
)


def similar_sections(out_dir: str, summary: dict, accounts: list, thumbnails: int, t: ReportText) -> Iterator[str]:
    """The two sections, in the report's languages (``t``: the words of ``data/interface_text.json``'s
    ``report`` table in each shown language, as every other section of the page)."""
    from .html_report import text
    from .report_rows import thumbnail

    similar = summary["similar"]
    yield f"<style>{CSS}</style>"
    count = f"{similar['clusters']:,}"
    yield (
        f'<h2 id="clusters-h">{t("clusters heading", n=count)}</h2><p class="muted">'
        + t(
            "clusters note",
            hashed=f"{similar['hashed']:,}",
            unreliable=f"{similar['unreliable']:,}",
            errors=f"{similar['hash_errors']:,}",
            clustered=f"{similar['clustered_files']:,}",
            inherited=f"{similar['inherited']:,}",
            from_index=f"{similar['inherited_from_index']:,}",
            file=CLUSTERS_JSONL,
        )
        + "</p>"
    )
    budget = thumbnails
    path = os.path.join(out_dir, CLUSTERS_JSONL)
    shown = 0
    try:
        f = open(path, encoding="utf-8", errors="surrogateescape")  # noqa: SIM115 (closed below)
    except OSError:
        yield f'<p class="muted">{t("clusters unreadable", file=CLUSTERS_JSONL)}</p>'
        return
    with f:
        for line in f:
            if shown >= MAX_CLUSTERS:
                yield f'<p class="muted">{t("more clusters", file=CLUSTERS_JSONL)}</p>'
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
                note = t("member labelled") if m["labelled"] else (t("member ai") if m["confirmed_ai"] else "")
                if m["inherited_from"]:
                    note = t("member inherits", name=os.path.basename(m["inherited_from"]))
                figures.append(
                    f"<figure>{img}<figcaption><span{mark}>{note}</span><br>{text(os.path.basename(m['path']))}"
                    f"<br>{text(m['account'] or '')} {text(m['post_id'] or '')}</figcaption></figure>"
                )
            more = len(c["members"]) - THUMBS_PER_CLUSTER
            line_words = t(
                "cluster line",
                size=f"{c['size']:,}",
                accounts=f"{c['accounts']:,}",
                names=", ".join(c["account_names"][:10]),
                ai=f"{c['ai']:,}",
                labelled=f"{len(c['labelled']):,}",
                inherited=f"{c['inherited']:,}",
            )
            yield (
                f'<div class="cl" id="{text(c["id"])}"><b>{text(c["id"])}</b>: {line_words}'
                f'<div class="row">{"".join(figures)}</div>'
                + (f'<p class="muted">{t("cluster more", n=format(more, ","))}</p>' if more > 0 else "")
                + "</div>"
            )
    if not shown:
        yield f'<p class="muted">{t("no clusters")}</p>'
    rows = [a for a in accounts if a.get("signals") or a.get("grades")]
    heads = ("account", "posts", "grades", "suggested action", "signals", "reasons")
    yield (
        f'<h2 id="signals-h">{t("signals heading", n=format(len(rows), ","))}</h2><p class="muted">'
        f"{t.words(summary['policy'].get('accounts_text') or {}, summary['policy'].get('accounts') or '')}</p>"
        '<table id="signals" class="sig"><thead><tr>' + "".join(f"<th>{t(h)}</th>" for h in heads) + "</tr></thead>"
        "<tbody>"
    )
    for a in rows[:MAX_SIGNAL_ROWS]:
        # The reasons in every language the policy gives them (reasons_text); a summary written
        # before they were kept per language has only the advice language's (reasons).
        reasons = a.get("reasons_text")
        yield (
            f'<tr><td>{text(a["account"])}</td><td class="n">{a["posts"]:,}</td><td>{text(a["grades"])}</td>'
            f'<td class="act-{text(a["action"])}">{t.value("measure_values", a["action"])}</td>'
            f"<td>{text(a['signals'])}</td>"
            f"<td>{t.words(reasons, a['reasons']) if isinstance(reasons, dict) else text(a['reasons'])}</td></tr>"
        )
    yield "</tbody></table>"
    if not rows:
        yield f'<p class="muted">{t("no signals")}</p>'
