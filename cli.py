"""The ``aigc-check`` command: a thin click layer over :mod:`provenance`.

``main`` owns every mapping from outcome or error to exit code (kept apart
from the work, as httpie does); ``check_command`` only runs checks and prints.
"""

from __future__ import annotations

import sys
from enum import IntEnum
from typing import Iterable

import click

from provenance import CheckOptions, Checker, shipped_policies
from provenance.errors import AigcCheckError
from provenance.model import DECLARATIONS, CheckResult
from provenance.report import summary_line, to_json_line, to_text


class ExitStatus(IntEnum):
    COMPLIANT = 0  # every file compliant
    VIOLATION = 1  # at least one unlabelled-ai or mislabelled
    USAGE = 2  # bad command line, policy, trust anchors or data file
    UNREADABLE = 3  # at least one unreadable file, and no violation


def exit_status(results: Iterable[CheckResult]) -> ExitStatus:
    verdicts = {r.verdict for r in results}
    if verdicts & {"unlabelled-ai", "mislabelled"}:
        return ExitStatus.VIOLATION
    if "unreadable" in verdicts:
        return ExitStatus.UNREADABLE
    return ExitStatus.COMPLIANT


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="aigc-check")
def cli() -> None:
    """Check media files for AI provenance labels and judge them against marking rules."""


@cli.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=False))
@click.option("--declared", type=click.Choice(DECLARATIONS), default="none", show_default=True,
              help="What the creator declared: ai, not-ai, or none.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people; json prints one object per file, one per line.")
@click.option("--policy", default="cn", show_default=True,
              help=f"Marking rules: a shipped policy ({', '.join(shipped_policies())}) or a JSON file.")
@click.option("--trust-anchors", "trust_anchors", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="PEM file of extra C2PA trust anchors (repeatable).")
@click.option("--no-default-trust", is_flag=True, help="Do not use the shipped C2PA trust list.")
@click.option("--allow-network", is_flag=True, help="Fetch remote C2PA manifests and OCSP (off by default).")
@click.option("--no-verify-hash", is_flag=True, help="Skip C2PA hash and signature validation (reported).")
@click.option("--generators", "generators_file", type=click.Path(exists=True, dir_okay=False),
              help="A generator-fingerprint JSON file to use instead of the shipped one.")
def check_command(files, declared, fmt, policy, trust_anchors, no_default_trust,
                  allow_network, no_verify_hash, generators_file) -> None:
    """Check FILES and print a verdict for each."""
    options = CheckOptions(policy=policy, trust_anchor_files=tuple(trust_anchors),
                           use_default_trust=not no_default_trust, allow_network=allow_network,
                           verify_hash=not no_verify_hash, generators_file=generators_file)
    checker = Checker(options)
    results = []
    for path in files:
        result = checker.check(path, declared)
        results.append(result)
        click.echo(to_json_line(result) if fmt == "json" else to_text(result) + "\n")
    if fmt == "text" and len(results) > 1:
        click.echo(summary_line(results))
    return results


def main(argv=None) -> int:
    """Entry point: run the command and map its outcome to an exit code."""
    try:
        outcome = cli.main(args=argv, prog_name="aigc-check", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return int(ExitStatus.USAGE)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except AigcCheckError as exc:
        click.echo(f"aigc-check: error: {exc}", err=True)
        return int(ExitStatus.USAGE)
    if isinstance(outcome, int):  # --help and --version return 0 in this mode
        return outcome
    return int(exit_status(outcome or []))


if __name__ == "__main__":
    sys.exit(main())
