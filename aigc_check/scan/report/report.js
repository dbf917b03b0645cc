// report.html's script: inlined by html_report.py, so the page works offline as one file.
//
// The rows are one JSON array (#report-rows); the table shows one page of the current view at a
// time, so 100,000 rows filter and sort without freezing the tab. Every value from a file or a
// sidecar is written with textContent (never innerHTML): names may hold markup.
// The interface words come from one table per language (#report-text: TEXTS); the verdict, status,
// label and advice words are the policy's (#report-policy). The language shown is the switch's
// (<html data-show>, report_text.SWITCH_SCRIPT): on its "report-lang" event the rows, the filter
// lists and an open account section are drawn again in the chosen language ("all": every one).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const load = (id) => JSON.parse($(id).textContent);
  const TEXTS = load("report-text");
  const LANGS = Object.keys(TEXTS);
  const root = document.documentElement;
  let lang = root.getAttribute("data-show") || LANGS[0];
  const POLICY = load("report-policy");
  const parseStarted = performance.now();
  // Rows are arrays of indices into one table of shared strings (html_report.ROW_FIELDS).
  const S = load("report-strings");
  const ROWS = load("report-rows").map(decode);
  const parseMs = performance.now() - parseStarted;
  const PAGE_ROWS = 100;
  const FILTERS = ["verdict", "status", "account", "generator", "format", "finding"];
  const MEASURE_RANK = {};
  (POLICY.measure_order || []).forEach((m, i) => { MEASURE_RANK[m] = i; });
  const state = { filters: {}, query: "", sort: "severity", dir: 1, page: 0, view: ROWS };
  FILTERS.forEach((f) => { state.filters[f] = ""; });

  function decode(a) {
    const pairs = (xs) => {
      const out = [];
      for (let i = 0; i < xs.length; i += 2) out.push([S[xs[i]], S[xs[i + 1]]]);
      return out;
    };
    return {
      p: a[0], v: S[a[1]], s: S[a[2]], g: S[a[3]] || "", gn: S[a[4]], gm: S[a[5]], f: S[a[6]], d: S[a[7]],
      l: S[a[8]], a: S[a[9]], w: pairs(a[10]), ac: S[a[11]], po: a[12], fi: pairs(a[13]),
      e: a[14].map((i) => S[i]), ev: a[15].map((i) => S[i]), t: a[16], x: a[17], r: a[18],
    };
  }

  const shownLangs = () => (lang === "all" || !TEXTS[lang] ? LANGS : [lang]);
  // A word of the interface in the shown language (all of them, joined, under "all").
  const inShown = (pick, fallback) => {
    const out = [];
    for (const l of shownLangs()) {
      const w = pick(TEXTS[l]);
      if (w !== undefined && w !== null && out.indexOf(w) < 0) out.push(w);
    }
    return out.length ? out.join(" / ") : fallback;
  };
  const t = (key) => inShown((T) => T[key], key);
  const policyWords = (table, key) => {
    const texts = POLICY[table] && POLICY[table][key];
    return texts ? Object.entries(texts) : [];
  };
  // The policy's words in the shown language where the policy has it, else in all of its languages.
  const plain = (table, key) => {
    const pairs = policyWords(table, key);
    const mine = pairs.filter((p) => shownLangs().indexOf(p[0]) >= 0);
    const use = mine.length ? mine : pairs;
    return use.length ? use.map((p) => p[1]).join(" / ") : key;
  };
  const measureWords = (m) => inShown((T) => T.measures && T.measures[m], m);
  const findingWords = (code) => inShown((T) => T.findings && T.findings[code], code);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined) continue;
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined || c === "") continue;
      node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  function inLanguages(tag, table, key, cls) {
    const pairs = policyWords(table, key);
    const wrap = el(tag, { class: cls });
    if (!pairs.length) wrap.append(key || "");
    // The switch's languages carry data-l (its style shows the chosen one); others always show.
    for (const [l, text] of pairs) wrap.append(el("span", { "data-l": LANGS.indexOf(l) >= 0 ? l : null, lang: l }, text));
    return wrap;
  }

  // Why the row's action: each source the policy gives for it (the verdict, the label, a finding).
  function whyText(r) {
    if (!r.a || r.a === "none") return t("no measure");
    const reasons = (r.w || []).map(([kind, key]) => {
      if (kind === "verdict") return `${t("verdict measure")} (${plain("verdict_text", key)})`;
      if (kind === "label") return t("labelled measure");
      const advice = POLICY.finding_advice && POLICY.finding_advice[key];
      return `${t("finding measure")} ${key}: ${findingWords(key)}${advice ? ". " + advice : ""}`;
    });
    return `${measureWords(r.a)}: ${t("because")} ${reasons.join("; ")}`;
  }

  function searchKey(r) {
    if (r._k === undefined) {
      r._k = [r.p, r.v, r.s, r.g, r.gn, r.gm, r.f, r.d, r.l, r.a, r.ac, r.po, ...(r.ev || []), ...(r.e || []),
        ...(r.fi || []).map((f) => f[0])].filter(Boolean).join("\n").toLowerCase();
    }
    return r._k;
  }

  function matches(r) {
    const f = state.filters;
    if (f.verdict && (f.verdict === "tampered" ? !r.x : r.v !== f.verdict)) return false;
    if (f.status && r.s !== f.status) return false;
    if (f.account && r.ac !== f.account) return false; // exact: "eve" is not "steve"
    if (f.generator && r.g !== f.generator) return false;
    if (f.format && r.f !== f.format) return false;
    if (f.finding && !(r.fi || []).some((x) => x[0] === f.finding)) return false;
    if (state.query && searchKey(r).indexOf(state.query) < 0) return false;
    return true;
  }

  const SORTS = {
    severity: (a, b) => a.r - b.r || (MEASURE_RANK[b.a] || 0) - (MEASURE_RANK[a.a] || 0) || cmp(a.p, b.p),
    file: (a, b) => cmp(a.p, b.p),
    verdict: (a, b) => a.r - b.r || cmp(a.v, b.v),
    status: (a, b) => cmp(a.s, b.s),
    generator: (a, b) => cmp(a.gn || a.g, b.gn || b.g),
    format: (a, b) => cmp(a.f, b.f),
    declared: (a, b) => cmp(a.d, b.d),
    label: (a, b) => cmp(a.l, b.l),
    action: (a, b) => (MEASURE_RANK[b.a] || 0) - (MEASURE_RANK[a.a] || 0),
    account: (a, b) => cmp(a.ac, b.ac) || cmp(a.po, b.po),
  };
  function cmp(a, b) {
    a = a || ""; b = b || "";
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function apply() {
    const started = performance.now();
    const sort = SORTS[state.sort] || SORTS.severity;
    const view = ROWS.filter(matches);
    view.sort((a, b) => state.dir * sort(a, b) || cmp(a.p, b.p));
    state.view = view;
    const pages = Math.max(1, Math.ceil(view.length / PAGE_ROWS));
    state.page = Math.min(state.page, pages - 1);
    render();
    document.body.setAttribute("data-filter-ms", (performance.now() - started).toFixed(1));
  }

  function render() {
    const body = $("issues").tBodies[0];
    const start = state.page * PAGE_ROWS;
    const slice = state.view.slice(start, start + PAGE_ROWS);
    const frag = document.createDocumentFragment();
    for (const r of slice) frag.append(row(r));
    body.replaceChildren(frag);
    $("shown").textContent = String(state.view.length);
    const pages = Math.max(1, Math.ceil(state.view.length / PAGE_ROWS));
    $("page-no").textContent = `${state.page + 1} / ${pages}`;
    $("prev-page").disabled = state.page === 0;
    $("next-page").disabled = state.page >= pages - 1;
    $("no-rows").hidden = state.view.length > 0;
    for (const th of document.querySelectorAll("#issues th[data-sort]")) {
      const on = th.getAttribute("data-sort") === state.sort;
      if (on) th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
  }

  function row(r) {
    const tr = el("tr", { "data-verdict": r.v, "data-tampered": r.x ? "1" : "0", "data-account": r.ac });
    tr.append(el("td", {}, r.t ? el("img", { class: "thumb", alt: "", src: r.t }) : ""));
    tr.append(el("td", { class: "path" }, r.p));
    const badge = inLanguages("span", "verdict_text", r.v, "v ml");
    badge.setAttribute("style", `background:${(POLICY.colours && POLICY.colours[r.v]) || "#555"}`);
    tr.append(el("td", {}, badge));
    const status = inLanguages("td", "status_text", r.s, "ml st");
    if (r.gn || r.gm) status.append(el("span", { class: "muted" }, r.gn || `${t("manifest name")}: ${r.gm}`));
    tr.append(status);
    tr.append(el("td", {}, r.d));
    const label = inLanguages("td", "label_text", r.l || "", "ml label");
    if (r.l) label.append(el("span", { class: "muted" }, r.l));
    tr.append(label);
    tr.append(el("td", { class: `act act-${r.a}` }, r.a, el("span", { class: "why" }, whyText(r))));
    const post = el("td", {});
    if (r.ac) post.append(accountButton(r.ac));
    if (r.po) post.append(` / ${r.po}`);
    tr.append(post);
    const ev = el("ul", { class: "ev" });
    for (const e of r.ev || []) ev.append(el("li", {}, e));
    for (const [code, sev] of r.fi || []) {
      if (sev === "info") continue;
      ev.append(el("li", { class: `sev-${sev}` }, `${t(sev)}: ${findingWords(code)} `, el("code", {}, code)));
    }
    for (const e of r.e || []) ev.append(el("li", { class: "sev-error" }, `${t("error")} ${e}`));
    tr.append(el("td", {}, ev));
    return tr;
  }

  function accountButton(name) {
    const b = el("button", { class: "acct", type: "button", "data-account": name }, name);
    return b;
  }

  function setFilter(name, value) {
    const select = $(`f-${name}`);
    if (!select) return;
    if (value && ![...select.options].some((o) => o.value === value)) {
      select.append(el("option", { value }, value)); // a value no listed row has: shows none
    }
    select.value = value;
    state.filters[name] = value;
    state.page = 0;
    apply();
  }

  function fillFilters() {
    const counts = {};
    FILTERS.forEach((f) => { counts[f] = new Map(); });
    const bump = (f, v) => { if (v) counts[f].set(v, (counts[f].get(v) || 0) + 1); };
    for (const r of ROWS) {
      bump("verdict", r.v); bump("status", r.s); bump("account", r.ac); bump("generator", r.g);
      bump("format", r.f);
      for (const code of new Set((r.fi || []).map((x) => x[0]))) bump("finding", code);
    }
    const names = {
      verdict: (v) => plain("verdict_text", v),
      status: (v) => plain("status_text", v),
      generator: (v) => (POLICY.generator_names && POLICY.generator_names[v]) || v,
      finding: (v) => `${findingWords(v)} (${v})`,
    };
    for (const f of FILTERS) {
      const select = $(`f-${f}`);
      const keys = [...counts[f].keys()].sort((a, b) => counts[f].get(b) - counts[f].get(a) || cmp(a, b));
      for (const k of keys) {
        const option = el("option", { value: k });
        option._label = () => `${names[f] ? names[f](k) : k} (${counts[f].get(k)})`;
        select.append(option);
      }
      if (f === "verdict") {
        const option = el("option", { value: "tampered" });
        option._label = () => t("integrity errors");
        select.append(option);
      }
      select.addEventListener("change", () => setFilter(f, select.value));
    }
    labelFilters();
  }

  // The filter lists' words in the shown language (the "all" option is the switch's own).
  function labelFilters() {
    for (const f of FILTERS) {
      for (const option of $(`f-${f}`).options) if (option._label) option.textContent = option._label();
    }
  }

  document.addEventListener("report-lang", (e) => {
    lang = e.detail;
    labelFilters();
    render();
    const open = document.querySelector("section.account:not([hidden])");
    if (open) openAccount(open.getAttribute("data-account"));
  });

  function openAccount(name) {
    let found = null;
    for (const s of document.querySelectorAll("section.account")) {
      const mine = s.getAttribute("data-account") === name;
      s.hidden = !mine;
      if (mine) found = s;
    }
    setFilter("account", name);
    if (!found) return;
    const mine = ROWS.filter((r) => r.ac === name);
    const tally = (key) => {
      const m = new Map();
      for (const r of mine) for (const v of key(r)) if (v) m.set(v, (m.get(v) || 0) + 1);
      return [...m.entries()].sort((a, b) => b[1] - a[1]);
    };
    const signals = found.querySelector(".acct-signals");
    signals.replaceChildren();
    const groups = [
      [t("verdict"), tally((r) => [r.v]), (v) => plain("verdict_text", v)],
      [t("generator"), tally((r) => [r.gn || r.g]), (v) => v],
      [t("finding"), tally((r) => [...new Set((r.fi || []).filter((x) => x[1] !== "info").map((x) => x[0]))]),
        (v) => `${findingWords(v)} (${v})`],
      [t("format"), tally((r) => [r.f]), (v) => v],
    ];
    const dl = el("dl", {});
    for (const [title, items, name_] of groups) {
      dl.append(el("dt", {}, title), el("dd", {}, items.length ? items.map(([k, n]) => `${name_(k)}: ${n}`).join(", ") : t("none")));
    }
    signals.append(dl);
    const files = found.querySelector(".acct-files");
    const list = el("ul", {});
    for (const r of mine.slice(0, 50)) list.append(el("li", {}, `${r.p} (${plain("verdict_text", r.v)}; ${r.a})`));
    files.replaceChildren(list);
    if (mine.length > 50) files.append(el("p", { class: "muted" }, `+${mine.length - 50} (${t("its files")})`));
  }

  function csvCell(value) {
    let s = value === null || value === undefined ? "" : String(value);
    if (/^[=+\-@]/.test(s)) s = "'" + s; // spreadsheets run these as formulas (CSV injection)
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  function exportView() {
    const header = ["path", "verdict", "status", "generator", "manifest_name", "format", "declared", "label",
      "action", "why", "account", "post_id", "findings", "errors"];
    const lines = [header.join(",")];
    for (const r of state.view) {
      lines.push([r.p, r.v, r.s, r.g, r.gm, r.f, r.d, r.l, r.a, whyText(r), r.ac, r.po,
        (r.fi || []).map((x) => x[0]).join(" "), (r.e || []).join(" | ")].map(csvCell).join(","));
    }
    const blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
    const a = el("a", { href: URL.createObjectURL(blob), download: "report-view.csv" });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    $("export").setAttribute("data-exported", String(state.view.length));
  }

  function wire() {
    fillFilters();
    $("q").addEventListener("input", () => { state.query = $("q").value.toLowerCase(); state.page = 0; apply(); });
    $("prev-page").addEventListener("click", () => { state.page -= 1; render(); });
    $("next-page").addEventListener("click", () => { state.page += 1; render(); });
    $("export").addEventListener("click", exportView);
    $("clear").addEventListener("click", () => {
      FILTERS.forEach((f) => { state.filters[f] = ""; $(`f-${f}`).value = ""; });
      $("q").value = ""; state.query = ""; state.page = 0;
      for (const s of document.querySelectorAll("section.account")) s.hidden = true;
      apply();
    });
    for (const th of document.querySelectorAll("#issues th[data-sort]")) {
      th.addEventListener("click", () => {
        const key = th.getAttribute("data-sort");
        state.dir = state.sort === key ? -state.dir : 1;
        state.sort = key;
        apply();
      });
    }
    const goToTable = () => $("files-h").scrollIntoView();
    for (const bar of document.querySelectorAll("g.bar-link")) {
      const go = () => { setFilter(bar.getAttribute("data-filter"), bar.getAttribute("data-value")); goToTable(); };
      bar.addEventListener("click", go);
      bar.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
    }
    document.addEventListener("click", (e) => {
      const b = e.target.closest && e.target.closest("button.acct");
      if (b) { openAccount(b.getAttribute("data-account")); const s = document.querySelector("section.account:not([hidden])"); (s || $("files-h")).scrollIntoView(); }
      const close = e.target.closest && e.target.closest("button.close-account");
      if (close) { close.closest("section.account").hidden = true; setFilter("account", ""); }
    });
  }

  const setupStarted = performance.now();
  wire();
  apply();
  // For bench/bench_report.py: when the script started, its JSON parse, its set-up (filters, first sort and page).
  document.body.setAttribute("data-script-start-ms", parseStarted.toFixed(1));
  document.body.setAttribute("data-parse-ms", parseMs.toFixed(1));
  document.body.setAttribute("data-setup-ms", (performance.now() - setupStarted).toFixed(1));
  document.body.setAttribute("data-ready-ms", performance.now().toFixed(1));
})();
