"""Per-file latency of ``check`` beside exiftool, mutagen and a bare c2pa-python read, on the same files.

    python bench/bench_check.py [--repeat 5] [--corpus ../shared/corpus] [--big-mb 2048] [--json bench/out/check.json]

Groups: fixture and corpus images, audio and video, by format, split into
files without a C2PA manifest (the gateway's common case, target < 0.5 ms)
and files with one (validation hashes the whole file).  For each group it
reports the median per-file time of aigc-check in-process (best of --repeat
runs per file), of a bare c2pa-python read (Reader.try_create + json(), one
shared Context, the same offline settings), of mutagen (``mutagen.File``,
audio and video groups) and of exiftool (-json -fast, one process for the
whole group, start-up subtracted), and the ratios.

Then a large MP4 (--big-mb, sparse on disk; 0 skips it): its media data is
never read by the walk, so bytes read stay at the size of its boxes; signed
with the fixtures' test CA, C2PA validation must hash every byte, and
--no-verify-hash brings the read back down.  Not a test: run it by hand.
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

from aigc_check import (  # noqa: E402 (after the sys.path line, to bench this checkout)
    Checker,
    formats,
)
from aigc_check.source import ByteSource  # noqa: E402

AV_MEDIA = ("audio/", "video/")


def walk(p: Path):
    """Our own container walk, done once per file outside any timed loop."""
    from aigc_check.model import Container

    with ByteSource.open(p) as src:
        handler = formats.identify(src.head) if src.size else None
        if handler is None:
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

    ctx = c2pa.Context.from_dict(
        {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}, "trust": {"trust_anchors": anchors}}
    )

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


def mutagen_read(p: Path) -> bool:
    """True when mutagen knows the format (it returns None for Matroska, AVI, images)."""
    import mutagen

    try:
        return mutagen.File(p) is not None
    except Exception:
        return True  # it recognised the format and then failed on the content


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
    ap.add_argument("--big-mb", type=int, default=2048, help="size of the large MP4 in MiB (0: skip)")
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
        av = media_types[files[0]].startswith(AV_MEDIA) and any(mutagen_read(p) for p in files)
        mut = statistics.median(time_per_file(mutagen_read, files, args.repeat)) if av else None
        rows.append(
            {
                "group": name,
                "files": len(files),
                "aigc_check_ms": round(ours, 3),
                "c2pa_python_ms": round(bare, 3),
                "exiftool_ms": round(exif, 3) if exif is not None else None,
                "mutagen_ms": round(mut, 3) if mut is not None else None,
                "exiftool_over_aigc": round(exif / ours, 2) if exif else None,
                "mutagen_over_aigc": round(mut / ours, 2) if mut else None,
                "c2pa_over_aigc": round(bare / ours, 2) if ours else None,
            }
        )
    print(
        f"{'group':22} {'files':>5} {'aigc-check ms':>14} {'c2pa-python ms':>15} {'mutagen ms':>11} "
        f"{'exiftool ms':>12} {'exiftool/ours':>14} {'mutagen/ours':>13} {'c2pa/ours':>10}"
    )
    for r in rows:

        def cell(key, fmt, r=r):
            return fmt.format(r[key]) if r[key] is not None else "n/a"

        print(
            f"{r['group']:22} {r['files']:>5} {r['aigc_check_ms']:>14.3f} {r['c2pa_python_ms']:>15.3f} "
            f"{cell('mutagen_ms', '{:.3f}'):>11} {cell('exiftool_ms', '{:.3f}'):>12} "
            f"{cell('exiftool_over_aigc', '{:.1f}x'):>14} {cell('mutagen_over_aigc', '{:.1f}x'):>13} "
            f"{r['c2pa_over_aigc']:>9.1f}x"
        )
    big = big_file_rows(args.big_mb, checker) if args.big_mb else []
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(
        json.dumps({"python": sys.version.split()[0], "repeat": args.repeat, "rows": rows, "large_mp4": big}, indent=2)
    )
    return 0


def inflate_mp4(small: bytes, out: Path, size_mb: int) -> None:
    """``small`` with its mdat grown to ``size_mb`` MiB of zeros (a hole on disk).

    ffmpeg writes ftyp, free, mdat, moov; sample offsets point into mdat from
    its start, so growing mdat at its end keeps the movie valid."""
    import struct

    pos = 0
    while pos < len(small):
        size, kind = struct.unpack(">I4s", small[pos : pos + 8])
        if kind == b"mdat":
            break
        pos += size
    grow = size_mb * 1024 * 1024
    if size + grow >= 1 << 32:
        raise SystemExit("--big-mb must keep mdat under 4 GiB (32-bit box size)")
    with open(out, "wb") as f:
        f.write(small[:pos] + struct.pack(">I", size + grow) + small[pos + 4 : pos + size])
        f.seek(grow, os.SEEK_CUR)  # sparse: the zeros cost no disk
        f.write(small[pos + size :])


def sign_test_ca(src: Path, out: Path) -> None:
    import c2pa

    ca = ROOT / "fixtures" / "ca"
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256,
            (ca / "test-signer-chain.pem").read_bytes(),
            (ca / "test-signer.key").read_bytes(),
            None,
        )
    )
    manifest = {
        "claim_generator_info": [{"name": "aigc-check bench", "version": "1"}],
        "title": out.name,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
                        }
                    ]
                },
            }
        ],
    }
    ctx = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    with open(src, "rb") as i, open(out, "w+b") as o:
        c2pa.Builder(manifest, ctx).sign(signer, "video/mp4", i, o)


def big_file_rows(size_mb: int, checker) -> list[dict]:
    import tempfile

    from aigc_check import CheckOptions

    small = (ROOT / "fixtures" / "files" / "av-plain.mp4").read_bytes()
    no_verify = Checker(CheckOptions(verify_hash=False, trust_anchor_files=(str(ROOT / "fixtures/ca/test-root.pem"),)))
    verify = Checker(CheckOptions(trust_anchor_files=(str(ROOT / "fixtures/ca/test-root.pem"),)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "big.mp4"
        inflate_mp4(small, plain, size_mb)
        t = time.perf_counter()
        sign_test_ca(plain, Path(tmp) / "big-signed.mp4")
        sign_s = time.perf_counter() - t
        signed = Path(tmp) / "big-signed.mp4"
        for label, path, chk in (
            ("unsigned", plain, checker),
            ("signed, validated", signed, verify),
            ("signed, --no-verify-hash", signed, no_verify),
        ):
            t = time.perf_counter()
            r = chk.check(path)
            ms = (time.perf_counter() - t) * 1000
            rows.append(
                {
                    "file": f"{size_mb} MiB MP4 {label}",
                    "size": r.size,
                    "bytes_read": r.bytes_read,
                    "ms": round(ms, 2),
                    "status": r.status.value,
                    "validation_state": r.c2pa.validation_state,
                }
            )
        for label, path in (("unsigned", plain), ("signed", signed)):
            t = time.perf_counter()
            mutagen_read(path)
            rows.append(
                {
                    "file": f"{size_mb} MiB MP4 {label}",
                    "tool": "mutagen",
                    "ms": round((time.perf_counter() - t) * 1000, 2),
                }
            )
            ex = exiftool_ms([path])
            rows.append(
                {
                    "file": f"{size_mb} MiB MP4 {label}",
                    "tool": "exiftool -fast",
                    "ms": round(ex, 2) if ex is not None else None,
                }
            )
    print(f"\nlarge MP4 (media data never read unless C2PA validation hashes it; signing took {sign_s:.1f} s)")
    for r in rows:
        if "tool" in r:
            print(f"  {r['file']:44} {r['tool']:>16} {r['ms'] if r['ms'] is not None else 'n/a':>10} ms")
        else:
            print(
                f"  {r['file']:44} {'aigc-check':>16} {r['ms']:>10} ms  read {r['bytes_read']:>14,} "
                f"of {r['size']:>14,} bytes  ({r['status']}, {r['validation_state']})"
            )
    return rows


if __name__ == "__main__":
    sys.exit(main())
