"""Per-file latency of ``check`` beside exiftool and a bare c2pa-python read, on the same files.

    python bench/bench_check.py [--repeat 5] [--corpus ../shared/corpus] [--json bench/out/check.json]

Groups: fixture and corpus images, split into files without a C2PA manifest
(the gateway's common case, target < 0.5 ms) and files with one (validation
hashes the whole file).  For each group it reports the median per-file time
of aigc-check in-process (best of --repeat runs per file), of a bare
c2pa-python read (Reader.try_create + json(), one shared Context, the same
offline settings) and of exiftool (-json -fast, one process for the whole
group, start-up subtracted), and the ratios.  Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from provenance import Checker  # noqa: E402
from provenance import formats  # noqa: E402
from provenance.source import ByteSource  # noqa: E402

IMAGE_FORMATS = {  # handler names; bmff also brings the corpus MP4/MOV/M4A rows
    "jpeg", "png", "webp", "gif", "tiff", "bmff", "jxl", "svg"}


def walk(p: Path):
    """Our own container walk, done once per file outside any timed loop."""
    from provenance.model import Container

    with ByteSource.open(p) as src:
        handler = formats.identify(src.head) if src.size else None
        if handler is None or handler.name not in IMAGE_FORMATS:
            return None
        c = Container(handler.name, handler.media_type)
        try:
            handler.walk(src, c)
        except Exception:
            pass
    return c


def classify_files(paths: list[Path]) -> tuple[dict[str, list[Path]], dict[Path, str]]:
    """Groups by format and by whether a C2PA store is present, and each file's media type."""
    groups: dict[str, list[Path]] = {}
    media_types: dict[Path, str] = {}
    for p in paths:
        c = walk(p)
        if c is None:
            continue
        media_types[p] = c.media_type
        kind = "with C2PA" if c.c2pa else "no C2PA"
        groups.setdefault(f"{c.format} {kind}", []).append(p)
    return groups, media_types


def time_per_file(fn, paths: list[Path], repeat: int) -> list[float]:
    out = []
    for p in paths:
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            fn(p)
            best = min(best, time.perf_counter() - t)
        out.append(best * 1000)
    return out


def bare_c2pa(anchors: str, media_types: dict[Path, str]):
    import c2pa

    ctx = c2pa.Context.from_dict({"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
                                  "trust": {"trust_anchors": anchors}})

    def read(p: Path) -> None:
        # The media type was found before timing, so only c2pa-python's own work is measured.
        with open(p, "rb") as f:
            try:
                r = c2pa.Reader.try_create(media_types[p], f, context=ctx)
            except Exception:
                return
            if r is not None:
                with r:
                    r.json()
    return read


def exiftool_ms(paths: list[Path]) -> float | None:
    exe = shutil.which("exiftool")
    if not exe or not paths:
        return None
    def run(args):
        t = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return time.perf_counter() - t
    startup = min(run([exe, "-ver"]) for _ in range(3))
    total = min(run([exe, "-json", "-fast", *map(str, paths)]) for _ in range(3))
    return max(total - startup, 0.0) * 1000 / len(paths)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--corpus", default=os.environ.get("AIGC_CORPUS", str(ROOT.parent / "shared" / "corpus")))
    ap.add_argument("--json", default=str(ROOT / "bench" / "out" / "check.json"))
    args = ap.parse_args()

    paths = sorted((ROOT / "fixtures" / "files").glob("*"))
    corpus = Path(args.corpus)
    if corpus.is_dir():
        paths += sorted(p for p in corpus.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))
    groups, media_types = classify_files(paths)
    checker = Checker()
    checker.check(paths[0])  # warm up: C2PA context, policy, fingerprints
    c2pa_read = bare_c2pa(checker.options.trust_anchors_pem, media_types)

    rows = []
    for name in sorted(groups):
        files = groups[name]
        ours = statistics.median(time_per_file(lambda p: checker.check(p), files, args.repeat))
        bare = statistics.median(time_per_file(c2pa_read, files, args.repeat))
        exif = exiftool_ms(files)
        rows.append({"group": name, "files": len(files), "aigc_check_ms": round(ours, 3),
                     "c2pa_python_ms": round(bare, 3), "exiftool_ms": round(exif, 3) if exif is not None else None,
                     "exiftool_over_aigc": round(exif / ours, 2) if exif else None,
                     "c2pa_over_aigc": round(bare / ours, 2) if ours else None})
    print(f"{'group':22} {'files':>5} {'aigc-check ms':>14} {'c2pa-python ms':>15} {'exiftool ms':>12} "
          f"{'exiftool/ours':>14} {'c2pa/ours':>10}")
    for r in rows:
        ex = f"{r['exiftool_ms']:.3f}" if r["exiftool_ms"] is not None else "n/a"
        exr = f"{r['exiftool_over_aigc']:.1f}x" if r["exiftool_over_aigc"] else "n/a"
        print(f"{r['group']:22} {r['files']:>5} {r['aigc_check_ms']:>14.3f} {r['c2pa_python_ms']:>15.3f} "
              f"{ex:>12} {exr:>14} {r['c2pa_over_aigc']:>9.1f}x")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"python": sys.version.split()[0], "repeat": args.repeat, "rows": rows},
                                          indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
