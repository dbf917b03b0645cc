// The check-your-file page. Every value from the file or the server is written with
// textContent (never innerHTML): file names and metadata strings are the uploader's text.
//
// The verdict, status, label and advice texts are the serving policy's (GET v1/policy and
// v1/policy/advice), in every language it declares and in its order (cn: Chinese first).
// Without those routes the page still works: it shows the codes, the label in the languages
// the answer carries and the answer's one advice string.
//
// The page's own words (headings, buttons, messages) are the interface's, in the language the
// server chose from Accept-Language (<html lang>, and every language in the #page-text block it
// embeds); the switch changes it, remembered in localStorage. Elements with data-t="key" take
// the text of that key; messages made here go through T().
"use strict";

const $ = (id) => document.getElementById(id);
let chosenFile = null;
let previewUrl = null;
let shownAnswer = 0;  // a newer answer replaces one still being rendered
let lastAnswer = null;  // re-rendered when the language changes
let lastStatus = null;  // [key, fields, isError]
const LANG_KEY = "aigc-check-page-lang";

function readPageText() {
  const block = document.getElementById("page-text");
  if (!block) return {languages: [], chosen: document.documentElement.lang || "en", text: {}};
  try {
    return JSON.parse(block.textContent);
  } catch (err) {
    return {languages: [], chosen: "en", text: {}};
  }
}
const PAGE = readPageText();

function initialLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  let saved = null;
  try { saved = localStorage.getItem(LANG_KEY); } catch (err) { saved = null; }
  for (const lang of [asked, saved, PAGE.chosen]) {
    if (lang && PAGE.text[lang]) return lang;
  }
  return PAGE.chosen;
}
let uiLang = initialLanguage();

function T(key, fields) {
  // The interface text of key in the page's language, {name} fields filled in; the key itself
  // when the page was served without its texts.
  const table = PAGE.text[uiLang] || {};
  const template = typeof table[key] === "string" ? table[key] : key;
  return template.replace(/\{(\w+)\}/g, (m, name) => (fields && name in fields ? String(fields[name]) : m));
}

function word(table, code) {
  const words = (PAGE.text[uiLang] || {})[table];
  return (words && typeof words[code] === "string") ? words[code] : code;
}

function applyLanguage() {
  document.documentElement.lang = uiLang;
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = T(el.dataset.t);
  const nav = $("lang-switch");
  nav.setAttribute("aria-label", T("language"));
  for (const button of nav.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === uiLang));
  }
  showFileName();
  if (lastStatus) setStatus(...lastStatus);
  if (lastAnswer) showResult(lastAnswer);
}

function buildSwitch() {
  const nav = $("lang-switch");
  const offered = (PAGE.languages || []).filter((lang) => PAGE.text[lang]);
  if (offered.length < 2) return;
  nav.replaceChildren(...offered.map((lang) => {
    const button = document.createElement("button");
    button.type = "button";
    button.lang = lang;
    button.dataset.lang = lang;
    button.textContent = PAGE.text[lang].language_name || lang;
    button.addEventListener("click", () => {
      uiLang = lang;
      try { localStorage.setItem(LANG_KEY, lang); } catch (err) { /* private mode: not remembered */ }
      applyLanguage();
    });
    return button;
  }));
  nav.hidden = false;
}

// The policy's texts, or null (an older server, or it could not be read): then the codes show.
const policyReady = fetch("v1/policy")
  .then((response) => (response.ok ? response.json() : null))
  .catch(() => null);

function inOrder(texts, policy) {
  // [[language, text]] of {language: text}: the policy's languages first, in its order.
  if (!texts) return [];
  const languages = policy && Array.isArray(policy.languages) ? policy.languages : [];
  const first = languages.filter((lang) => typeof texts[lang] === "string");
  const rest = Object.keys(texts).filter((lang) => !first.includes(lang) && typeof texts[lang] === "string");
  return [...first, ...rest].map((lang) => [lang, texts[lang]]);
}

function policyTexts(policy, table, key) {
  return (policy && policy[table] && policy[table][key]) || null;
}

function joined(pairs, fallback) {
  return pairs.length ? pairs.map(([, text]) => text).join(" / ") : fallback;
}

function inLanguages(tag, pairs, cls) {
  // One element a language, with its lang attribute; the first is the primary one.
  return pairs.map(([lang, text], i) => {
    const el = document.createElement(tag);
    el.lang = lang;
    el.textContent = text;
    el.className = `${cls} ${i === 0 ? "primary" : "other"}`;
    return el;
  });
}

async function adviceTexts(r, policy) {
  // The advice in every language of the policy; the answer's own string for its language.
  const own = {[policy && policy.advice_language ? policy.advice_language : ""]: r.advice || ""};
  if (!policy || !r.verdict || !r.status) return own;
  const query = new URLSearchParams({verdict: r.verdict, status: r.status});
  if (r.label) query.append("label", r.label);
  for (const f of r.findings || []) query.append("finding", f.code);
  // Error codes too: a cause among them (an empty or unsupported file) has advice of its own.
  for (const e of r.errors || []) query.append("finding", e.code);
  try {
    const response = await fetch(`v1/policy/advice?${query}`);
    if (!response.ok) return own;
    const body = await response.json();
    return body && body.advice ? {...body.advice, ...own} : own;
  } catch (err) {
    return own;
  }
}

function setStatus(key, fields, isError) {
  // key: an interface text ("" clears the line)
  lastStatus = key ? [key, fields, isError] : null;
  $("status").textContent = key ? T(key, fields) : "";
  $("status").classList.toggle("error", Boolean(isError));
}

function showFileName() {
  $("file-name").textContent = chosenFile ?
    `${chosenFile.name} (${T("bytes", {n: chosenFile.size.toLocaleString(uiLang)})})` : "";
}

function choose(file) {
  chosenFile = file || null;
  lastAnswer = null;
  showFileName();
  $("check-button").disabled = !chosenFile;
  $("result").hidden = true;
  setStatus("");
}

function item(parts) {
  // parts: [{text, cls?, tag?}] -> <li> of spans
  const li = document.createElement("li");
  for (const part of parts) {
    if (part.text === undefined || part.text === null || part.text === "") continue;
    const span = document.createElement("span");
    span.textContent = part.text;
    if (part.cls) span.className = part.cls;
    li.appendChild(span);
    if (!part.cls) li.appendChild(document.createTextNode(" "));
  }
  return li;
}

function fillList(listId, blockId, entries, toParts) {
  const list = $(listId);
  list.replaceChildren(...entries.map((e) => item(toParts(e))));
  if (blockId) $(blockId).hidden = entries.length === 0;
}

async function showResult(r) {
  lastAnswer = r;
  const answer = ++shownAnswer;
  const policy = await policyReady;
  const advice = inOrder(await adviceTexts(r, policy), policy);
  if (answer !== shownAnswer) return;

  const verdict = $("verdict");
  const verdictWords = inOrder(policyTexts(policy, "verdict_text", r.verdict), policy);
  verdict.replaceChildren(...inLanguages("span", verdictWords.length ? verdictWords : [["", r.verdict]], "words"));
  verdict.className = `verdict ${r.verdict}`;

  let status = joined(inOrder(policyTexts(policy, "status_text", r.status), policy), r.status);
  if (r.status !== "unknown") {
    status += T("certainty", {certainty: word("certainty_values", r.certainty)}) +
      (r.generator ? T("generator", {generator: r.generator}) : "");
  }
  $("summary").textContent = T("summary", {
    path: r.path, format: r.format || T("unknown format"), declared: word("declared_values", r.declared), status,
  });

  const labelBox = $("label-box");
  if (r.label && r.label_text) {
    $("label-texts").replaceChildren(...inLanguages("p", inOrder(r.label_text, policy), "label-text"));
    $("label-code").textContent = `[${r.label}]`;
    labelBox.classList.remove("none");
  } else {
    $("label-texts").replaceChildren();
    $("label-code").textContent = T("no label");
    labelBox.classList.add("none");
  }
  labelBox.dataset.label = r.label || "";

  const measures = (r.measures || []).map((m) => word("action_values", m));
  $("action").textContent = r.action ? word("action_values", r.action) +
    (measures.length > 1 ? T("all measures", {measures: measures.join("; ")}) : "") : T("none");
  $("advice").replaceChildren(...inLanguages("p", advice, "advice-text"));

  const evidence = r.evidence || [];
  fillList("evidence", null, evidence, (e) => [
    {text: word("strength_values", e.strength), cls: "tag"},
    {text: e.explanation || `${e.source} ${e.key} = ${e.value}`},
    {text: e.location ? T("at", {location: e.location}) : "", cls: "where"},
  ]);
  if (evidence.length === 0) {
    $("evidence").replaceChildren(item([{text: T("no evidence")}]));
  }
  fillList("findings", "findings-block", r.findings || [], (f) => [
    {text: word("severity_values", f.severity), cls: "tag"}, {text: f.message},
    {text: f.location ? T("at", {location: f.location}) : "", cls: "where"},
  ]);
  fillList("errors", "errors-block", r.errors || [], (e) => [
    {text: e.code, cls: "tag"}, {text: e.message},
    {text: e.location ? T("at", {location: e.location}) : "", cls: "where"},
  ]);
  $("raw-json").textContent = JSON.stringify(r, null, 2);

  const preview = $("preview");
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
  preview.removeAttribute("src");
  if (chosenFile && r.media_type && r.media_type.startsWith("image/")) {
    previewUrl = URL.createObjectURL(chosenFile);
    preview.src = previewUrl;
  }
  $("result").hidden = false;
  verdict.dataset.verdict = r.verdict;  // last: the answer is on the page
}

async function check(event) {
  event.preventDefault();
  if (!chosenFile) return;
  const form = new FormData();
  form.append("declared", document.querySelector("input[name=declared]:checked").value);
  form.append("file", chosenFile, chosenFile.name);
  $("check-button").disabled = true;
  delete $("verdict").dataset.verdict;
  setStatus("checking");
  try {
    const response = await fetch("v1/check", {method: "POST", body: form});
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = body && body.error ? `${body.error.message} (${body.error.code})` : `HTTP ${response.status}`;
      setStatus("not checked", {message}, true);
      $("result").hidden = true;
      return;
    }
    await showResult(body);
    setStatus("checked in", {ms: Math.round(body.elapsed_ms * 100) / 100});
  } catch (err) {
    setStatus("not checked", {message: String(err)}, true);
  } finally {
    $("check-button").disabled = !chosenFile;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  buildSwitch();
  applyLanguage();
  const zone = $("drop-zone");
  $("file-input").addEventListener("change", (e) => choose(e.target.files[0]));
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, (e) => { e.preventDefault(); zone.classList.remove("dragging"); });
  }
  zone.addEventListener("drop", (e) => { if (e.dataTransfer.files.length) choose(e.dataTransfer.files[0]); });
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("file-input").click(); }
  });
  $("check-form").addEventListener("submit", check);
  document.querySelectorAll("input[name=declared]").forEach((r) => r.addEventListener("change", () => {
    if (chosenFile && !$("result").hidden) $("check-form").requestSubmit();
  }));
});
