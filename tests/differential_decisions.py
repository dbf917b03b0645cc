"""The decisions of the differential test (``test_differential.py``): each disagreement between
exiftool and aigc-check that is not fixed, with one line saying why, and the files left out.  The
test fails on any disagreement not listed here and on any listed one that no longer disagrees, so
these lists only shrink.

Keys: (file, exiftool ``group:tag``, or ``aigc-check:<field>`` for an extra label); fixture files by
name, corpus files by their MANIFEST path (always ``folder/name``), probes as ``probe:<name>``."""

from __future__ import annotations

LISTED_WITH = "12.57"  # the exiftool version KNOWN_GAPS and EXIFTOOL_DIFFERS were decided with


_CREATOR = (
    "fingerprint gap: adobe-firefly matches C2PA names only; 'Adobe Firefly' as PDF Creator or xmp:CreatorTool "
    "is no trace (xmp:CreatorTool is listed for Draw Things, Topaz, Apple and video generators; pdf/Creator never)"
)
KNOWN_GAPS: dict[tuple[str, str], str] = {
    ("av-id3-appended-ape.mp3", "APE:Title"): "APE tag contents are skipped over (located to find the ID3 tag "
    "before them), not read as fields",
    ("probe:pdf-creator.pdf", "PDF:Creator"): _CREATOR,
    ("probe:xmp-creatortool.jpg", "XMP-xmp:CreatorTool"): _CREATOR,
}

_FLAC_127 = (
    "exiftool reads on past a metadata block of the forbidden type 127; aigc-check stops there and reports "
    "the file unreadable, as expected.json wants (a block type FLAC forbids means the stream is not FLAC)"
)
_EBML_0 = (
    "exiftool guesses through an Info element whose size byte 0x00 is no EBML length; aigc-check cannot know "
    "where the element ends and reports the file unreadable, as expected.json wants"
)

_READS_MORE = (
    "exiftool 12.57 does not look there: it reads only the first ID3v2 tag at the head and no appended tag, no "
    "HEIF item stored in idat or inside another item (iloc construction methods 1 and 2), nothing under moov/meta; "
    "the label is where the specification allows it (tests/test_av_tags.py, tests/test_png_bmff_forms.py)"
)

EXIFTOOL_DIFFERS: dict[tuple[str, str], str] = {
    ("office-gb-meta.epub", "aigc-check:epub/AIGC"): "exiftool shows an OPF <meta name=... content=...> as "
    "the pair XML:MetaName / XML:MetaContent (all metas' names and contents in two lists), never as a tag "
    "named by the meta's name, so the label has no tag of its own there",
    **{
        (name, "aigc-check:md/AIGC"): "exiftool does not read Markdown front matter or a text file's label JSON "
        "(it calls the file TXT and shows no tags from it); the label is the TC260 practice guide's front matter "
        "AIGC key, or the whole file"
        for name in (
            "md-front-matter-label.md",
            "md-front-matter-label-json.md",
            "md-front-matter-truncated.md",
            "text-bare-label.txt",
        )
    },
    ("sig-gb-pdf-keywords.pdf", "PDF:Keywords"): "exiftool splits PDF /Keywords at commas into a list, so the "
    "label JSON it shows is cut into pieces; aigc-check keeps the string whole, as the PDF holds it",
    ("sig-gb-pdf-keywords.pdf", "aigc-check:pdf/Keywords"): "the same split: exiftool's pieces are no label, the "
    "whole /Keywords string is one (a label in a free-text field, issue 12)",
    ("sig-gbbad-ambiguous.png", "PNG:AIGC"): "the label holds two different Label values; exiftool just shows the "
    "text (this test reads its first value), aigc-check refuses to pick one: weak evidence and "
    "aigc-label-unreadable, which the shipped policies send to review",
    ("sig-gbbad-single-quotes-comment.mkv", "aigc-check:mkv/COMMENT"): "a label in non-JSON object syntax (single "
    "quotes): exiftool shows only text and this test's label detection needs JSON; aigc-check recovers the Label "
    "value and reports aigc-label-malformed",
    ("av-id3-appended-ape.mp3", "aigc-check:id3/TXXX:AIGC"): _READS_MORE,
    ("av-id3-appended-v1.mp3", "aigc-check:id3/TXXX:AIGC"): _READS_MORE,
    ("av-id3-two-head-tags.mp3", "aigc-check:id3/TXXX:AIGC"): _READS_MORE,
    ("av-moov-meta-xmp.mp4", "aigc-check:xmp/TC260:AIGC"): _READS_MORE,
    ("heif-xmp-idat.heic", "aigc-check:xmp/TC260:AIGC"): _READS_MORE,
    ("heif-xmp-in-item.heif", "aigc-check:xmp/TC260:AIGC"): _READS_MORE,
    ("av-broken-block-type.flac", "Vorbis:Vendor"): _FLAC_127,
    ("av-broken-block-type.flac", "Vorbis:Encoder"): _FLAC_127,
    ("av-broken-ebml-size.mkv", "Matroska:MuxingApp"): _EBML_0,
    ("av-broken-ebml-size.mkv", "Matroska:WritingApp"): _EBML_0,
    ("av-broken-ebml-size.mkv", "Matroska:Encoder"): _EBML_0,
    ("text-mentions-comfyui.png", "PNG:Comment"): (
        "prose naming ComfyUI is not a trace (the fixture's point: no prompt or workflow graph); aigc-check rightly "
        "reports no generator"
    ),
    ("pillow/hopper.jpg", "File:Comment"): (
        "the COM text has byte 0xA8 (Mac Roman for the registered sign), not UTF-8: exiftool prints '?', aigc-check "
        "decodes it as Latin-1; the same byte, neither is the writer's text"
    ),
    ("xmp-svg-bare-rdf.svg", "aigc-check:xmp/TC260:AIGC"): (
        "the label sits in a cc:Work typed node, which RDF/XML and ISO 16684-1 (7.9.2.5) read as an "
        "rdf:Description of type cc:Work: aigc-check reads tc260:AIGC as a top-level property; exiftool shows "
        "the node as a struct XMP:Work, so its AIGC (same value) is Work/AIGC and not a label to it"
    ),
    ("tinytag/xmp_data.mp3", "MPEG:Encoder"): (
        "the LAME/Xing header is encoder bookkeeping inside the first audio frame, not a metadata block; "
        "aigc-check reads no audio frames, by design"
    ),
}

# Files left out of the comparison, and why.
NOT_COMPARED: dict[str, str] = {
    "c2pa-rs/tiff_poc.tiff": (
        "resource-exhaustion proof of concept (4,990 SubIFDs): exiftool spends ~5 s on it, ignores them and reports "
        "no metadata at all"
    ),
}
