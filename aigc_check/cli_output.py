"""The conventions the commands share: ``-q``/``-v``, colour, ``-o FILE``, and the report formats.

Kept apart from ``cli.py`` so that every command takes the same options the same way (one
decorator, one ``Output`` value) and so that the commands' own code stays small.

Colour follows the usual rules (https://no-color.org): ``--color`` or ``--no-color`` when given,
otherwise none when ``NO_COLOR`` is set to anything non-empty, otherwise colour only on a terminal.
click does the styling and strips it from anything that is not a terminal; the decision here only
says whether it may be kept.
"""

from __future__ import annotations

import errno
import functools
import importlib
import inspect
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import click

from .model import CheckResult, Verdict

NO_COLOR = "NO_COLOR"

# ``check --format``: one JSON object per line (JSON Lines) for streams, one JSON array for tools
# that read a whole document (exiftool -j style), CSV with the contract's columns (results.csv).
FORMATS = ("text", "json", "json-array", "csv")

# How each verdict's headline is coloured on a terminal (click.style keywords).
VERDICT_STYLES: dict[str, dict[str, Any]] = {
    Verdict.COMPLIANT.value: {"fg": "green", "bold": True},
    Verdict.UNLABELLED_AI.value: {"fg": "red", "bold": True},
    Verdict.MISLABELLED.value: {"fg": "red", "bold": True},
    Verdict.UNREADABLE.value: {"fg": "yellow", "bold": True},
}
SEVERITY_STYLES: dict[str, dict[str, Any]] = {
    "error": {"fg": "red"},
    "warning": {"fg": "yellow"},
    "info": {"fg": "cyan"},
}


def color_wanted(flag: bool | None, stream: IO[str]) -> bool:
    """``--color``/``--no-color`` win; then ``NO_COLOR``; then whether ``stream`` is a terminal."""
    if flag is not None:
        return flag
    if os.environ.get(NO_COLOR):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass
class Output:
    """Where a command's report goes and how much of it: ``verbosity`` is -1 with ``-q``, 0 by
    default, 1 and more with ``-v`` (the codes behind the words)."""

    stream: IO[str]
    color: bool
    verbosity: int = 0
    to_file: bool = False

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    @property
    def verbose(self) -> bool:
        return self.verbosity > 0

    def write(self, text: str, nl: bool = True) -> None:
        # click strips the colour codes unless ``color`` keeps them.
        click.echo(text, file=self.stream, nl=nl, color=self.color)

    def style(self, text: str, role: str) -> str:
        """``role`` is a verdict or a severity; unknown roles are left plain."""
        if not self.color:
            return text
        styles = VERDICT_STYLES.get(role) or SEVERITY_STYLES.get(role)
        return click.style(text, **styles) if styles else text


_OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    "output_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the report to FILE (UTF-8) instead of standard output; '-' is standard output.",
)


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``-o/--output``, ``-q/--quiet``, ``-v/--verbose``, ``--color/--no-color``; the command gets
    one ``output`` argument (an ``Output``).  ``-o FILE`` is written to a temporary file beside it
    and moved into place only when the command returns: a usage error, a bad policy or a Ctrl-C
    leaves FILE as it was (no empty or half-written report)."""

    @_OUTPUT_OPTION
    @click.option("-q", "--quiet", "quiet", is_flag=True, help="Text report: one line per file, no summary.")
    @click.option(
        "-v",
        "--verbose",
        "verbose",
        count=True,
        help="Text report: the codes behind the words too (measures, findings, raw validation messages).",
    )
    @click.option(
        "--color/--no-color",
        "color",
        default=None,
        help=f"Colour the text report (default: only on a terminal, and never when {NO_COLOR} is set).",
    )
    @functools.wraps(command)
    def with_output(
        *args: Any, output_path: str | None, quiet: bool, verbose: int, color: bool | None, **kwargs: Any
    ) -> Any:
        if quiet and verbose:
            raise click.UsageError("-q and -v ask for opposite things: give one")
        return _written(command, args, kwargs, output_path, color, -1 if quiet else verbose)

    return with_output


def report_file_options(quiet_help: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``-o/--output``, and ``-q/--quiet`` with ``quiet_help`` when given, for a command whose report
    has no colour and no codes to show with ``-v`` (``compare``, ``policies``, ``policy``); the
    command gets one ``output`` argument (an ``Output``, verbosity -1 with ``-q``).  The report is
    kept in memory and written whole when the command returns (nothing, or FILE as it was, if it
    fails): no temporary file lies beside FILE meanwhile, for ``compare`` of a folder that holds
    FILE to meet as one of the folder's files."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def with_output(*args: Any, output_path: str | None, quiet: bool = False, **kwargs: Any) -> Any:
            return _written(command, args, kwargs, output_path, False, -1 if quiet else 0, buffered=True)

        wrapped = _OUTPUT_OPTION(with_output)
        if quiet_help is not None:
            wrapped = click.option("-q", "--quiet", "quiet", is_flag=True, help=quiet_help)(wrapped)
        return wrapped

    return decorate


def _written(
    command: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    output_path: str | None,
    color: bool | None,
    verbosity: int,
    buffered: bool = False,
) -> Any:
    """Run ``command`` with its ``output``: standard output, or ``output_path`` written whole (as
    the command writes, to a temporary file beside it; ``buffered``: kept in memory until it
    returns, then so)."""
    if output_path is None or output_path == "-":
        return command(*args, output=Output(sys.stdout, color_wanted(color, sys.stdout), verbosity), **kwargs)
    folder = os.path.dirname(os.path.abspath(output_path))
    if buffered:
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
            why = os.strerror(errno.EACCES if os.path.isdir(folder) else errno.ENOENT)
            raise click.BadParameter(f"cannot write {output_path}: {why}", param_hint="-o")
        text = io.StringIO()
        outcome = command(*args, output=Output(text, bool(color), verbosity, to_file=True), **kwargs)
        _written(lambda output: output.write(text.getvalue(), nl=False), (), {}, output_path, color, verbosity)
        return outcome
    try:
        handle, partial = tempfile.mkstemp(prefix=".aigc-check-", suffix=".part", dir=folder)
    except OSError as exc:
        raise click.BadParameter(f"cannot write {output_path}: {exc.strerror or exc}", param_hint="-o") from exc
    try:
        with open(handle, "w", encoding="utf-8", newline="") as stream:
            outcome = command(*args, output=Output(stream, bool(color), verbosity, to_file=True), **kwargs)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(partial, 0o666 & ~umask)  # as open() would make it (mkstemp's file is private)
        os.replace(partial, output_path)
    except BaseException:
        os.unlink(partial)
        raise
    return outcome


def json_text(value: object) -> str:
    """JSON as every output of aigc-check writes it: UTF-8 text, Chinese as itself (not ``\\u8be5``)."""
    return json.dumps(value, ensure_ascii=False)


class MachineReport:
    """The machine formats of ``check``: each result is written as soon as it is known (a long
    batch streams), the array and the CSV header framed around them."""

    def __init__(self, fmt: str, output: Output) -> None:
        self.fmt = fmt
        self.output = output
        self.count = 0
        if fmt == "json-array":
            output.write("[", nl=False)
        elif fmt == "csv":
            from . import contract
            from .scan.outputs import csv_lines  # the scan's CSV writer: one escaping rule for both

            output.write(csv_lines([list(contract.csv_columns())]), nl=False)

    def add(self, result: CheckResult) -> None:
        record = result.to_dict()
        if self.fmt == "json":
            self.output.write(json_text(record))
        elif self.fmt == "json-array":
            self.output.write(("," if self.count else "") + "\n" + json_text(record), nl=False)
        else:
            from .scan.outputs import csv_lines, csv_row

            self.output.write(csv_lines([csv_row({**record, "account": None, "post_id": None})]), nl=False)
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json-array":
            self.output.write("\n]" if self.count else "]")


def man_page(ctx: click.Context) -> str:
    """The manual page (roff) of ``ctx``'s command, made by click-man from the click definitions,
    with the command's epilog (examples, exit codes, environment) kept in the description."""
    from click_man.core import ManPage

    from . import __version__

    command = ctx.command
    page = ManPage(ctx.command_path)
    page.version = __version__
    page.short_help = command.get_short_help_str(limit=80)
    page.description = "\n\n".join(
        inspect.cleandoc(text).replace("\b\n", "") for text in (command.help, command.epilog) if text
    )
    page.synopsis = " ".join(command.collect_usage_pieces(ctx))
    page.options = [
        record
        for p in command.params
        if isinstance(p, click.Option) and not p.hidden and (record := p.get_help_record(ctx)) is not None
    ]
    commands = subcommands(ctx)
    if commands:
        page.commands = [(name, sub.get_short_help_str(limit=200)) for name, sub in commands if not sub.hidden]
    return str(page)


def subcommands(ctx: click.Context) -> list[tuple[str, click.Command]]:
    """The commands of ``ctx``'s command, if it is a group (lazy ones imported), by name."""
    group = ctx.command
    if not isinstance(group, click.Group):
        return []
    found = ((name, group.get_command(ctx, name)) for name in group.list_commands(ctx))
    return [(name, sub) for name, sub in found if sub is not None]


def write_man_pages(command: click.Command, out_dir: str, name: str = "aigc-check") -> list[str]:
    """One page per command and subcommand, ``aigc-check.1``, ``aigc-check-check.1``, ...; the
    paths written."""
    os.makedirs(out_dir, exist_ok=True)
    written: list[str] = []

    def write(cmd: click.Command, info_name: str, parent: click.Context | None) -> None:
        ctx = click.Context(cmd, info_name=info_name, parent=parent)
        path = os.path.join(out_dir, ctx.command_path.replace(" ", "-") + ".1")
        with open(path, "w", encoding="utf-8") as f:
            f.write(man_page(ctx))
        written.append(path)
        for sub_name, sub in subcommands(ctx):
            if not sub.hidden:
                write(sub, sub_name, ctx)

    write(command, name, None)
    return written


class FullHelpGroup(click.Group):
    """A group whose command list is never cut off with "...": click shortens each command's help
    to what fits beside the name on one line; here it is the first sentence, wrapped."""

    group_class = type  # subgroups (``policy``) are of this class too

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kwargs: Any) -> None:
        """``lazy_commands``: name -> ``"module:attribute"`` of commands imported only when they
        are run or listed (click's lazy-group pattern): ``serve`` needs the service's settings for
        its options' defaults, which every other command would otherwise import at start-up."""
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is not None and cmd_name not in self.commands:
            module, _, attribute = target.partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, sub.get_short_help_str(limit=10_000)) for name, sub in subcommands(ctx) if not sub.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def quiet_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``-q/--quiet`` for a command that writes files, not a report (scan): no progress or notes."""
    return click.option("-q", "--quiet", is_flag=True, help="No progress and no notes on standard error.")(command)
