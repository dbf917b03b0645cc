"""The GB 45438 label a ``mark`` writes: Annex E elements, validated before anything is written."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields, replace

from ..errors import UsageError

# Annex E j): printable ASCII without space, '"' or '\'.
VALUE_CHARS = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]*$")
LABEL_TIERS = ("1", "2", "3")
# GB 45438 / GB 32100 unified social credit code (18) + service code: the 27-character layout
# ContentPropagator is expected to follow; a plain name is allowed by the Measures but warned about.
PROPAGATOR_CODE = re.compile(r"^[0-9A-Z]{27}$")


class LabelValueError(UsageError):
    """A label value that Annex E does not allow (charset, Label tier)."""


@dataclass(frozen=True)
class LabelFields:
    """The seven Annex E elements, in the standard's order; empty string = element left empty."""

    Label: str
    ContentProducer: str = ""
    ProduceID: str = ""
    ReservedCode1: str = ""
    ContentPropagator: str = ""
    PropagateID: str = ""
    ReservedCode2: str = ""
    # Elements carried over from the file's existing label that are outside the Annex E character set
    # (a producer written as a plain name with spaces): a platform keeps the producer's elements as
    # found (Art. 10 forbids tampering), so these are exempt from the check; not an element itself.
    as_found: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.Label not in LABEL_TIERS:
            raise LabelValueError(f"Label must be 1, 2 or 3, not {self.Label!r}")
        for f in elements():
            value = getattr(self, f.name)
            if not isinstance(value, str):
                raise LabelValueError(f"{f.name} must be a string, not {type(value).__name__}")
            if f.name in self.as_found:
                continue
            if not VALUE_CHARS.match(value):
                raise LabelValueError(
                    f"{f.name} {value!r} has characters outside the Annex E set (printable ASCII, no space or quotes)"
                )

    def values(self) -> dict[str, str]:
        """The seven elements by name, in the standard's order (``as_found`` is not one)."""
        return {f.name: getattr(self, f.name) for f in elements()}

    def to_json(self) -> str:
        """The label as the standard writes it: ``{"AIGC":{...}}``, compact, elements in order."""
        return json.dumps({"AIGC": self.values()}, separators=(",", ":"), ensure_ascii=True)

    def with_propagation(self, propagator: str, propagate_id: str) -> LabelFields:
        return replace(self, ContentPropagator=propagator, PropagateID=propagate_id)


def elements() -> tuple:
    """The seven Annex E elements of ``LabelFields`` (its dataclass fields but ``as_found``)."""
    return tuple(f for f in fields(LabelFields) if f.name != "as_found")
