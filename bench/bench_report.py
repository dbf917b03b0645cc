"""How fast report.html opens and filters with 100,000 violations, in headless Chromium.

    python bench/bench_report.py [--violations 100000] [--accounts 2000] [--work /tmp/aigc-bench-report]

Scans the fixtures (with a declarations sidecar naming accounts) for a real summary and real
result rows, then repeats the violation rows under new paths, accounts and post ids until there
are ``--violations`` of them, and writes report.html from that issue list with the same
``write_report`` the scan uses.  Opens it in Debian's chromium through selenium
(``chromium-driver``) and prints: the page size, the time until the script has run (navigation
start to the end of its set-up, the first page of rows shown), and the time each of a few
filters and a sort takes (measured in the page around the filter and render, and around the
whole round trip from the driver).  Not a test: run it by hand; figures on a shared machine are
noisy, so it runs each step several times and prints the median and the worst.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aigc_check.cli import main as cli_main  # noqa: E402
from aigc_check.model import VIOLATIONS  # noqa: E402
from aigc_check.scan.html_report import write_report  # noqa: E402
from aigc_check.scan.outputs import digest, read_results  # noqa: E402

FIXTURES = ROOT / "fixtures" / "files"


def make_inputs(work: Path, accounts: int) -> tuple[dict, list[dict]]:
    folder = work / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in FIXTURES.iterdir())
    for name in names:
        shutil.copyfile(FIXTURES / name, folder / name)
    sidecar = work / "posts.csv"
    rows = ["path,declared,account,post_id"] + [f"{n},none,user{i % accounts},{i}" for i, n in enumerate(names)]
    sidecar.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = work / "scan"
    cli_main(
        ["scan", str(folder), "--declarations", str(sidecar), "--out", str(out), "--progress", "none", "--overwrite"]
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return summary, list(read_results(str(out / "results.jsonl")))


def write_big_report(work: Path, violations: int, accounts: int, unique_evidence: bool) -> Path:
    summary, results = make_inputs(work, accounts)
    bad = [r for r in results if r["verdict"] in VIOLATIONS]
    out = work / "report"
    out.mkdir(exist_ok=True)
    issues = out / "issues.jsonl"
    with issues.open("w", encoding="utf-8") as f:
        for i in range(violations):
            r = dict(bad[i % len(bad)])
            r["path"] = f"uploads/batch{i // 1000:03d}/{i:06d}-{os.path.basename(r['path'])}"
            r["path_b64"] = None
            r["account"], r["post_id"] = f"user{i % accounts}", str(i)
            if unique_evidence:  # the worst case for the page's shared-string table: no evidence text repeats
                r["evidence"] = [dict(e, location=f"{e['location']} #{i}") for e in r.get("evidence") or []]
            f.write(json.dumps(digest(r), ensure_ascii=False) + "\n")
    summary["violations"] = violations
    started = time.perf_counter()
    write_report(str(out), summary, [], str(issues), None, thumbnails=0)
    print(f"write_report: {time.perf_counter() - started:.1f} s for {violations:,} rows")
    return out / "report.html"


def browser(work: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1600"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={work / 'profile'}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=shutil.which("chromedriver")))
    driver.set_page_load_timeout(300)
    return driver


FILTER = """
const [id, value] = arguments;
const s = document.getElementById(id); s.value = value;
const t0 = performance.now(); s.dispatchEvent(new Event('change'));
return [performance.now() - t0, Number(document.body.getAttribute('data-filter-ms')),
        Number(document.getElementById('shown').textContent)];
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--violations", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--unique-evidence", action="store_true", help="make every row's evidence text unique")
    parser.add_argument("--reuse", action="store_true", help="open the report an earlier run left in --work")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="aigc-bench-report-"))
    work.mkdir(parents=True, exist_ok=True)
    page = work / "report" / "report.html"
    if not (args.reuse and page.exists()):
        page = write_big_report(work, args.violations, args.accounts, args.unique_evidence)
    print(f"report.html: {page.stat().st_size / 1e6:.1f} MB")
    driver = browser(work)
    try:
        opened = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            driver.get(page.as_uri())
            body = driver.find_element("css selector", "body[data-ready-ms]")
            ready = float(body.get_attribute("data-ready-ms"))
            opened.append((time.perf_counter() - started, ready / 1000))
            parts = {k: float(body.get_attribute(f"data-{k}-ms")) / 1000 for k in ("script-start", "parse", "setup")}
            print("  open: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()) + f", ready {ready / 1000:.2f} s")
        walls = [w for w, _ in opened]
        inpage = [r for _, r in opened]
        print(
            f"open (navigation to first page of rows shown): median {statistics.median(inpage):.2f} s, "
            f"worst {max(inpage):.2f} s; driver round trip median {statistics.median(walls):.2f} s"
        )
        # Each step changes one filter; the others stay as the steps before left them.
        steps = [
            ("account = user7", "f-account", "user7"),
            ("+ verdict = mislabelled", "f-verdict", "mislabelled"),
            ("verdict back to all (account user7)", "f-verdict", ""),
            ("+ format = png (account user7)", "f-format", "png"),
            ("account back to all (format png)", "f-account", ""),
            ("+ finding = c2pa-hash-mismatch (format png)", "f-finding", "c2pa-hash-mismatch"),
            ("finding back to all (format png)", "f-finding", ""),
            ("+ generator = doubao (format png)", "f-generator", "doubao"),
            ("format back to all (generator doubao)", "f-format", ""),
        ]
        for name, element, value in steps:
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                in_page, _filter_ms, shown = driver.execute_script(FILTER, element, value)
                times.append((time.perf_counter() - started, in_page / 1000))
            print(
                f"filter {name}: {shown:,} rows shown; in page median {statistics.median(t for _, t in times):.3f} s, "
                f"worst {max(t for _, t in times):.3f} s; round trip worst {max(w for w, _ in times):.3f} s"
            )
        sort = "const t0 = performance.now(); document.querySelector('#issues th[data-sort=file]').click();"
        sort += " return performance.now() - t0;"
        sorts = [driver.execute_script(sort) / 1000 for _ in range(args.repeat)]
        print(f"sort by file (all rows): median {statistics.median(sorts):.3f} s, worst {max(sorts):.3f} s")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
