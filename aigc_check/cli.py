"""The ``aigc-check`` command: a thin click layer over :mod:`aigc_check`.

``main`` owns every mapping from outcome or error to exit code (kept apart
from the work, as httpie does); ``check_command`` only runs checks and prints.
The statuses and the option sets several commands share are in ``cli_options``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

import click

from . import Checker, CheckOptions, __version__
from .cli_options import (
    DECLARED,
    OWN_PROCESS,
    ExitStatus,
    checker_options,
    exit_status,
    scan_exit_status,
    spark_options,
)
from .cli_output import (
    FORMATS,
    FullHelpGroup,
    MachineReport,
    Output,
    output_options,
    quiet_option,
    report_file_options,
)
from .deadline import limit_memory
from .errors import AigcCheckError
from .model import CheckResult, Declared
from .report import summary_line, to_text
from .scan.config import ScanConfig
from .spark.config import InputColumns, SparkScanConfig
from .trust import load_trust_list, update_trust_list

if TYPE_CHECKING:
    from .compare_marks import PairComparison


MAIN_EPILOG = """\b
Examples:
  aigc-check check photo.jpg
  aigc-check check --declared ai --format json *.png
  aigc-check scan uploads/ --out report/ --declarations posts.csv
  aigc-check serve --port 8080
  aigc-check COMMAND --help       the options of one command

\b
Exit codes (check, scan):
  0  every file compliant       1  a violation (unlabelled-ai, mislabelled)
  2  usage error                3  a file could not be checked, and no violation
  4  serve could not start      130  interrupted

\b
Environment:
  NO_COLOR            no colour in the text report (unless --color)
  AIGC_TIME_LIMIT     default --time-limit (check, scan, compare)
  AIGC_MEMORY_LIMIT   default --memory-limit
  AIGC_SERVE_*        serve's options (AIGC_SERVE_PORT, AIGC_SERVE_POLICY, ...)

\b
Shell completion (click's; bash shown, zsh and fish alike):
  eval "$(_AIGC_CHECK_COMPLETE=bash_source aigc-check)"
Manual page:  aigc-check --help-man > aigc-check.1; aigc-check man --out DIR (every command)
"""


def _print_man_page(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from .cli_output import man_page

    click.echo(man_page(ctx), nl=False)
    ctx.exit(0)


@click.group(
    cls=FullHelpGroup,
    lazy_commands={"serve": "aigc_check.cli_serve:serve_command"},
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=MAIN_EPILOG,
)
@click.version_option(version=__version__, prog_name="aigc-check")
@click.option(
    "--help-man",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_man_page,
    help="Print the manual page (roff, made from these definitions) and exit.",
)
def cli() -> None:
    """Check media files for AI provenance labels and judge them against marking rules."""


@cli.command("man")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write aigc-check.1 and one page per command (aigc-check-check.1, ...).",
)
def man_command(out_dir: str) -> ExitStatus:
    """Write the manual pages of every command into a folder (for MANPATH or a package)."""
    from .cli_output import write_man_pages

    for path in write_man_pages(cli, out_dir):
        click.echo(path)
    return ExitStatus.COMPLIANT


CHECK_EPILOG = """\b
Examples:
  aigc-check check photo.jpg                       one file, in words
  aigc-check check --declared ai *.png -v          several, with the codes behind the words
  aigc-check check --format json-array *.jpg -o results.json
  aigc-check check --format csv --policy eu clip.mp4 > results.csv
  cat upload.bin | aigc-check check -              standard input
  aigc-check check --lang zh 图片.jpg               the report in Chinese

\b
Exit codes:
  0  every file compliant
  1  at least one unlabelled-ai or mislabelled file
  2  usage error: bad option, policy, trust anchors or data file
  3  at least one file could not be checked (missing, empty, not media, broken), and no violation
  130  interrupted (Ctrl-C)

\b
Environment:
  AIGC_TIME_LIMIT    default of --time-limit
  AIGC_MEMORY_LIMIT  default of --memory-limit
  NO_COLOR           any value: no colour (unless --color)
"""
STDIN_NAME = "<stdin>"  # how a result read from standard input names its file


@cli.command("check", epilog=CHECK_EPILOG)
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True))
@click.option(
    "--declared",
    type=DECLARED,
    default=Declared.NONE.value,
    show_default=True,
    help="What the creator declared: ai, not-ai, or none (case and surrounding spaces do not matter).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    default="text",
    show_default=True,
    help="text for people; json: one object per file, one per line (JSON Lines); json-array: one JSON "
    "array of them (exiftool -j style); csv: the columns of a scan's results.csv.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    help="Text report in one language, its headings included (a language the policy declares); "
    "by default English headings and the policy's texts in every language it declares.",
)
@checker_options(time_limit=True)
@click.option(
    "--stdin-jsonl",
    is_flag=True,
    help='Stay up and read requests from stdin, one JSON line each ({"path": ..., "declared": ..., '
    '"id": ...}); answer one JSON line each. --declared is the default declaration.',
)
@output_options
def check_command(
    files: tuple[str, ...],
    declared: Declared,
    fmt: str,
    lang: str | None,
    options: CheckOptions,
    stdin_jsonl: bool,
    output: Output,
) -> ExitStatus:
    """Check FILES and print a verdict for each ('-' reads one file from standard input).

    Every file named gets an answer, a missing one or a folder included (unreadable, exit 3, with
    advice that fits); to check the files in a folder use scan."""
    if bool(files) == stdin_jsonl:
        raise click.UsageError("give FILES to check, or --stdin-jsonl to read requests from stdin (not both)")
    if files.count("-") > 1:
        raise click.UsageError("standard input ('-') can be read once")
    checker = Checker(options)
    if lang is not None and lang not in checker.policy.languages:
        raise click.UsageError(
            f"--lang {lang}: policy {checker.policy.id} declares {', '.join(checker.policy.languages)}"
        )
    if click.get_current_context().obj == OWN_PROCESS:
        # Only when this process is the command's own (not a caller embedding main()): the cap is
        # process-wide and inherited by anything the caller starts later.
        limit_memory(options.memory_limit_mb)
    if stdin_jsonl:
        from .service.jsonl import serve_lines

        # click 8.5 deprecated get_text_stream and serves it from a module __getattr__ typed "-> object".
        stdin: TextIO = click.get_text_stream("stdin")  # type: ignore[operator]
        serve_lines(checker, stdin, output.stream, declared)  # type: ignore[arg-type]
        return ExitStatus.COMPLIANT  # a pipe peer reads verdicts from the lines, not the exit code
    results = []
    machine = MachineReport(fmt, output) if fmt != "text" else None
    for path in files:
        result = _check_one(checker, path, declared)
        results.append(result)
        if machine is not None:
            machine.add(result)
        elif output.quiet:
            output.write(to_text(result, checker.policy, lang, style=output.style).splitlines()[0])
        else:
            output.write(to_text(result, checker.policy, lang, output.verbose, output.style) + "\n")
    if machine is not None:
        machine.close()
    elif len(results) > 1 and not output.quiet:
        output.write(summary_line(results))
    return exit_status(results)


def _check_one(checker: Checker, path: str, declared: Declared) -> CheckResult:
    if path != "-":
        return checker.check(path, declared)
    # A pipe cannot seek, and the readers seek: the whole input is read first.  The memory cap
    # (--memory-limit) bounds it like any other allocation of the check.
    try:
        data = sys.stdin.buffer.read()
    except MemoryError:
        message = "standard input is larger than the memory the process may use (--memory-limit)"
        return checker.unreadable_result(STDIN_NAME, declared, "memory-limit", message)
    except OSError as exc:
        return checker.open_failed(STDIN_NAME, declared, exc)
    return checker.check(data, declared, name=STDIN_NAME)


@cli.command("compare")
@click.argument("original", type=click.Path(allow_dash=False))
@click.argument("delivered", type=click.Path(allow_dash=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text for people; json prints one aigc-check-compare/1 object per pair, one per line; csv one row per pair.",
)
@report_file_options(quiet_help="Text report: one line per pair, no summary.")
@checker_options(time_limit=True)
def compare_command(original: str, delivered: str, fmt: str, options: CheckOptions, output: Output) -> ExitStatus:
    """Compare ORIGINAL with DELIVERED (two files, or two folders matched by relative path): which
    provenance marks were kept, lost, changed or added."""

    from .compare_marks import Comparer
    from .compare_marks import render as compare_render

    dirs = (os.path.isdir(original), os.path.isdir(delivered))
    if dirs[0] != dirs[1]:
        raise click.UsageError("compare two files, or two folders (one of ORIGINAL and DELIVERED is a folder)")
    comparer = Comparer(options)
    if click.get_current_context().obj == OWN_PROCESS:
        limit_memory(options.memory_limit_mb)
    pairs = comparer.trees(original, delivered) if dirs[0] else iter([comparer.pair(original, delivered)])
    if fmt == "csv":
        output.write(compare_render.csv_header(), nl=False)
    results = []
    for result in pairs:
        results.append(result)
        if fmt == "json":
            output.write(compare_render.to_json_line(result))
        elif fmt == "csv":
            output.write(compare_render.csv_row(result), nl=False)
        elif output.quiet:
            output.write(compare_render.to_text(result, comparer.checker.policy).split("\n", 1)[0])
        else:
            output.write(compare_render.to_text(result, comparer.checker.policy) + "\n")
    if fmt == "text" and len(results) > 1 and not output.quiet:
        output.write(compare_render.summary_line(results))
    return compare_exit_status(results)


def compare_exit_status(results: Iterable[PairComparison]) -> ExitStatus:
    """1: a label lost, changed without a valid C2PA chain, or C2PA broken; 3: otherwise, a pair that
    could not be compared (a side unreadable, a file missing from the delivered tree); else 0."""
    from .compare_marks import INCOMPLETE, PROBLEMS

    verdicts = [(r.verdict, r.accepted) for r in results]
    if any(v in PROBLEMS and not accepted for v, accepted in verdicts):
        return ExitStatus.VIOLATION
    if any(v in INCOMPLETE for v, _ in verdicts):
        return ExitStatus.UNREADABLE
    return ExitStatus.COMPLIANT


@cli.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(allow_dash=False))
@click.option(
    "--from-list",
    "from_list",
    type=click.Path(allow_dash=True, dir_okay=False),
    help="A file of paths to check, one a line ('-' for standard input).",
)
@click.option(
    "--declarations",
    type=click.Path(exists=True, dir_okay=False),
    help="Sidecar CSV or JSONL: path, declared (ai/not-ai/none), optional account, post_id.",
)
@click.option(
    "--declared",
    type=DECLARED,
    default=ScanConfig.declared.value,
    show_default=True,
    help="Declaration for every file the sidecar does not name (or names with an empty declaration).",
)
@click.option(
    "--out",
    "out_dir",
    default=ScanConfig.out_dir,
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for results.jsonl, results.csv, summary.json and report.html.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=ScanConfig.jobs,
    show_default="all cores",
    help="Worker processes.",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted scan from its results.jsonl.")
@click.option("--overwrite", is_flag=True, help="Replace the results already in --out.")
@click.option("--no-html", is_flag=True, help="Do not write report.html.")
@click.option(
    "--thumbnails",
    type=click.IntRange(min=0),
    default=ScanConfig.thumbnails,
    show_default=True,
    help="At most this many image thumbnails in report.html.",
)
@click.option(
    "--progress",
    type=click.Choice(["auto", "bar", "lines", "none"]),
    default=ScanConfig.progress,
    show_default=True,
    help="auto: a bar on a terminal, a line every few seconds otherwise.",
)
@click.option(
    "--mark-into",
    "mark_into",
    type=click.Path(file_okay=False),
    help="After the scan, write marked copies of the files that need a label into this folder (see mark).",
)
@click.option("--propagator", help="With --mark-into: ContentPropagator, the platform's code.")
@click.option(
    "--propagate-id",
    default="{post_id}",
    show_default=True,
    help="With --mark-into: PropagateID; {post_id} (from --declarations) and {sha256} are filled in.",
)
@checker_options(time_limit=True)
@spark_options
@quiet_option
def scan_command(
    paths: tuple[str, ...],
    from_list: str | None,
    declarations: str | None,
    declared: Declared,
    out_dir: str,
    jobs: int,
    resume: bool,
    overwrite: bool,
    no_html: bool,
    thumbnails: int,
    progress: str,
    engine: str,
    spark_args: dict[str, Any],
    options: CheckOptions,
    mark_into: str | None = None,
    propagator: str | None = None,
    propagate_id: str = "{post_id}",
    quiet: bool = False,
) -> ExitStatus:
    """Check every media file below PATHS (folders or files) in parallel; write results and a report.

    With --engine spark: check the objects of --input-table (or below one path prefix) on Apache Spark
    and write one row per file to --output-table or to --out (Parquet, or JSON lines)."""
    propagation = _scan_propagation(mark_into, propagator, propagate_id, declarations, engine)
    if engine == "spark":
        return spark_scan(paths, declarations or from_list, declared, out_dir, overwrite, spark_args, options)
    ctx = click.get_current_context()
    given = [name for name in spark_args if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT]
    if given:
        raise click.UsageError(f"--{given[0].replace('_', '-')} is a Spark option: add --engine spark")
    from .scan import run_scan

    if not paths and not from_list:
        raise click.UsageError("name folders or files to scan, or --from-list")
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing:  # a mistyped name: say so now, not in a whole report about one unreadable file
        raise click.UsageError(f"no such file or folder: {', '.join(missing)}")
    if quiet:
        progress = "none"
    config = ScanConfig(
        paths=tuple(paths),
        from_list=from_list,
        out_dir=out_dir,
        declared=declared,
        declarations=declarations,
        # The scan reads and writes its index in the near-duplicate pass, not in every worker.
        options=dataclasses.replace(options, similar_index=None),
        similar_index=options.similar_index,
        jobs=jobs,
        resume=resume,
        overwrite=overwrite,
        html=not no_html,
        thumbnails=thumbnails,
        progress=progress,
    )
    own_process = ctx.obj == OWN_PROCESS
    try:
        summary = run_scan(config, exiting=own_process)
    except KeyboardInterrupt:  # during start-up (policy, sidecar index, reload): no file was checked
        if own_process:  # exiting now: a Ctrl-C pressed again must not raise on the way out
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        click.echo("aigc-check scan: interrupted while starting; no file was checked", err=True)
        return ExitStatus.INTERRUPTED
    if propagation is not None and mark_into and not summary.interrupted:
        from .mark.scan_pass import mark_scan_results

        workers = config.worker_count()
        section = mark_scan_results(out_dir, tuple(paths), mark_into, propagation, options, resume, workers)
        counts = (
            ", ".join(f"{n} {action}" for action, n in sorted(section["files"].items())) or "no file needed a label"
        )
        click.echo(f"aigc-check scan: mark into {mark_into}: {counts}", err=True)
    return scan_exit_status(summary)


def _scan_propagation(
    mark_into: str | None, propagator: str | None, propagate_id: str, declarations: str | None, engine: str
) -> Any:
    """``scan --mark-into``'s values, validated before the scan starts (exit 2 on a bad one)."""
    if not mark_into:
        if propagator:
            raise click.UsageError("--propagator is for --mark-into")
        return None
    if engine == "spark":
        raise click.UsageError("--mark-into is for the local scan")
    if not propagator:
        raise click.UsageError("--mark-into needs --propagator")
    if propagate_id == "{post_id}" and not declarations:
        raise click.UsageError("--mark-into needs --propagate-id, or --declarations with a post_id column")
    from .mark.core import Propagation

    propagation = Propagation(propagator, propagate_id)
    for warning in propagation.warnings():
        click.echo(f"aigc-check scan: warning: {warning}", err=True)
    return propagation


def spark_scan(
    paths: tuple[str, ...],
    local_only: str | None,
    declared: Declared,
    out_dir: str,
    overwrite: bool,
    spark_args: dict[str, Any],
    options: CheckOptions,
) -> ExitStatus:
    from .spark.job import run_spark_scan

    if local_only:
        raise click.UsageError(
            "--declarations and --from-list are for the local scan; with --engine spark "
            "the input table's columns carry the declarations (--declared-col)"
        )
    if len(paths) > 1:
        raise click.UsageError("--engine spark scans one path prefix (or --input-table)")
    out_given = click.get_current_context().get_parameter_source("out_dir") != click.core.ParameterSource.DEFAULT
    a = spark_args
    summary = run_spark_scan(
        SparkScanConfig(
            prefix=paths[0] if paths else None,
            input_table=a["input_table"],
            output_table=a["output_table"],
            out_dir=out_dir if out_given or not a["output_table"] else None,
            output_format=a["output_format"],
            overwrite=overwrite,
            master=a["master"],
            declared=declared,
            options=options,
            columns=InputColumns(
                a["uri_col"], a["declared_col"], a["account_col"], a["post_id_col"], a["posted_at_col"]
            ),
            io_threads=a["io_threads"],
            partitions=a["partitions"],
        )
    )
    return scan_exit_status(summary)


@cli.command("policies")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@report_file_options()
def policies_command(fmt: str, output: Output) -> ExitStatus:
    """List the shipped rule packs: id, kind, date, what each extends, languages and sources."""
    from .policy_listing import listing_text, summaries

    packs = summaries()
    output.write(json.dumps(packs, ensure_ascii=False, indent=2) if fmt == "json" else listing_text(packs))
    return ExitStatus.COMPLIANT


@cli.group("policy")
def policy_group() -> None:
    """Show a rule pack's effective rules, or check a policy file of your own."""


@policy_group.command("show")
@click.argument("policy")
@report_file_options()
def policy_show_command(policy: str, output: Output) -> ExitStatus:
    """Print the effective rules of POLICY (a shipped id or a file), after its extends chain."""
    from .policy import load_policy
    from .policy_listing import effective_json

    output.write(effective_json(load_policy(policy)))
    return ExitStatus.COMPLIANT


@policy_group.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def policy_check_command(file: str) -> ExitStatus:
    """Validate a policy FILE (its extends chain included); exit 2 with the file and key at fault."""
    from .policy import load_policy
    from .policy_listing import check_text

    click.echo(check_text(load_policy(file), file))
    return ExitStatus.COMPLIANT


@cli.command("mark")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=False))
@click.option("--out", "out", type=click.Path(dir_okay=False), help="The output file (one input).")
@click.option("--out-dir", "out_dir", type=click.Path(file_okay=False), help="Folder for the outputs (same names).")
@click.option("--in-place", is_flag=True, help="Rewrite the inputs themselves (temporary file, fsync, atomic rename).")
@click.option("--overwrite", is_flag=True, help="Replace outputs that exist already.")
@click.option("--propagator", required=True, help="ContentPropagator: the platform's 27-character code (or name).")
@click.option(
    "--propagate-id",
    default="{post_id}",
    show_default=True,
    help="PropagateID, the platform's content number; {post_id} (from --declarations) and {sha256} are filled in.",
)
@click.option(
    "--declared",
    type=DECLARED,
    default=Declared.NONE.value,
    show_default=True,
    help="What the creator declared (for every file --declarations does not name).",
)
@click.option(
    "--declarations",
    type=click.Path(exists=True, dir_okay=False),
    help="Sidecar CSV or JSONL: path, declared, optional post_id (the PropagateID's {post_id}).",
)
@click.option(
    "--c2pa-cert", type=click.Path(exists=True, dir_okay=False), help="PEM certificate chain to re-sign C2PA files."
)
@click.option("--c2pa-key", type=click.Path(exists=True, dir_okay=False), help="PEM private key to re-sign C2PA files.")
@click.option(
    "--c2pa-alg", default="es256", show_default=True, help="C2PA signing algorithm (es256, ps256, ed25519, ...)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json prints one aigc-check-mark/1 record per file, one per line.",
)
@click.option(
    "--report", "report_path", type=click.Path(dir_okay=False), help="Also write the records to this JSONL file."
)
@checker_options(time_limit=True)
def mark_command(
    files: tuple[str, ...],
    out: str | None,
    out_dir: str | None,
    in_place: bool,
    overwrite: bool,
    propagator: str,
    propagate_id: str,
    declared: Declared,
    declarations: str | None,
    c2pa_cert: str | None,
    c2pa_key: str | None,
    c2pa_alg: str,
    fmt: str,
    report_path: str | None,
    options: CheckOptions,
) -> ExitStatus:
    """Write the platform's GB 45438 propagation elements into FILES where the policy says a label applies.

    Each file is checked first (same options and policy as check); a file with a label gains
    ContentPropagator and PropagateID, one that needs a label (declared, or traces) gets one at the
    policy's tier, one that needs none is copied unchanged.  Nothing is written for a file that
    fails, and the input is never written unless --in-place."""
    from .mark.run import MarkRequest, MarkRun

    request = MarkRequest(
        files, propagator, propagate_id, declared, declarations,
        out=out, out_dir=out_dir, in_place=in_place, overwrite=overwrite,
        c2pa_cert=c2pa_cert, c2pa_key=c2pa_key, c2pa_alg=c2pa_alg,
    )  # fmt: skip
    run = MarkRun.prepare(request, options)
    for warning in run.warnings:
        click.echo(f"aigc-check mark: warning: {warning}", err=True)
    if click.get_current_context().obj == OWN_PROCESS:
        limit_memory(options.memory_limit_mb)
    actions = set()
    with run:
        report = open(report_path, "w", encoding="utf-8") if report_path else None  # noqa: SIM115
        try:
            for result in run.results():
                actions.add(result.action.value)
                line = json.dumps(result.to_dict(), ensure_ascii=False)
                if report is not None:
                    report.write(line + "\n")
                click.echo(line if fmt == "json" else result.summary())
        finally:
            if report is not None:
                report.close()
    # 0: every file marked, updated or copied unchanged; 1: one refused (C2PA, an unreadable label);
    # 3: one could not be read or rewritten; 2 (raised as usage errors): bad values, clashing outputs.
    if "error" in actions:
        return ExitStatus.UNREADABLE
    return ExitStatus.VIOLATION if "refused" in actions else ExitStatus.COMPLIANT


@cli.group("trust")
def trust_group() -> None:
    """The C2PA trust list: what is in use, and its refresh without a new release."""


@trust_group.command("show")
@click.option("--trust-list", "trust_list", type=click.Path(exists=True, dir_okay=False), envvar="AIGC_TRUST_LIST")
def trust_show_command(trust_list: str | None) -> ExitStatus:
    """Validate the trust list in use (the shipped snapshot, or --trust-list) and list its anchors."""
    trust = load_trust_list(trust_list)
    click.echo(trust.summary())
    for anchor in trust.anchors:
        click.echo(f"  {anchor.not_after:%Y-%m-%d}  {anchor.subject}")
    for note in trust.warnings():
        click.echo(f"warning: {note}")
    return ExitStatus.COMPLIANT


@trust_group.command("update")
@click.option("--from", "source", required=True, help="A PEM file, or an http(s) URL (needs --allow-network).")
@click.option("--to", "dest", required=True, type=click.Path(dir_okay=False), help="The trust list file to replace.")
@click.option("--allow-network", is_flag=True, help="Allow --from to be a URL.")
def trust_update_command(source: str, dest: str, allow_network: bool) -> ExitStatus:
    """Fetch or copy a trust list, validate it, and replace --to with it atomically (then run
    check, scan or serve with --trust-list pointing at --to)."""
    trust = update_trust_list(source, dest, allow_network)
    click.echo(f"wrote {trust.summary()}")
    for note in trust.warnings():
        click.echo(f"warning: {note}")
    return ExitStatus.COMPLIANT


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command; map errors, and only errors, to exit codes here."""
    try:
        outcome = cli.main(
            args=argv, prog_name="aigc-check", standalone_mode=False, obj=OWN_PROCESS if argv is None else None
        )
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return ExitStatus.USAGE
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return ExitStatus.INTERRUPTED
    except AigcCheckError as exc:
        click.echo(f"aigc-check: error: {exc}", err=True)
        return ExitStatus.USAGE
    # A command returns its ExitStatus; --help and --version return 0 in this mode.
    return int(outcome)
