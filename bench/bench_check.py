"""Per-file latency of ``check`` beside its physical limit, exiftool, mutagen and a bare c2pa-python read.

    python bench/bench_check.py [--repeat 5] [--corpus ../shared/corpus] [--mix 5000] [--big-mb 2048]
                                [--json bench/out/check.json]

Groups (``GROUPS``, one line each: a label, the contract's ``format`` values, with or without a C2PA
manifest): fixture and corpus files; a file no group names gets a row of its own ("other ..."), so
none is left out.  For each group it reports the median per-file time (best of --repeat runs per
file) of aigc-check in process; of the physical limit, opening the file and reading as many bytes
as the check read (its ``bytes_read``, contiguous from the start); of a bare c2pa-python read
(Reader.try_create + json(), one shared Context, the same offline settings); of mutagen
(``mutagen.File``, audio and video groups); and of exiftool (-json -fast, one process for the
whole group, start-up subtracted); then the ratios, all from this one run.

The mix row is the figure issue 14 is about: ``--mix`` files made as ``bench/bench_scan.py`` makes
its folder (plain and camera JPEG, PNG with generator chunks and GB 45438 labels, the fixtures, a
few C2PA-signed), the mean time per file in process (total / files, best of --repeat passes), beside
the same read limit and exiftool over the same files.

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
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from aigc_check import Checker  # noqa: E402 (after the sys.path line, to bench this checkout)

AV_MEDIA = ("audio/", "video/")


@dataclass(frozen=True)
class Group:
    label: str
    formats: tuple[str, ...]  # the contract's ``format`` values; () for any the groups above do not name
    c2pa: bool  # files with a C2PA manifest store (validated) or without one

    def takes(self, m: Measured) -> bool:
        return (m.format in self.formats or not self.formats) and m.c2pa == self.c2pa


# The README's rows.  Adding a group is one line; a format no group names still gets its own row.
GROUPS = [
    Group("JPEG, no C2PA", ("jpeg",), False),
    Group("PNG, no C2PA", ("png",), False),
    Group("WebP, no C2PA", ("webp",), False),
    Group("TIFF, no C2PA", ("tiff",), False),
    Group("GIF / HEIF / AVIF", ("gif", "heif", "heic", "avif"), False),
    Group("JPEG with C2PA (validated)", ("jpeg",), True),
    Group("PNG with C2PA (validated)", ("png",), True),
    Group("MP4, no C2PA", ("mp4",), False),
    Group("MOV, no C2PA", ("mov",), False),
    Group("M4A, no C2PA", ("m4a",), False),
    Group("MP4 with C2PA (validated)", ("mp4", "mov", "m4a"), True),
    Group("MP3, no C2PA", ("mp3", "mpeg-audio"), False),
    Group("WAV, no C2PA", ("wav",), False),
    Group("FLAC, no C2PA", ("flac",), False),
    Group("Ogg Vorbis / Opus", ("ogg", "opus"), False),
    Group("MKV / WebM", ("mkv", "webm"), False),
    Group("AVI / AIFF / WMA", ("avi", "aiff", "wma"), False),
    Group("FLV", ("flv",), False),
    Group("PDF, no C2PA", ("pdf",), False),
    Group("PDF with C2PA (validated)", ("pdf",), True),
    Group("SVG", ("svg",), False),
    Group("DOCX / XLSX / PPTX", ("docx", "dotx", "xlsx", "pptx"), False),
    Group("ODT / EPUB", ("odt", "epub"), False),
    Group("Markdown / text", ("markdown", "text"), False),
    Group("other formats with C2PA (validated)", (), True),
]


@dataclass
class Measured:
    """What one check of a file said, measured once outside any timed loop."""

    format: str
    media_type: str
    c2pa: bool
    bytes_read: int


def measure_files(checker: Checker, paths: list[Path]) -> dict[Path, Measured]:
    out = {}
    for p in paths:
        r = checker.check(p)
        if r.format is None:
            continue  # not media: unreadable, no group
        out[p] = Measured(r.format, r.media_type or "", r.c2pa.present, r.bytes_read)
    return out


def grouped(measured: dict[Path, Measured]) -> list[tuple[str, list[Path]]]:
    rows: dict[str, list[Path]] = {g.label: [] for g in GROUPS}
    for p, m in measured.items():
        group = next((g for g in GROUPS if g.takes(m)), None)
        label = group.label if group else f"other: {m.format}{' with C2PA' if m.c2pa else ''}"
        rows.setdefault(label, []).append(p)
    return [(label, files) for label, files in rows.items() if files]


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


def mean_per_file(fn, paths: list, repeat: int) -> float:
    """ms per file over the whole list, best of ``repeat`` passes (a mix's figure: outliers count)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for p in paths:
            fn(p)
        best = min(best, time.perf_counter() - t)
    return best * 1000 / len(paths)


def read_limit(measured: dict[Path, Measured]):
    """The physical limit of a check: open the file and read as many bytes as the check read."""

    def read(p: Path) -> None:
        with open(p, "rb", buffering=0) as f:
            f.read(measured[p].bytes_read)

    return read


def bare_c2pa(anchors: str, measured: dict[Path, Measured]):
    import c2pa

    ctx = c2pa.Context.from_dict(
        {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}, "trust": {"trust_anchors": anchors}}
    )

    def read(p: Path) -> None:
        # The media type was found before timing, so only c2pa-python's own work is measured.
        with open(p, "rb") as f:
            try:
                r = c2pa.Reader.try_create(measured[p].media_type, f, context=ctx)
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
    """exiftool's ms per file over ``paths`` (one process, -fast, start-up subtracted)."""
    exe = shutil.which("exiftool")
    if not exe or not paths:
        return None

    def run(args, stdin=None):
        t = time.perf_counter()
        subprocess.run(args, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return time.perf_counter() - t

    startup = min(run([exe, "-ver"]) for _ in range(3))
    # The names go in an argument file, so a mix of thousands fits no command line limit.
    names = "\n".join(map(str, paths)).encode()
    total = min(run([exe, "-json", "-fast", "-@", "-"], names) for _ in range(3))
    return max(total - startup, 0.0) * 1000 / len(paths)


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def cell(value, fmt: str) -> str:
    return fmt.format(value) if value is not None else "n/a"


def mix_row(checker: Checker, count: int, repeat: int) -> dict:
    """The issue-14 figure: mean ms per file on a bench_scan-style mix, beside its read limit and exiftool."""
    import bench_scan

    with tempfile.TemporaryDirectory(prefix="aigc-mix-") as tmp:
        bench_scan.make_folder(Path(tmp), 0, count, bench_scan.templates())
        paths = sorted(p for p in Path(tmp).rglob("*") if p.is_file())
        measured = {p: Measured("", "", False, checker.check(p).bytes_read) for p in paths}
        ours = mean_per_file(checker.check, paths, repeat)
        limit = mean_per_file(read_limit(measured), paths, repeat)
        exif = exiftool_ms(paths)
    return {
        "group": f"mix of {count:,} files (bench_scan)",
        "files": count,
        "aigc_check_ms": round(ours, 4),
        "read_limit_ms": round(limit, 4),
        "exiftool_ms": round(exif, 4) if exif is not None else None,
        "aigc_over_limit": ratio(ours, limit),
        "exiftool_over_aigc": ratio(exif, ours),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--corpus", default=os.environ.get("AIGC_CORPUS", str(ROOT.parent / "shared" / "corpus")))
    ap.add_argument("--json", default=str(ROOT / "bench" / "out" / "check.json"))
    ap.add_argument("--mix", type=int, default=5000, help="files in the generated mix (0: skip it)")
    ap.add_argument("--big-mb", type=int, default=2048, help="size of the large MP4 in MiB (0: skip)")
    args = ap.parse_args()

    paths = sorted((ROOT / "fixtures" / "files").glob("*"))
    corpus = Path(args.corpus)
    if corpus.is_dir():
        paths += sorted(p for p in corpus.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))
    checker = Checker()
    checker.check(paths[0])  # warm up: C2PA context, policy, fingerprints
    measured = measure_files(checker, paths)
    c2pa_read = bare_c2pa(checker.options.trust_anchors_pem, measured)
    limit_read = read_limit(measured)

    rows = []
    for name, files in grouped(measured):
        ours = statistics.median(time_per_file(checker.check, files, args.repeat))
        limit = statistics.median(time_per_file(limit_read, files, args.repeat))
        bare = statistics.median(time_per_file(c2pa_read, files, args.repeat))
        exif = exiftool_ms(files)
        av = measured[files[0]].media_type.startswith(AV_MEDIA) and any(mutagen_read(p) for p in files)
        mut = statistics.median(time_per_file(mutagen_read, files, args.repeat)) if av else None
        rows.append(
            {
                "group": name,
                "files": len(files),
                "aigc_check_ms": round(ours, 4),
                "read_limit_ms": round(limit, 4),
                "c2pa_python_ms": round(bare, 4),
                "exiftool_ms": round(exif, 4) if exif is not None else None,
                "mutagen_ms": round(mut, 4) if mut is not None else None,
                "aigc_over_limit": ratio(ours, limit),
                "exiftool_over_aigc": ratio(exif, ours),
                "mutagen_over_aigc": ratio(mut, ours),
                "c2pa_over_aigc": ratio(bare, ours),
            }
        )
    mix = mix_row(checker, args.mix, args.repeat) if args.mix else None
    print(
        f"{'group':30} {'files':>5} {'aigc-check ms':>13} {'read limit ms':>13} {'ours/limit':>10} "
        f"{'c2pa-py ms':>10} {'mutagen ms':>10} {'exiftool ms':>11} {'exiftool/ours':>13} {'c2pa/ours':>9}"
    )
    for r in rows + ([mix] if mix else []):
        print(
            f"{r['group']:30} {r['files']:>5} {r['aigc_check_ms']:>13.3f} {r['read_limit_ms']:>13.4f} "
            f"{cell(r['aigc_over_limit'], '{:.0f}x'):>10} {cell(r.get('c2pa_python_ms'), '{:.3f}'):>10} "
            f"{cell(r.get('mutagen_ms'), '{:.3f}'):>10} {cell(r['exiftool_ms'], '{:.3f}'):>11} "
            f"{cell(r['exiftool_over_aigc'], '{:.1f}x'):>13} {cell(r.get('c2pa_over_aigc'), '{:.1f}x'):>9}"
        )
    big = big_file_rows(args.big_mb, checker) if args.big_mb else []
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(
        json.dumps(
            {"python": sys.version.split()[0], "repeat": args.repeat, "rows": rows, "mix": mix, "large_mp4": big},
            indent=2,
        )
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
