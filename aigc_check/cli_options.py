"""The command line's shared parts: exit statuses, the ``--declared`` type, and the option sets
that several commands take (``checker_options``; ``spark_options`` for ``scan --engine spark``).

``cli.py`` holds the commands and ``main``, which alone turns outcomes and errors into these
statuses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import click

from . import CheckOptions, shipped_policies
from .errors import DeclarationError
from .limits import DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TIME_LIMIT
from .model import DECLARATIONS, CheckResult, Declared, Verdict
from .spark.config import InputColumns, SparkScanConfig
from .trust import load_trust_list

if TYPE_CHECKING:
    from .scan.runner import ScanSummary


class ExitStatus(IntEnum):
    """Every command returns one of these; ``main`` alone turns errors into them."""

    COMPLIANT = 0  # every file compliant (for serve: a clean stop)
    VIOLATION = 1  # at least one unlabelled-ai or mislabelled
    USAGE = 2  # bad command line, policy, trust anchors or data file
    UNREADABLE = 3  # at least one unreadable file, and no violation
    NOT_STARTED = 4  # serve: the service could not start (e.g. the port is taken)
    INTERRUPTED = 130  # the shell's code for Ctrl-C; a scan stopped this way can be resumed


# A command function as click hands it on (the decorators below wrap and return it).
Command = Callable[..., ExitStatus]

OWN_PROCESS = "own-process"  # click context object: main() runs as the console script, not embedded


def exit_status(results: Iterable[CheckResult]) -> ExitStatus:
    return verdicts_exit_status({r.verdict for r in results})


def verdicts_exit_status(verdicts: Collection[str]) -> ExitStatus:
    if any(Verdict(v).is_violation for v in verdicts):
        return ExitStatus.VIOLATION
    if Verdict.UNREADABLE in verdicts:
        return ExitStatus.UNREADABLE
    return ExitStatus.COMPLIANT


def scan_exit_status(summary: ScanSummary) -> ExitStatus:
    return ExitStatus.INTERRUPTED if summary.interrupted else verdicts_exit_status(summary.verdicts)


class DeclaredType(click.ParamType):
    """``--declared``: parsed by ``Declared.parse``, the rule every entry point shares."""

    name = "declared"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(DECLARATIONS) + "]"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> Declared:
        try:
            return Declared.parse(value)
        except DeclarationError as exc:
            self.fail(str(exc), param, ctx)


DECLARED = DeclaredType()


def checker_options(env_prefix: str = "", time_limit: bool = False) -> Callable[[Command], Command]:
    """The options that build a Checker, shared by the commands; they arrive as one ``options`` argument.

    With ``env_prefix`` each also reads an environment variable (``AIGC_SERVE_POLICY``, ...).  With
    ``time_limit`` the command also takes ``--time-limit`` (serve has its own ``--timeout``, enforced
    by replacing the worker).
    """

    def env(name: str) -> str | None:
        return f"{env_prefix}{name}" if env_prefix else None

    option_decorators = [
        click.option(
            "--policy",
            default=CheckOptions.policy,
            show_default=True,
            envvar=env("POLICY"),
            help=f"Marking rules: a shipped policy ({', '.join(shipped_policies())}) or a JSON file.",
        ),
        click.option(
            "--trust-anchors",
            "trust_anchors",
            multiple=True,
            envvar=env("TRUST_ANCHORS"),
            type=click.Path(exists=True, dir_okay=False),
            help="PEM file of extra C2PA trust anchors (repeatable).",
        ),
        click.option(
            "--trust-list",
            "trust_list",
            envvar=env("TRUST_LIST") or "AIGC_TRUST_LIST",
            type=click.Path(exists=True, dir_okay=False),
            help="A refreshed C2PA trust list (PEM) used instead of the shipped snapshot "
            "(see `aigc-check trust update`).",
        ),
        click.option(
            "--no-default-trust",
            is_flag=True,
            envvar=env("NO_DEFAULT_TRUST"),
            help="Do not use the shipped C2PA trust list.",
        ),
        click.option(
            "--allow-network",
            is_flag=True,
            envvar=env("ALLOW_NETWORK"),
            help="Fetch remote C2PA manifests and OCSP (off by default).",
        ),
        click.option(
            "--no-verify-hash",
            is_flag=True,
            envvar=env("NO_VERIFY_HASH"),
            help="Skip C2PA hash and signature validation (reported).",
        ),
        click.option(
            "--generators",
            "generators_file",
            type=click.Path(exists=True, dir_okay=False),
            envvar=env("GENERATORS"),
            help="A generator-fingerprint JSON file to use instead of the shipped one.",
        ),
        click.option(
            "--similar",
            is_flag=True,
            envvar=env("SIMILAR"),
            help="Add each picture's perceptual hash (PDQ; video frames too) to the result; scan also "
            "clusters near-duplicates and measures account signals. Needs the similar extra.",
        ),
        click.option(
            "--similar-index",
            "similar_index",
            type=click.Path(dir_okay=False),
            envvar=env("SIMILAR_INDEX"),
            help="Known-content index of confirmed AI content: scan --similar writes it (adding to it), "
            "check, serve and mark read it, so an unlabelled copy of known AI content is suspected-ai.",
        ),
    ]

    option_decorators.append(
        click.option(
            "--memory-limit",
            "memory_limit_mb",
            type=click.IntRange(min=0),
            default=DEFAULT_MEMORY_LIMIT_MB,
            show_default=True,
            envvar=env("MEMORY_LIMIT") or "AIGC_MEMORY_LIMIT",
            help="MiB of address space each checking process may use (the check command, scan and serve "
            "workers); an allocation past it makes the file unreadable (memory-limit). 0: no cap.",
        )
    )
    if time_limit:
        option_decorators.append(
            click.option(
                "--time-limit",
                "time_limit_s",
                type=click.FloatRange(min=0),
                default=DEFAULT_TIME_LIMIT,
                show_default=True,
                envvar="AIGC_TIME_LIMIT",
                help="Seconds one file may take; past it the file is reported unreadable (time-limit). 0: no limit.",
            )
        )

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def with_options(
            *args: Any,
            policy: str,
            trust_anchors: tuple[str, ...],
            trust_list: str | None,
            no_default_trust: bool,
            allow_network: bool,
            no_verify_hash: bool,
            generators_file: str | None,
            memory_limit_mb: int,
            similar: bool,
            similar_index: str | None,
            time_limit_s: float | None = None,
            **kwargs: Any,
        ) -> ExitStatus:
            options = CheckOptions(
                policy=policy,
                trust_anchor_files=tuple(trust_anchors),
                trust_list_file=trust_list,
                use_default_trust=not no_default_trust,
                allow_network=allow_network,
                verify_hash=not no_verify_hash,
                generators_file=generators_file,
                time_limit=time_limit_s or None,
                memory_limit_mb=memory_limit_mb or None,
                similar=similar or bool(similar_index),
                similar_index=similar_index or None,
            )
            if trust_list:
                _warn_about_trust_list(trust_list)
            return command(*args, options=options, **kwargs)

        for option in reversed(option_decorators):
            with_options = option(with_options)
        return with_options

    return decorate


def _warn_about_trust_list(path: str) -> None:
    """Say on stderr which anchors of a user's trust list are expired or near their end (an
    unreadable or damaged list raises TrustAnchorError: exit 2)."""
    trust = load_trust_list(path)
    for note in trust.warnings():
        click.echo(f"aigc-check: warning: trust list {path}: {note}", err=True)


def spark_options(command: Command) -> Command:
    """``scan --engine spark`` options, handed to the command as one ``spark_args`` dict."""
    names = (
        "input_table",
        "output_table",
        "output_format",
        "master",
        "uri_col",
        "declared_col",
        "account_col",
        "post_id_col",
        "posted_at_col",
        "io_threads",
        "partitions",
    )
    options = [
        click.option(
            "--engine",
            type=click.Choice(["local", "spark"]),
            default="local",
            show_default=True,
            help="local: a process pool on this machine; spark: Apache Spark (the spark extra: "
            "pip install '.[spark]' in an aigc-check checkout).",
        ),
        click.option(
            "--input-table",
            help="[spark] Table of objects to check: a URI column and optional declared, account, post_id.",
        ),
        click.option("--output-table", help="[spark] Write the result rows to this table (instead of --out)."),
        click.option(
            "--output-format",
            type=click.Choice(["parquet", "json"]),
            default=SparkScanConfig.output_format,
            show_default=True,
            help="[spark] Format of the result files written to --out.",
        ),
        click.option("--master", help="[spark] Spark master, e.g. local[4]; by default spark-submit's."),
        click.option(
            "--uri-col", default=InputColumns.uri, show_default=True, help="[spark] Input column with the URI."
        ),
        click.option(
            "--declared-col",
            default=InputColumns.declared,
            show_default=True,
            help="[spark] Input column with ai/not-ai/none (null: --declared).",
        ),
        click.option(
            "--account-col", default=InputColumns.account, show_default=True, help="[spark] Input account column."
        ),
        click.option(
            "--post-id-col", default=InputColumns.post_id, show_default=True, help="[spark] Input post id column."
        ),
        click.option(
            "--posted-at-col",
            default=InputColumns.posted_at,
            show_default=True,
            help="[spark] Input posting-time column (ISO 8601), for --similar's account cadence signals.",
        ),
        click.option(
            "--io-threads",
            type=click.IntRange(min=1),
            default=SparkScanConfig.io_threads,
            show_default=True,
            help="[spark] Remote objects opened at once per task.",
        ),
        click.option("--partitions", type=click.IntRange(min=1), help="[spark] Repartition the input first."),
    ]

    @functools.wraps(command)
    def collect(*args: Any, **kwargs: Any) -> ExitStatus:
        kwargs["spark_args"] = {name: kwargs.pop(name) for name in names}
        return command(*args, **kwargs)

    for option in reversed(options):
        collect = option(collect)
    return collect
