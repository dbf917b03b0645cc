"""``mark``: decide from a check, write the label, read it back, then (and only then) hand it on.

One file goes through four steps:

1. **check** the input with the caller's ``Checker`` (same policy, same declaration);
2. **decide** (``decide``): refuse a file whose C2PA manifest the edit would break, a file that
   cannot be read, or one whose existing label cannot be read (Art. 10: it is neither deleted nor
   guessed at); copy unchanged a file the policy gives no label, or whose policy does not mark;
   otherwise the label to write: an existing label keeps ``Label``, ``ContentProducer``,
   ``ProduceID`` and ``ReservedCode1`` and gains the platform's ``ContentPropagator`` and
   ``PropagateID``; a file without one gets a new label at the tier the policy's ``marking``
   section maps the decision's label to (Art. 6 cases 2 and 3), producer elements left empty;
3. **write** with the format's writer (``writers.writer_for``);
4. **verify**: check the new bytes; exactly one GB 45438 label must be read, with the elements
   written, in a file of the same format, else nothing is written (``verify-failed``).

Writing to disk (temporary file, fsync, atomic rename) is ``output.py``'s.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from ..checker import Checker
from ..errors import AigcCheckError, MediaError, UsageError
from ..model import CheckResult, Declared, TextEnum, Verdict, path_fields
from ..options import CheckOptions
from .label import PROPAGATOR_CODE, LabelFields, LabelValueError
from .writers import writer_for

SCHEMA = "aigc-check-mark/1"
KEPT = ("Label", "ContentProducer", "ProduceID", "ReservedCode1")  # the producer's elements, never changed
C2PA_RESIGN_MODULE = "aigc_check.mark.c2pa_resign"
PROPAGATION_SERVICE = "2"  # TC260-PG-20252A service type of a content-propagation service
NEAR_DUPLICATE = "near-duplicate"  # the evidence source of an inherited status (similar/inherit.py's SOURCE)


class MarkAction(TextEnum):
    MARKED = "marked"  # a new label written
    UPDATED = "updated"  # an existing label gained the propagation elements where it stood
    COPIED = "copied-unchanged"  # no label needed (or the policy does not mark): the bytes as they were
    REFUSED = "refused"  # mark will not write this file (C2PA, an unreadable label): nothing written
    ERROR = "error"  # the file could not be read or rewritten: nothing written


@dataclass(frozen=True)
class Propagation:
    """The platform's elements.  ``propagate_id`` is a template: ``{post_id}`` (the declaration's
    post id) and ``{sha256}`` (the first 32 hex digits of the input's SHA-256) are filled in per file."""

    propagator: str
    propagate_id: str = "{post_id}"
    c2pa_cert: bytes | None = field(default=None, repr=False)
    c2pa_key: bytes | None = field(default=None, repr=False)
    c2pa_alg: str = "es256"

    def warnings(self) -> list[str]:
        """Validate what can be validated before any file is read (``LabelValueError``, exit 2)."""
        if not self.propagator:
            raise LabelValueError("ContentPropagator (--propagator) must not be empty")
        sample = self.propagate_id.replace("{post_id}", "x").replace("{sha256}", "0")
        try:
            sample.format()
        except (KeyError, IndexError, ValueError) as exc:
            raise LabelValueError(
                f"--propagate-id {self.propagate_id!r}: only {{post_id}} and {{sha256}} may be filled in"
            ) from exc
        LabelFields("1", ContentPropagator=self.propagator, PropagateID=sample)
        if not PROPAGATOR_CODE.match(self.propagator):
            return [
                f"ContentPropagator {self.propagator!r} is not a 27-character TC260-PG-20252A code; "
                "a plain name is allowed by the Measures (Art. 6) but a code is expected"
            ]
        # The layout: 00 (format), subject type, binding (1: a unified social credit code), the
        # 18-character code, the service type (1 generation, 2 propagation), a 4-character app code.
        if self.propagator[22] != PROPAGATION_SERVICE:
            return [
                f"ContentPropagator {self.propagator!r} has service type {self.propagator[22]!r} at position 23, "
                f"not {PROPAGATION_SERVICE} (content propagation): is it a generation service's code?"
            ]
        return []

    def propagate_id_for(self, data: bytes, post_id: str | None) -> str:
        value = self.propagate_id
        if "{sha256}" in value:
            value = value.replace("{sha256}", hashlib.sha256(data).hexdigest()[:32])
        return value.replace("{post_id}", post_id or "")

    @property
    def resigns(self) -> bool:
        return self.c2pa_cert is not None and self.c2pa_key is not None


@dataclass
class MarkResult:
    """What ``mark`` did with one file: its own small record (``aigc-check-mark/1``, README)."""

    path: str
    action: MarkAction
    check: CheckResult
    out: str | None = None
    reason: str | None = None  # the code of a refusal or error
    label: LabelFields | None = None  # the label now in the output (for marked, updated)
    location: str | None = None  # where the output's label is, as the checker names it
    notes: list[str] = field(default_factory=list)
    # The output's bytes: the new file, the original (copied-unchanged), or None; not in the record.
    data: bytes | None = field(default=None, repr=False)

    def summary(self) -> str:
        """One line for people: what was done, where the label is, and why."""
        from ..model import printable

        head = f"{printable(self.path)}: {self.action}"
        if self.out and self.action is not MarkAction.REFUSED:
            head += f" -> {printable(self.out)}"
        if self.reason:
            head += f" ({self.reason})"
        if self.label is not None:
            head += f"; Label {self.label.Label} at {self.location}"
        return head + "".join(f"\n  - {printable(note)}" for note in self.notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "path": self.check.json_path if self.check else self.path,
            "out": path_fields(self.out)["path"] if self.out is not None else None,
            "action": self.action.value,
            "reason": self.reason,
            "label": json.loads(self.label.to_json())["AIGC"] if self.label else None,
            "location": self.location,
            "notes": list(self.notes),
            "check": self.check.to_dict(),
        }


def marking(checker: Checker) -> dict[str, Any]:
    return dict(checker.policy.data.get("marking") or {"writes": False})


def mark_bytes(
    checker: Checker,
    data: bytes,
    propagation: Propagation,
    declared: Declared | str = Declared.NONE,
    name: str = "<bytes>",
    post_id: str | None = None,
) -> MarkResult:
    """Decide and write one file held in memory; never raises for a bad file (only for bad values)."""
    result = checker.check(data, declared, name=name)
    outcome = MarkResult(name, MarkAction.ERROR, result)
    # A status inherited from known AI content (``--similar-index``): the record says from which file,
    # since the label written (or the refusal) follows from it and nothing in the file itself shows it.
    outcome.notes += [e.explanation for e in result.evidence if e.source == NEAR_DUPLICATE and e.explanation]
    try:
        return _mark(checker, data, propagation, Declared.parse(declared), result, outcome, post_id)
    except LabelValueError as exc:  # a value from a declaration row (its post id): this file only
        outcome.action, outcome.reason = MarkAction.ERROR, "bad-value"
        outcome.notes.append(str(exc))
        return outcome


def _refuse(outcome: MarkResult, reason: str, note: str, action: MarkAction = MarkAction.REFUSED) -> MarkResult:
    outcome.action, outcome.reason = action, reason
    outcome.notes.append(note)
    return outcome


def _mark(
    checker: Checker,
    data: bytes,
    propagation: Propagation,
    declared: Declared,
    result: CheckResult,
    outcome: MarkResult,
    post_id: str | None,
) -> MarkResult:
    # A fatal read error (a cut file, a bound hit) makes the file unreadable even where AI evidence
    # was found: what was not read may hold a label, and a rewrite would hand on a damaged file.
    fatal = [e for e in result.errors if e.fatal]
    if result.verdict is Verdict.UNREADABLE or fatal:
        errors = "; ".join(f"{e.code}: {e.message}" for e in fatal) or "see check.errors"
        return _refuse(outcome, "unreadable", f"the file could not be read ({errors})", MarkAction.ERROR)
    rules = marking(checker)
    if not rules.get("writes"):
        outcome.action = MarkAction.COPIED
        outcome.notes.append(rules.get("reason") or f"policy {checker.policy.id} does not write labels into files")
        outcome.data = data
        return outcome
    if result.label is None:
        outcome.action = MarkAction.COPIED
        outcome.notes.append(f"policy {checker.policy.id} gives this file no label (verdict {result.verdict})")
        outcome.data = data
        return outcome
    if result.c2pa.present and not propagation.resigns:
        return _refuse(
            outcome,
            "c2pa-would-break",
            "the file carries a C2PA manifest whose hashes a metadata edit would break; "
            "give --c2pa-cert and --c2pa-key to re-sign it",
        )
    try:
        writer = writer_for(result.format or "")
    except ModuleNotFoundError as exc:  # a writer listed in the registry but not in this build
        return _refuse(outcome, "unsupported-format", f"the {result.format} writer is not installed ({exc})",
                       MarkAction.ERROR)  # fmt: skip
    if writer is None:
        return _refuse(
            outcome, "unsupported-format", f"mark has no writer for {result.format or 'this'} files", MarkAction.ERROR
        )
    label = _label(result, rules, propagation, data, post_id, outcome)
    if label is None:
        return outcome
    try:
        written = writer(data, label)
    except MediaError as exc:
        where = f" at {exc.location}" if exc.location else ""
        return _refuse(outcome, exc.code, f"{exc}{where}", MarkAction.ERROR)
    except Exception as exc:  # a writer bug on a file it misjudged: this file fails, the batch goes on
        return _refuse(outcome, "internal-error", f"the {result.format} writer failed: {type(exc).__name__}: {exc}",
                       MarkAction.ERROR)  # fmt: skip
    new = written.data
    outcome.notes += written.notes
    if propagation.resigns:
        try:
            new = _resign(data, new, result.media_type or "", propagation)
        except MediaError as exc:
            return _refuse(outcome, "c2pa-resign-failed", str(exc), MarkAction.ERROR)
    check = checker.check(new, declared, name=outcome.path)
    problem = _verify(result, check, label)
    if problem:
        return _refuse(outcome, "verify-failed", f"nothing written: {problem}", MarkAction.ERROR)
    outcome.label = label
    outcome.location = next(e.location for e in check.evidence if e.source == "gb45438")
    if new == data:
        outcome.action = MarkAction.COPIED
        outcome.notes.append("the file already carries exactly this label")
    else:
        existed = any(e.source == "gb45438" for e in result.evidence)
        outcome.action = MarkAction.UPDATED if existed else MarkAction.MARKED
        if existed and not written.updated_existing:
            outcome.notes.append(f"the label now stands in the format's normative place, {outcome.location}")
    outcome.data = new
    return outcome


def _label(
    result: CheckResult,
    rules: dict[str, Any],
    propagation: Propagation,
    data: bytes,
    post_id: str | None,
    outcome: MarkResult,
) -> LabelFields | None:
    propagate_id = propagation.propagate_id_for(data, post_id)
    if not propagate_id:
        _refuse(outcome, "no-propagate-id", "no PropagateID: give --propagate-id or a post_id in --declarations",
                MarkAction.ERROR)  # fmt: skip
        return None
    labels = [e for e in result.evidence if e.source == "gb45438"]
    if not labels:
        tier = rules["tiers"][result.label]
        return LabelFields(tier, ContentPropagator=propagation.propagator, PropagateID=propagate_id)
    usable = [e for e in labels if e.aigc_label]
    if not usable:
        _refuse(outcome, "existing-label-unreadable",
                "the file's GB 45438 label cannot be read; mark neither replaces nor deletes it (Art. 10)")  # fmt: skip
        return None
    chosen = next((e for e in usable if e.aigc_label == result.classification.aigc_label), usable[0])
    if len(labels) > 1:
        outcome.notes.append(
            f"{len(labels)} labels found ({', '.join(e.location for e in labels)}); "
            f"the one kept is Label {chosen.aigc_label} from {chosen.location}"
        )
    try:
        values = json.loads(chosen.value)
    except ValueError:
        _refuse(outcome, "existing-label-unreadable", "the existing label is too long to be carried over")
        return None
    kept = {key: values.get(key, "") for key in KEPT[1:]}
    if any(not isinstance(v, str) for v in kept.values()):
        _refuse(outcome, "existing-label-unreadable", "an element of the existing label is not a string")
        return None
    previous = values.get("ContentPropagator")
    if previous and previous not in (propagation.propagator, kept["ContentProducer"]):
        outcome.notes.append(f"ContentPropagator {previous!r} (an earlier platform) replaced by this platform's")
    reserved2 = values.get("ReservedCode2") if previous == propagation.propagator else ""
    if values.get("ReservedCode2") and not reserved2:
        outcome.notes.append("ReservedCode2 (the earlier propagator's security data) was not carried over")
    as_found = tuple(k for k, v in kept.items() if v and not _conforms(v))
    if as_found:
        outcome.notes.append(f"kept as found, outside the Annex E character set: {', '.join(as_found)}")
    return LabelFields(
        str(chosen.aigc_label),
        ContentPropagator=propagation.propagator,
        PropagateID=propagate_id,
        ReservedCode2=reserved2 if isinstance(reserved2, str) else "",
        as_found=as_found,
        **kept,
    )


def _conforms(value: str) -> bool:
    try:
        LabelFields("1", ContentProducer=value)
    except LabelValueError:
        return False
    return True


# Format changes a label may make: plain text gains YAML front matter, the normative place for a text
# file's label, and so reads as Markdown.
_FORMAT_CHANGES = {("text", "markdown")}


def _verify(before: CheckResult, after: CheckResult, label: LabelFields) -> str | None:
    if after.format != before.format and (before.format, after.format) not in _FORMAT_CHANGES:
        return f"the new file reads as {after.format}, not {before.format}"
    if after.verdict is Verdict.UNREADABLE:
        return "the new file is unreadable: " + "; ".join(e.message for e in after.errors)
    labels = [e for e in after.evidence if e.source == "gb45438"]
    if len(labels) != 1:
        where = ", ".join(e.location for e in labels)
        return f"the new file holds {len(labels)} labels, not one" + (f" ({where})" if where else "")
    try:
        read = json.loads(labels[0].value)
    except ValueError:
        read = None
    if read != json.loads(label.to_json())["AIGC"]:
        return f"the label read back ({labels[0].value}) is not the one written ({label.to_json()})"
    if before.c2pa.present and not after.c2pa.present:
        return "the C2PA manifest did not survive the rewrite"
    return None


def _resign(original: bytes, marked: bytes, mime: str, propagation: Propagation) -> bytes:
    resign = c2pa_resigner()
    assert propagation.c2pa_cert is not None and propagation.c2pa_key is not None
    try:
        return bytes(resign(original, marked, mime, propagation.c2pa_cert, propagation.c2pa_key, propagation.c2pa_alg))
    except AigcCheckError:
        raise
    except Exception as exc:  # the signer's own failure: this file is not written
        raise MediaError(f"C2PA re-signing failed: {exc}", "C2PA manifest") from exc


def c2pa_resigner() -> Any:
    """``c2pa_resign.resign``, built separately; a clear usage error where it is not installed."""
    try:
        module = importlib.import_module(C2PA_RESIGN_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != C2PA_RESIGN_MODULE:
            raise
        raise UsageError(
            "--c2pa-cert/--c2pa-key: C2PA re-signing (aigc_check/mark/c2pa_resign.py) is not part of this build"
        ) from None
    return module.resign


def mark(
    target: str | os.PathLike | bytes,
    propagator: str,
    propagate_id: str = "{post_id}",
    *,
    out: str | os.PathLike | None = None,
    declared: Declared | str = Declared.NONE,
    post_id: str | None = None,
    options: CheckOptions | None = None,
    checker: Checker | None = None,
    overwrite: bool = False,
    in_place: bool = False,
    similar_index: str | os.PathLike | None = None,
) -> MarkResult:
    """Mark one file: the library form of ``aigc-check mark`` (see the README).

    ``target`` is a path or the file's bytes.  With ``out`` (or ``in_place`` for a path) the output
    is written safely (``output.py``); without, nothing is written and the new bytes are the result's
    ``data``.  ``similar_index``: a known-content index (``scan --similar --similar-index``), so that
    an unlabelled copy of known AI content is marked at the suspected tier (the ``similar`` extra).
    Bad values (propagator, PropagateID, declaration, an unreadable index) raise ``UsageError`` before
    anything is read; a file that cannot be marked is a result with action ``refused`` or ``error``."""
    from dataclasses import replace

    from .output import plan, read_input, write_atomically

    propagation = Propagation(propagator, propagate_id)
    warnings = propagation.warnings()
    declared = Declared.parse(declared)
    if similar_index is not None:
        if checker is not None:
            raise UsageError("give similar_index in the checker's options, not beside a checker")
        options = replace(options or CheckOptions(), similar=True, similar_index=os.fspath(similar_index))
    checker = checker or Checker(options or CheckOptions())
    targets = []
    if isinstance(target, (bytes, bytearray, memoryview)):
        if in_place:
            raise UsageError("in_place needs a path, not bytes")
        data, name = bytes(target), "<bytes>"
        if out is not None and os.path.exists(out) and not overwrite:
            raise UsageError(f"{os.fspath(out)} exists: pass overwrite=True to replace it")
    else:
        name = os.fspath(target)
        if out is not None or in_place:
            targets = plan([name], os.fspath(out) if out is not None else None, None, in_place, overwrite)
        try:
            data = read_input(name)
        except OSError as exc:
            result = checker.check(name, declared)
            outcome = MarkResult(name, MarkAction.ERROR, result, reason="unreadable", notes=[str(exc)])
            return outcome
    outcome = mark_bytes(checker, data, propagation, declared, name, post_id)
    outcome.notes[:0] = warnings
    destination = targets[0].out if targets else (os.fspath(out) if out is not None else None)
    if destination is not None and outcome.data is not None:
        if in_place and outcome.data == data:
            outcome.out = destination  # unchanged: nothing to write
        else:
            write_atomically(destination, outcome.data, replace=overwrite or in_place,
                             mode_from=name if in_place else None)  # fmt: skip
            outcome.out = destination
    return outcome
