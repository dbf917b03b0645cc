"""The audit report's words in the languages it shows, and its language switch.

The report is written once with every text in each shown language (the policy's languages the
interface speaks, in the policy's order), one ``<span data-l="LANG" lang="LANG">`` per language.
``<html data-show="LANG">`` picks the one shown: a CSS rule per language hides the others, so the
page reads right without script; the switch (a few lines of inline script) changes ``data-show``
(or ``all``: every language, one per line), remembers the choice, honours ``#lang=LANG`` in
the address, and tells the page's other script (a ``report-lang`` event: it renders its rows again).
Texts that cannot hold markup (``<option>``, ``placeholder``) carry one
``data-t-LANG`` attribute per language and the script copies the chosen one in.

Interface words come from ``data/interface_text.json`` (``report``, ``declared_values``,
``measure_values``, the severity words); the policy's own texts (verdict, status, label) from the
policy, in the same spans, so one switch governs both.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping

from ..interface_text import FONT_STACK, shown_languages, words
from ..policy import Policy

ALL = "all"


def _escape(value: str) -> str:
    from .html_report import text  # one escaping rule for the whole report (control characters too)

    return text(value)


class ReportText:
    def __init__(self, policy: Policy | None) -> None:
        self.languages = shown_languages(policy.languages if policy else ())
        self.first = self.languages[0]
        self._words = {lang: words(lang) for lang in self.languages}

    # --- interface words -------------------------------------------------------------------------

    def raw(self, lang: str, key: str, **fields: object) -> str:
        template = self._words[lang]["report"][key]
        return template.format(**{k: "" if v is None else v for k, v in fields.items()}) if fields else template

    def __call__(self, key: str, **fields: object) -> str:
        """Safe HTML of an interface text in every shown language (fields filled, then escaped)."""
        return self.spans({lang: self.raw(lang, key, **fields) for lang in self.languages})

    def plain(self, key: str, **fields: object) -> str:
        """Plain text in every shown language, joined (for SVG text and aria labels)."""
        return " / ".join(dict.fromkeys(self.raw(lang, key, **fields) for lang in self.languages))

    def around(self, key: str, inner_html: str) -> str:
        """A text whose ``{n}`` is an element (the live count of shown rows): the words before and
        after it in every language, the element once."""
        before, after = {}, {}
        for lang in self.languages:
            b, _, a = self.raw(lang, key).partition("{n}")
            before[lang], after[lang] = b, a
        return self.spans(before) + inner_html + self.spans(after)

    def attrs(self, key: str) -> str:
        """``data-t-LANG`` attributes for an element whose text or placeholder the switch sets."""
        return " ".join(f'data-t-{lang}="{_escape(self.raw(lang, key))}"' for lang in self.languages)

    def word(self, lang: str, table: str, code: str) -> str:
        """A code's plain word in one language (``measure_values``, ``declared_values``); the code itself."""
        source = self._words[lang].get(table)
        return str(source.get(code, code)) if isinstance(source, Mapping) else code

    def words(self, texts: Mapping[str, str], fallback: object) -> str:
        """The policy's texts in the switch's spans; the code itself when there are none."""
        return self.spans(texts) if texts else _escape(str(fallback))

    def value(self, table: str, code: str) -> str:
        """A code's word (``declared_values``, ``measure_values``; or a top-level word such as a
        severity) in every shown language; the code itself where a language lacks it."""
        texts = {}
        for lang in self.languages:
            source = self._words[lang].get(table) if table else self._words[lang]
            texts[lang] = str(source.get(code, code)) if isinstance(source, Mapping) else code
        return self.spans(texts)

    # --- any texts by language (the policy's) ----------------------------------------------------

    def spans(self, texts: Mapping[str, str]) -> str:
        """One span a language; the languages the switch governs carry ``data-l``, the others
        (a policy language the interface does not speak) are always shown."""
        return "".join(
            f"<span{' data-l=' + chr(34) + _escape(lang) + chr(34) if lang in self.languages else ''}"
            f' lang="{_escape(lang)}">{_escape(t)}</span>'
            for lang, t in texts.items()
        )

    # --- the page around them --------------------------------------------------------------------

    def html_attrs(self) -> str:
        return (
            f'lang="{self.first}" data-show="{self.first}" '
            f"data-langs='{html.escape(json.dumps(list(self.languages)), quote=True)}'"
        )

    def css(self) -> str:
        hide = "".join(
            f'html[data-show="{lang}"] [data-l]:not([data-l="{lang}"]){{display:none}}' for lang in self.languages
        )
        return (
            f"body{{font-family:{FONT_STACK}}}{hide}"
            "html[data-show=all] .ml [data-l],html[data-show=all] h1 [data-l],html[data-show=all] h2 [data-l]"
            "{display:block}"
            "html[data-show=all] :not(.ml):not(h1):not(h2)>[data-l]+[data-l]::before{content:' / '}"
            ".langs{float:right;display:flex;gap:4px;align-items:center}"
            ".langs button{font:inherit;font-size:12px;border:1px solid #ccd;background:#fff;border-radius:4px;"
            "padding:2px 8px;cursor:pointer}.langs button[aria-pressed=true]{background:#1d2330;color:#fff}"
        )

    def switch(self) -> str:
        """The buttons (none for a one-language report): each language by its own name, and all."""
        if len(self.languages) < 2:
            return ""
        buttons = "".join(
            f'<button type="button" data-set="{lang}" lang="{lang}" aria-pressed="{str(lang == self.first).lower()}">'
            f"{_escape(self._words[lang]['language_name'])}</button>"
            for lang in self.languages
        )
        every = f'<button type="button" data-set="{ALL}" aria-pressed="false">{self("all languages")}</button>'
        return (
            f'<nav class="langs" id="lang-switch" aria-label="{_escape(self.plain("Language"))}">{buttons}{every}</nav>'
        )


SWITCH_SCRIPT = """
(function(){
var root=document.documentElement,langs=JSON.parse(root.getAttribute('data-langs')||'[]'),KEY='aigc-check-report-lang';
function pick(el,l){var ls=l==='all'?langs:[l],out=[];
for(var i=0;i<ls.length;i++){var t=el.getAttribute('data-t-'+ls[i]);if(t!==null&&out.indexOf(t)<0)out.push(t);}
return out.join(' / ');}
function show(l){if(l!=='all'&&langs.indexOf(l)<0)return;
root.setAttribute('data-show',l);root.lang=l==='all'?langs[0]:l;
var els=document.querySelectorAll('[data-t-'+langs[0]+']');
for(var i=0;i<els.length;i++){var el=els[i],t=pick(el,l);
if(el.hasAttribute('placeholder'))el.setAttribute('placeholder',t);else el.textContent=t;}
var bs=document.querySelectorAll('#lang-switch button');
for(var j=0;j<bs.length;j++)bs[j].setAttribute('aria-pressed',String(bs[j].getAttribute('data-set')===l));
try{localStorage.setItem(KEY,l);}catch(e){}
document.dispatchEvent(new CustomEvent('report-lang',{detail:l}));}
var asked=/(?:^#|&)lang=([a-z]+)/.exec(location.hash),saved=null;try{saved=localStorage.getItem(KEY);}catch(e){}
show(asked?asked[1]:(saved||root.getAttribute('data-show')));
var bs=document.querySelectorAll('#lang-switch button');
for(var k=0;k<bs.length;k++)bs[k].addEventListener('click',function(){show(this.getAttribute('data-set'));});
})();
"""
