"""The scan's hook for ``--similar``: once every file is checked, cluster and inherit over
results.jsonl (``similar/audit.py``), then rebuild what was derived from the lines (results.csv, the
report's issue list, the tallies) from the rewritten lines, and collect the account signals.

A scan without ``--similar`` never imports this module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .. import contract
from ..policy import Policy
from ..policy_accounts import validate_accounts
from ..similar.audit import AuditOutcome, run_audit
from ..similar.known import KnownIndex
from .account_signals import SignalCollector
from .declarations import DeclarationIndex
from .outputs import ISSUES_TMP, RESULTS_CSV, RESULTS_JSONL, Tally, csv_lines, csv_row, digest, jsonl_line, open_text


@dataclass
class SimilarPassOutput:
    outcome: AuditOutcome
    tally: Tally
    signals: SignalCollector


def similar_pass(
    out_dir: str,
    policy: Policy,
    old: Tally,
    index_file: str | None,
    known: KnownIndex | None,
    declarations: DeclarationIndex | None,
) -> SimilarPassOutput:
    """Rewrite the scan's outputs with clusters and inheritances (``known``: the index read at the
    scan's start, if ``index_file`` existed); the new tally and signals."""
    tally = Tally(ai_statuses=old.ai_statuses)
    # What is not in results.jsonl is carried over as it was counted.
    tally.skipped, tally.walk_problems = old.skipped, old.walk_problems
    tally.walk_problem_examples = old.walk_problem_examples
    signals = SignalCollector(
        validate_accounts(policy.data, policy.id, list(policy.languages)), policy.data["ai_statuses"]
    )
    csv_path = os.path.join(out_dir, RESULTS_CSV)
    csv_tmp = csv_path + ".similar.tmp"
    with open_text(csv_tmp, "w") as csv_out, open_text(os.path.join(out_dir, ISSUES_TMP), "w") as issues:
        csv_out.write(csv_lines([list(contract.csv_columns())]))

        def on_result(result: dict) -> None:
            d = digest(result)
            tally.add(d)
            csv_out.write(csv_lines([csv_row(result)]))
            if d["issue"]:
                issues.write(jsonl_line(d) + "\n")
            signals.add(result)

        outcome = run_audit(
            os.path.join(out_dir, RESULTS_JSONL), out_dir, policy, known, index_file, on_result=on_result
        )
    os.replace(csv_tmp, csv_path)
    if declarations is not None:
        signals.add_times(declarations.posted_times())
    return SimilarPassOutput(outcome, tally, signals)
