"""Truncating any fixture at every 1/16th never crashes and never passes as compliant."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, expected_fixtures

# Plain text without a label has no structure at all: every prefix is a whole text file.
READABLE = [
    c for c in expected_fixtures() if not c["unreadable"] and not (c["media_type"] == "text/plain" and not c["signals"])
]
# Markdown has no end marker after its front matter: a cut in the body leaves a whole, valid file (the
# same front matter, a shorter text), so only cuts inside the front matter must be caught.
OPEN_ENDED = (".md",)


@pytest.mark.parametrize("case", READABLE, ids=[c["file"] for c in READABLE])
def test_truncations(case, checker):
    data = (FIXTURES / case["file"]).read_bytes()
    for k in range(1, 16):
        cut = data[: len(data) * k // 16]
        if case["file"].endswith(OPEN_ENDED) and b"\n---" in data[4:] and len(cut) >= data.index(b"\n---", 4) + 4:
            continue
        result = checker.check(cut, name=f"{case['file']}[:{len(cut)}]")
        assert result.verdict != "compliant", (
            f"{case['file']} cut at {k}/16 passed as compliant; errors {[e.message for e in result.errors]}"
        )
        assert result.errors or result.status.value != "unknown"
