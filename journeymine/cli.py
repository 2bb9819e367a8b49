"""Command line interface: ``python -m journeymine discover ...``.

Every command is built from the same pieces, each defined once in this module:

* the event-log options (``LogArg``, ``CustomerOpt``...), given to a command by
  :func:`log_command` as one :class:`LogOptions` and turned into an
  :class:`~journeymine.EventLog` by :func:`load_log`;
* :func:`_run`, which turns every failure into one ``error:`` line on stderr
  and exit code 2 (``--debug`` shows the traceback instead);
* :func:`~journeymine.reporting.staged_output`, which writes a command's files
  all-or-nothing (the library's ``save`` methods write through it too);
* :func:`clean`, which escapes control characters in everything printed;
* the app callback, which sets up logging and shows each warning once per run.

The CLI uses the public API (``import journeymine as jm`` and the helpers
:mod:`journeymine.reporting` exports) only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import inspect
import json
import logging
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

import journeymine as jm
from journeymine.exceptions import JourneymineError, ReadError
from journeymine.reporting import humanize_seconds, percent, short_path, staged_output

try:  # typer >= 0.2x vendors its own click
    from typer._click import exceptions as _click
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as _click
_NoArgsIsHelpError = getattr(_click, "NoArgsIsHelpError", ())  # click >= 8.2


# ---------------------------------------------------------------------------- terminal output
console = Console(stderr=True)
out_console = Console()

_ESCAPED = re.compile(
    "[\x00-\x1f\x7f-\x9f"          # C0 controls (ESC, BEL, CR, LF...), DEL, C1 controls (CSI...)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional-text controls
    "\u2028\u2029]"                # line and paragraph separators
)


def clean(text: object) -> str:
    r"""``text`` as a string safe to print: control characters shown as escapes.

    Escape sequences (``\x1b[2J``, ``\x1b]0;title\x07``) cannot clear the
    screen, set the window title or hide text, and a name cannot break a line.

    Examples
    --------
    >>> clean("evil\x1b]0;TITLE\x07\x1b[2J")
    'evil\\x1b]0;TITLE\\x07\\x1b[2J'
    """
    def escape(match: re.Match) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _ESCAPED.sub(escape, str(text))


def _one_line(text: str) -> str:
    """A message on one line: its lines joined by spaces, then :func:`clean`."""
    return clean(" ".join(part.strip() for part in str(text).splitlines() if part.strip()))


def say(text: str) -> None:
    """Print a line of results to stdout."""
    out_console.print(Text(clean(text)), soft_wrap=True)


def _print_error(message: str) -> None:
    console.print(Text.assemble(("error:", "red"), " ", _one_line(message)), soft_wrap=True)


class _Diagnostics(logging.Handler):
    """Shows journeymine's log records and Python warnings, each message once per run."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.shown: list[str] = []

    def show(self, message: str, level: int = logging.WARNING) -> None:
        message = _one_line(message)
        if level >= logging.WARNING:
            if message in self.shown:
                return
            self.shown.append(message)
            console.print(Text.assemble(("warning:", "yellow"), " ", message), soft_wrap=True)
        else:
            console.print(Text(f"{time.strftime('%H:%M:%S')} {message}", style="dim"),
                          soft_wrap=True)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.show(record.getMessage(), record.levelno)
        except Exception:  # a broken log call must not end the command
            self.handleError(record)

    def showwarning(self, message, category, filename, lineno, file=None, line=None) -> None:
        self.show(str(message))


_diagnostics = _Diagnostics()


@contextlib.contextmanager
def _diagnostics_shown() -> Iterator[_Diagnostics]:
    """Route journeymine's logging and warnings through :data:`_diagnostics` for one run."""
    pkg = logging.getLogger("journeymine")
    saved = pkg.level, pkg.propagate
    _diagnostics.shown = []
    pkg.addHandler(_diagnostics)
    pkg.setLevel(logging.WARNING)
    pkg.propagate = False
    with warnings.catch_warnings():
        warnings.filterwarnings("always", category=UserWarning)  # de-duplicated by message
        warnings.showwarning = _diagnostics.showwarning
        try:
            yield _diagnostics
        finally:
            pkg.removeHandler(_diagnostics)
            pkg.setLevel(saved[0])
            pkg.propagate = saved[1]


# ---------------------------------------------------------------------------- errors
#: Python keyword arguments in the library's messages, and the CLI flag for each.
_FLAGS = {
    "encoding": "--encoding", "sep": "--sep", "customer": "--customer",
    "activity": "--activity", "timestamp": "--timestamp", "timestamp_format": "--timestamp-format",
    "tz": "--tz", "stages": "--stages", "conversion": "--conversion",
    "n_personas": "--n-personas", "method": "--method", "random_state": "--random-state",
    "window": "--window", "backend": "--backend", "out_dir": "--out",
    "model": "--model", "by": "--by", "grain": "--grain", "value": "--value",
    "lookback": "--lookback",
}
_KWARG = re.compile(r"\b(" + "|".join(_FLAGS) + r")=(\"[^\"]*\"|'[^']*'|[^\s,;)]+)")
_BARE = re.compile(r"\b(" + "|".join(k for k in _FLAGS if "_" in k) + r")\b")


def cli_fix(text: str) -> str:
    """Rephrase a library message for the CLI: ``encoding="latin-1"`` -> ``--encoding latin-1``.

    Examples
    --------
    >>> cli_fix('Pass encoding="latin-1", or sep=";".')
    'Pass --encoding latin-1, or --sep ;.'
    >>> cli_fix("Pass a smaller n_personas, or another --out / out_dir.")
    'Pass a smaller --n-personas, or another --out.'
    """
    text = _KWARG.sub(lambda m: f"{_FLAGS[m.group(1)]} {m.group(2).strip(chr(34) + chr(39))}",
                      text)
    text = _BARE.sub(lambda m: _FLAGS[m.group(1)], text)
    return re.sub(r"(--[\w-]+) / \1\b", r"\1", text)


def error_message(exc: BaseException) -> str:
    """The one-line message the CLI prints for ``exc`` (without the ``error:`` prefix)."""
    if isinstance(exc, JourneymineError):
        parts = [cli_fix(exc.what)]
        if exc.expected:
            parts.append(f"Expected: {cli_fix(exc.expected)}")
        if exc.fix:
            parts.append(f"Fix: {cli_fix(exc.fix)}")
        return " ".join(parts)
    if isinstance(exc, MemoryError):
        return ("Out of memory: the event log is too large for this machine. Fix: read a "
                "smaller part of it (fewer days or customers), or run jm.discover on Spark "
                "(con=an ibis Spark backend) from Python.")
    if isinstance(exc, _click.ClickException):
        return exc.format_message()
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc) or type(exc).__name__
        return f"{what}: {str(exc.filename)!r}." if exc.filename else f"{what}."
    return f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def _run(debug: bool, *, verbose: bool = False) -> Iterator[None]:
    """Run a command: one ``error:`` line and exit code 2 for any failure.

    Errors a user can cause (bad values, files, memory) exit with 2; anything
    else is a bug and exits with 1, also on one line. ``debug`` re-raises, for
    the traceback, and with ``verbose`` shows info messages too.
    """
    if debug or verbose:
        logging.getLogger("journeymine").setLevel(logging.INFO)
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except (JourneymineError, OSError, MemoryError, UnicodeError, _click.ClickException) as exc:
        if debug:
            raise
        _print_error(error_message(exc))
        raise typer.Exit(2) from None
    except Exception as exc:
        if debug:
            raise
        _print_error(f"internal error ({error_message(exc)}). Rerun with --debug for the "
                     "traceback, and please report it.")
        raise typer.Exit(1) from None


class _Group(TyperGroup):
    """The app's command group: usage errors are one ``error:`` line too, exit code 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra: Any) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NoArgsIsHelpError as exc:
            if not standalone_mode:
                raise
            if exc.format_message().strip():  # typer's rich help prints itself, returns ""
                out_console.print(exc.format_message(), markup=False, highlight=False)
            sys.exit(2)
        except _click.ClickException as exc:
            if not standalone_mode:
                raise
            hint = f" (see: {exc.ctx.command_path} --help)" if getattr(exc, "ctx", None) else ""
            _print_error(exc.format_message() + hint)
            sys.exit(2)
        except typer.Abort:
            if not standalone_mode:
                raise
            _print_error("aborted.")
            sys.exit(1)
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


def _wrote(out: Path, names: list[str]) -> None:
    say(f"Wrote {len(names)} files to {out}/: " + ", ".join(names))


# ---------------------------------------------------------------------------- event-log options
# The options are defined once here as Annotated aliases. typer builds a command's
# options from its function's signature and has no way to declare a group of them
# once, so :func:`log_command` splices them into the signature in place of the
# command's ``opts: LogOptions`` parameter and hands them over gathered in it.
_LOG_PANEL = "Event log"

LogArg = Annotated[Path | None, typer.Argument(
    help="Event log: CSV, Parquet or XES (or --demo).", show_default=False)]
LogFlagOpt = Annotated[Path | None, typer.Option(
    "--log", help="Event log: CSV, Parquet or XES (or --demo).", show_default=False,
    rich_help_panel=_LOG_PANEL)]
DemoOpt = Annotated[bool, typer.Option(
    "--demo", help="Use the bundled demo shop instead of a log file.",
    rich_help_panel=_LOG_PANEL)]
CustomerOpt = Annotated[str | None, typer.Option(
    "--customer", help="Customer id column (default: detected).", rich_help_panel=_LOG_PANEL)]
ActivityOpt = Annotated[str | None, typer.Option(
    "--activity", help="Touchpoint column (default: detected).", rich_help_panel=_LOG_PANEL)]
TimestampOpt = Annotated[str | None, typer.Option(
    "--timestamp", help="Timestamp column (default: detected).", rich_help_panel=_LOG_PANEL)]
TzOpt = Annotated[str | None, typer.Option(
    "--tz", help="Time zone of naive times, e.g. Asia/Jakarta (default: UTC).",
    rich_help_panel=_LOG_PANEL)]


def _strptime_format(value: str) -> str:
    """``--timestamp-format``: rejects unknown directives such as ``%Q`` up front."""
    from datetime import datetime

    try:
        datetime.strptime("", value)
    except ValueError as exc:
        if "bad directive" in str(exc) or "stray %" in str(exc):
            raise typer.BadParameter(f"{value!r} is not a strptime format ({exc}).") from None
    return value


TimestampFormatOpt = Annotated[str | None, typer.Option(
    "--timestamp-format", help="strptime format of the timestamps, e.g. '%d/%m/%Y %H:%M'.",
    parser=_strptime_format, metavar="FORMAT", rich_help_panel=_LOG_PANEL)]
EncodingOpt = Annotated[str | None, typer.Option(
    "--encoding", help="Text encoding of CSV files, e.g. latin-1 or cp1252 (default: utf-8).",
    rich_help_panel=_LOG_PANEL)]
SepOpt = Annotated[str | None, typer.Option(
    "--sep", help="Field separator of a CSV log, e.g. ';' or tab (default: detected).",
    rich_help_panel=_LOG_PANEL)]
StagesOpt = Annotated[Path | None, typer.Option(
    "--stages", help="YAML file: touchpoint -> stage, or stage -> list of touchpoints.",
    rich_help_panel=_LOG_PANEL, show_default=False)]
ConversionOpt = Annotated[list[str] | None, typer.Option(
    "--conversion", help="Touchpoint or stage that counts as converting (repeatable).",
    rich_help_panel=_LOG_PANEL, show_default=False)]

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder (created if missing).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and progress logs.")]
_MODEL_HELP = "Emotion model: 'default', 'fast' (TF-IDF), a Hugging Face id or a local folder."
EmotionModelOpt = Annotated[str, typer.Option("--emotion-model", help=_MODEL_HELP)]
GrainOpt = Annotated[str, typer.Option(
    "--grain", metavar="auto|customer|episode|session",
    help="What one journey is: a customer's whole history, an episode (cut at each "
         "purchase and long inactivity) or a session (a visit). auto: session when "
         "histories are long (see EventLog.describe), else customer.")]
GapOpt = Annotated[str | None, typer.Option(
    "--gap", metavar="DURATION",
    help="Session grain: the inactivity that starts a new session, e.g. 30min "
         "(default: the log's session column, else suggested from its gaps).",
    show_default=False)]
CollapseOpt = Annotated[bool, typer.Option(
    "--collapse-repeats",
    help="Merge consecutive events at the same touchpoint into one step (a page reloaded "
         "five times is one step) in the paths, variants and patterns.")]
GroupOpt = Annotated[str | None, typer.Option(
    "--group", metavar="auto|FILE",
    help="Group event names that mean the same step. auto: names that differ only by case, "
         "separators or a trailing id (product_view_123 -> product_view). FILE: YAML "
         "({name or regex: group} or a list of [regex, group] pairs) or CSV with a header "
         "and two columns (name or regex, group); regexes match whole names and the first "
         "match wins.", show_default=False)]
TextsOpt = Annotated[Path | None, typer.Option(
    "--texts", help="Reviews/chats (customer id, timestamp, text), tagged with emotions.",
    show_default=False)]
AnswersOpt = Annotated[Path | None, typer.Option(
    "--answers", help="Survey answers (customer id, timestamp, NPS/CSAT/rating score, optional "
    "touchpoint): satisfaction per stage in the report and satisfaction.csv.",
    show_default=False)]
DesignedOpt = Annotated[Path | None, typer.Option(
    "--designed", help="The designed journey: CSV of steps (touchpoint, optional step and "
                       "stage), .bpmn or .pnml (default with --demo: the demo's).",
    show_default=False)]

#: Options that only apply when reading a log file (not to --demo).
_READ_OPTIONS = ("customer", "activity", "timestamp", "tz", "timestamp_format", "encoding",
                 "sep")
#: Options that only apply to CSV logs.
_CSV_OPTIONS = ("encoding", "sep")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".txt", ".tsv.gz")


@dataclasses.dataclass(frozen=True)
class LogOptions:
    """The event-log options of a command, as given on the command line."""

    log: Path | None = None
    demo: bool = False
    customer: str | None = None
    activity: str | None = None
    timestamp: str | None = None
    tz: str | None = None
    timestamp_format: str | None = None
    encoding: str | None = None
    sep: str | None = None
    stages: Path | None = None
    conversion: list[str] | None = None

    def read_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``jm.read_csv`` / ``read_parquet`` / ``read_xes`` given here."""
        kwargs = {name: getattr(self, name) for name in _READ_OPTIONS
                  if getattr(self, name) is not None}
        if "sep" in kwargs:
            kwargs["sep"] = {"tab": "\t", "\\t": "\t"}.get(kwargs["sep"].lower(), kwargs["sep"])
        return kwargs

    def texts_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``jm.read_texts`` and ``read_answers`` given here.

        The encoding and the time zone.
        """
        return {k: getattr(self, k) for k in ("encoding", "tz") if getattr(self, k) is not None}


def _log_parameters(*, log_option: bool, conversion: bool) -> list[inspect.Parameter]:
    """The event-log parameters of a command, in their ``--help`` order."""
    annotations = {"log": LogFlagOpt if log_option else LogArg, "demo": DemoOpt,
                   "customer": CustomerOpt, "activity": ActivityOpt,
                   "timestamp": TimestampOpt, "tz": TzOpt,
                   "timestamp_format": TimestampFormatOpt, "encoding": EncodingOpt,
                   "sep": SepOpt, "stages": StagesOpt}
    if conversion:
        annotations["conversion"] = ConversionOpt
    return [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=False if name == "demo" else None, annotation=annotation)
            for name, annotation in annotations.items()]


def log_command(*, log_option: bool = False,
                conversion: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the event-log options, handed to it as ``opts: LogOptions``.

    The options (LOG or ``--log``, ``--demo``, ``--customer`` ... ``--stages``
    and, with ``conversion``, ``--conversion``) take the place of the command's
    ``opts`` parameter in its signature, so ``--help`` lists them there.

    Parameters
    ----------
    log_option : bool, default False
        The log is the ``--log`` option, not the command's argument.
    conversion : bool, default False
        Also take ``--conversion``.

    Examples
    --------
    >>> @log_command(conversion=True)
    ... def count(opts: LogOptions, out: OutOpt = Path("out")) -> None:
    ...     say(f"{load_log(opts).log.n_events:,} events")
    >>> list(inspect.signature(count).parameters)[:3]
    ['log', 'demo', 'customer']
    """
    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        shared = _log_parameters(log_option=log_option, conversion=conversion)
        names = [p.name for p in shared]
        signature = inspect.signature(command, eval_str=True)
        parameters = [q for p in signature.parameters.values()
                      for q in (shared if p.name == "opts" else [p])]

        @functools.wraps(command)
        def with_options(**kwargs: Any) -> None:
            opts = LogOptions(**{name: kwargs.pop(name) for name in names})
            command(opts=opts, **kwargs)

        del with_options.__wrapped__  # typer reads the signature below, not the command's
        with_options.__signature__ = signature.replace(parameters=parameters)
        with_options.__annotations__ = {p.name: p.annotation for p in parameters}
        return with_options
    return decorate


@dataclasses.dataclass(frozen=True)
class LoadedLog:
    """An event log with where it came from and its stage map (None: the log's own)."""

    log: jm.EventLog
    source: str
    stages: jm.StageMap | None
    conversion: list[str] | None
    demo_texts: Any = None
    demo_designed: Any = None
    demo_answers: Any = None


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def load_stages(path: Path) -> jm.StageMap:
    """Read a ``--stages`` file; a YAML syntax error is one line with its line number."""
    import yaml

    try:
        return jm.StageMap.from_yaml(path)
    except ReadError as exc:
        cause = exc.__cause__
        if isinstance(cause, yaml.MarkedYAMLError) and cause.problem_mark is not None:
            mark = cause.problem_mark
            problem = " ".join(str(cause.problem or "invalid syntax").split())
            raise ReadError(
                f"The stage file {str(path)!r} is not valid YAML: {problem} "
                f"(line {mark.line + 1}, column {mark.column + 1}).",
                expected=exc.expected, fix="Fix the file's syntax at that line.",
            ) from cause
        raise


def load_groups(value: str, log: jm.EventLog) -> list[tuple[str, str]]:
    """The ``--group`` rules: suggested from ``log`` (``auto``) or read from a YAML or CSV file."""
    if value.strip().lower() == "auto":
        return sorted(jm.suggest_groups(log).items())
    path = Path(value)
    expected = ("a YAML mapping {name or regex: group} or list of [regex, group] pairs, or a "
                "CSV file with a header and two columns (name or regex, group).")
    if not path.is_file():
        raise ReadError(f"The group file {value!r} does not exist.", expected=expected,
                        fix="Pass --group auto, or the path of a .yaml or .csv file.")
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv"):
        raise ReadError(f"The group file {value!r} is neither YAML nor CSV.",
                        expected=expected, fix="Name it .yaml, .yml or .csv.")
    import csv

    import yaml

    try:
        if suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as handle:
                pairs: Any = list(csv.reader(handle))[1:]
        else:
            pairs = yaml.safe_load(path.read_text(encoding="utf-8"))
            pairs = list(pairs.items()) if isinstance(pairs, dict) else pairs
    except (OSError, UnicodeDecodeError, csv.Error, yaml.YAMLError) as exc:
        problem = " ".join(str(exc).split())
        raise ReadError(f"The group file {value!r} cannot be read: {problem}",
                        expected=expected, fix="Save it as UTF-8 YAML or CSV.") from exc
    if not isinstance(pairs, list) or not pairs:
        raise ReadError(f"The group file {value!r} holds no (name, group) rules.",
                        expected=expected, fix="Write one rule per line or row.")
    bad = next((p for p in pairs if not (isinstance(p, list | tuple) and len(p) == 2)), None)
    if bad is not None:
        raise ReadError(f"The group file {value!r} has a rule that is not a (name, group) "
                        f"pair: {bad!r}.", expected=expected,
                        fix="Give each rule exactly two values: the name or regex, and its group.")
    return [(str(old), str(new)) for old, new in pairs]


def _read_file(path: Path, kwargs: dict[str, Any]) -> jm.EventLog:
    """Read an event log, choosing the reader by file extension."""
    name = path.name.lower()
    is_csv = name.endswith(_CSV_SUFFIXES)
    if not is_csv and (given := [k for k in _CSV_OPTIONS if k in kwargs]):
        raise JourneymineError(
            f"{' and '.join(map(_flag, given))} only apply to CSV logs, not {path.name!r}.",
            fix=f"Leave out {' and '.join(map(_flag, given))}.",
        )
    if name.endswith((".parquet", ".pq")) or path.is_dir():
        return jm.read_parquet(path, **kwargs)
    if name.endswith((".xes", ".xes.gz")):
        return jm.read_xes(path, **kwargs)
    if is_csv:
        return jm.read_csv(path, **kwargs)
    if not path.exists():
        raise ReadError(f"The event log {str(path)!r} does not exist.",
                        fix="Check the path and the current folder.")
    raise ReadError(
        f"Don't know how to read {path.name!r}.",
        expected="a .csv, .csv.gz, .tsv, .parquet, .xes or .xes.gz file.",
        fix="Rename the file with its format's extension, or convert it to CSV.",
    )


def load_log(opts: LogOptions, *, log_flag: str = "LOG") -> LoadedLog:
    """The event log a command reads: a file, or the demo shop."""
    if (opts.log is None) == (not opts.demo):
        given = "both" if opts.demo else "neither"
        log_arg = "events.csv" if log_flag == "LOG" else f"{log_flag} events.csv"
        raise JourneymineError(
            f"Give either an event log ({log_flag}) or --demo, not {given}.",
            expected=f"`COMMAND {log_arg} --out out/` or `COMMAND --demo --out out/`.",
            fix="Run the command with --help for examples.",
        )
    kwargs = opts.read_kwargs()
    stages = load_stages(opts.stages) if opts.stages is not None else None
    if opts.demo:
        if kwargs:
            raise JourneymineError(
                f"{', '.join(map(_flag, kwargs))} describe a log file; the demo needs none.",
                fix=f"Leave out {', '.join(map(_flag, kwargs))}, or pass a log file.",
            )
        demo = jm.datasets.load_demo()
        return LoadedLog(demo.log, "the bundled demo shop (jm.datasets.load_demo)",
                         stages or demo.stages, opts.conversion, demo.texts,
                         demo.designed_journey, demo.nps)
    if stages is not None:
        kwargs["stages"] = stages
    with console.status("Reading the event log…"):
        log = _read_file(opts.log, kwargs)
    return LoadedLog(log, str(opts.log), stages, opts.conversion)


def _tag_texts(loaded: LoadedLog, texts: Any, opts: LogOptions, *, model: str,
               backend: str = "torch", window: str = "7D"):
    """``jm.emotions`` of ``texts`` (a path, or the demo's texts) on the loaded log."""
    if isinstance(texts, Path):
        texts = jm.read_texts(texts, **opts.texts_kwargs())
    with console.status("Tagging texts with emotions…"):
        tagger = jm.EmotionTagger(model, backend=backend, verbose=False)
        return jm.emotions(loaded.log, texts, tagger=tagger, window=window, stages=loaded.stages)


# ---------------------------------------------------------------------------- app
app = typer.Typer(
    name="journeymine",
    help="Customer journey maps and personas from event logs.",
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _print_version(value: bool) -> None:
    if value:
        say(jm.__version__)
        raise typer.Exit()


@app.callback()
def _app(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option(
        "--version", help="Print the journeymine version and exit.", is_eager=True,
        callback=_print_version)] = False,
) -> None:
    """Customer journey maps and personas from event logs."""
    ctx.with_resource(_diagnostics_shown())


#: ``discover`` writes the persona report by default for logs with this many customers.
PERSONA_MIN, PERSONA_MAX = 500, 200_000

_DISCOVER_HELP = """Discover the customer journey in an event log and write a report.

Writes report.html (journey map by stage, process map, funnel, variants,
drop-offs, bottlenecks, loops, channel switches and gaps), process_map.json,
variants.csv, funnel.csv, edges.csv, dropoffs.csv, bottlenecks.csv, returns.csv
and channel_gaps.csv into OUT,
and prints a summary. With --texts it also tags customer texts (emotions.html,
emotions.json, tagged_texts.csv) and adds feelings, phrases and pain points to
the journey map; with --answers (NPS, CSAT or ratings; the demo ships NPS
answers) it adds satisfaction per stage and writes satisfaction.csv; when the
log has a channel column it adds which channels open, assist and close
journeys (every default attribution model, customer journeys) and writes
attribution.csv; with --designed (the demo uses its own, when pm4py is
installed) it adds how journeys follow the designed one; for 500 to 200,000
customers it also writes the persona report (personas.html, personas.json,
assignments.csv).

[b]Examples[/b]

  python -m journeymine discover --demo --out out/

  python -m journeymine discover events.csv --out out/ --stages stages.yaml

  python -m journeymine discover events.parquet --out out/ --conversion checkout

  python -m journeymine discover events.csv --texts reviews.csv --out out/

  python -m journeymine discover events.csv --answers nps.csv --out out/

  python -m journeymine discover events.csv --designed designed_journey.csv --out out/

  python -m journeymine discover log.csv --customer user --activity page --timestamp time --out out/

  python -m journeymine discover excel.csv --encoding cp1252 --sep ';' --out out/

  python -m journeymine discover clicks.csv --collapse-repeats --group auto --out out/

  python -m journeymine discover clicks.csv --group groups.yaml --out out/
"""


def _choose_grain(profile: jm.eventlog.LogProfile | None, grain: str,
                  gap: str | None) -> tuple[str, str]:
    """The grain to discover at, and a sentence saying why when it was chosen here."""
    if grain != "auto":
        return grain, ""
    if gap is not None:
        return "session", f"Journeys are sessions split at {gap} of inactivity (--gap)."
    if profile.suggested_grain == "customer":
        return "customer", ""
    return "session", (f"Journeys are sessions (visits), not whole customer histories: "
                       f"{profile.grain_reason[0].lower()}{profile.grain_reason[1:]} "
                       f"Pass --grain customer to keep one journey per customer.")


def _available_model(model: str) -> str:
    """``model``, or the fast model when the default one's torch is not installed."""
    if model != "default" or importlib.util.find_spec("torch") is not None:
        return model
    say("Emotions with the fast model: install journeymine[emotions] for the default one.")
    return "fast"


def _insights_table(found: jm.Insights, top: int = 5) -> Table:
    """The top of the ranked barriers and opportunities, one sentence each."""
    table = Table(title=f"What matters (top {min(top, len(found))} of {len(found)})",
                  show_header=False)
    for r in found.table.head(top).itertuples():
        table.add_row(Text(f"{r.rank}."), Text(clean(r.sentence)))
    return table


def _summary_table(pm: jm.ProcessMap) -> Table:
    s = pm.summary
    table = Table(title="Journey summary", show_header=False)
    bottleneck = (f"{pm.bottlenecks['source'].iloc[0]} → {pm.bottlenecks['target'].iloc[0]}"
                  if len(pm.bottlenecks) else "–")
    for label, value in (
        ("customers", f"{s['customers']:,}"),
        ("events", f"{s['events']:,}"),
        ("touchpoints", f"{s['touchpoints']:,}"),
        ("distinct journeys", f"{s['variants']:,}"),
        ("conversion", f"{percent(s['conversion_rate'])} "
                       f"({', '.join(pm.conversion) or 'none'})"),
        ("median journey", humanize_seconds(s["median_journey_seconds"])),
        ("grain", f"{pm.grain} ({s.get('journeys', s['customers']):,} journeys)"),
        ("top path", short_path(pm.variants["variant"].iloc[0], 8) if len(pm.variants) else "–"),
        ("top drop-off", pm.dropoffs["touchpoint"].iloc[0] if len(pm.dropoffs) else "–"),
        ("top bottleneck", bottleneck),
    ):
        table.add_row(Text(label), Text(clean(value)))
    return table


@app.command(help=_DISCOVER_HELP)
@log_command(conversion=True)
def discover(
    opts: LogOptions,
    out: OutOpt = Path("out"),
    grain: GrainOpt = "auto",
    gap: GapOpt = None,
    collapse_repeats: CollapseOpt = False,
    group: GroupOpt = None,
    texts: TextsOpt = None,
    answers: AnswersOpt = None,
    designed: DesignedOpt = None,
    emotion_model: EmotionModelOpt = "default",
    personas: Annotated[bool | None, typer.Option(
        "--personas/--no-personas",
        help=f"Also write the persona report (default: for {PERSONA_MIN:,} to "
             f"{PERSONA_MAX:,} customers).", show_default=False)] = None,
    debug: DebugOpt = False,
) -> None:
    with _run(debug), staged_output(out) as staging:
        first_note = len(_diagnostics.shown)
        loaded = load_log(opts)
        notes = _diagnostics.shown[first_note:]  # what reading the log warned about
        if group is not None:
            loaded = _grouped(loaded, load_groups(group, loaded.log), notes)
        # the suggested grain and the gap histogram behind the session gap
        profile = loaded.log.describe() if grain in ("auto", "session") else None
        grain, why = _choose_grain(profile, grain, gap)
        if why:
            say(why)
            notes.append(why)
        with console.status(f"Discovering journeys of {loaded.log.n_customers:,} customers…"):
            pm = jm.discover(loaded.log, grain=grain, gap=gap, stages=loaded.stages,
                             conversion=loaded.conversion, collapse_repeats=collapse_repeats)
        if pm.summary.get("long_tail"):
            tail = (f"Long tail: the 10 most common paths cover "
                    f"{percent(pm.summary['path_coverage_top10'])} of the journeys with 2+ "
                    f"steps; the report shows patterns and step-by-step paths instead.")
            say(tail)
        if texts is None and loaded.demo_texts is not None:
            texts = loaded.demo_texts  # the demo ships reviews, chats and NPS comments
        emo = None
        if texts is not None:
            emo = _tag_texts(loaded, texts, opts, model=_available_model(emotion_model))
        with console.status("Ranking what matters…"):
            found = jm.insights(loaded.log, emo, grain=grain, gap=gap, stages=loaded.stages,
                                conversion=loaded.conversion)
        sat = _satisfaction(loaded, answers, opts)
        credit = None
        if loaded.log.has_channel and pm.conversion:
            with console.status("Attributing conversions to channels…"):
                credit = jm.attribute(loaded.log, pm.conversion, stages=loaded.stages)
        fit = _conformance(loaded, designed, grain=grain, gap=gap)
        with console.status("Writing the report…"):
            written = pm.save(staging, source=loaded.source, notes=notes, emotions=emo,
                              insights=found,
                              gaps=None if profile is None else profile.gaps, satisfaction=sat,
                              attribution=credit, conformance=fit)
        if emo is not None:
            written += emo.save(staging)
        if personas or (personas is None
                        and PERSONA_MIN <= loaded.log.n_customers <= PERSONA_MAX):
            with console.status("Finding personas…"):
                written += _save_personas(loaded, emo, staging, random_state=0)
    out_console.print(_summary_table(pm))
    out_console.print(_insights_table(found))
    if sat is not None:
        say(f"Satisfaction: {sat.headline()} over {sat.summary['answers']:,} answers "
            f"({sat.summary['linked']:,} linked to the journey).")
    if credit is not None:
        say(repr(credit))
    if fit is not None:
        say(clean(fit.headline))
    _wrote(out, [p.name for p in written])


def _satisfaction(loaded: LoadedLog, answers: Path | None,
                  opts: LogOptions) -> jm.Satisfaction | None:
    """``jm.satisfaction`` of the ``--answers`` file, or of the demo's NPS answers."""
    if answers is None and loaded.demo_answers is None:
        return None
    frame = (loaded.demo_answers if answers is None
             else jm.read_answers(answers, **opts.texts_kwargs()))
    with console.status("Measuring satisfaction…"):
        return jm.satisfaction(loaded.log, frame, stages=loaded.stages,
                               outcome=loaded.conversion)


def _conformance(loaded: LoadedLog, designed: Path | None,
                 **options: Any) -> jm.Conformance | None:
    """``jm.conformance`` on ``--designed``, or on the demo's design when pm4py is installed."""
    if designed is None and (loaded.demo_designed is None
                             or importlib.util.find_spec("pm4py") is None):
        return None
    with console.status("Replaying the journeys on the designed one…"):
        return jm.conformance(loaded.log, designed=designed or loaded.demo_designed,
                              stages=loaded.stages, **options)


def _grouped(loaded: LoadedLog, rules: list[tuple[str, str]], notes: list[str]) -> LoadedLog:
    """``loaded`` with its touchpoints grouped by ``rules``, once for every later step."""
    before = len(loaded.log.activities)
    log = jm.group_touchpoints(loaded.log, rules) if rules else loaded.log
    after = len(log.activities)
    said = (f"Grouped {before:,} event names into {after:,} touchpoints (--group)."
            if after < before else "--group renamed no event name.")
    say(said)
    notes.append(said)
    return dataclasses.replace(loaded, log=log)


def _save_personas(loaded: LoadedLog, emo: jm.JourneyEmotions | None, staging: Path,
                   **options: Any) -> list[Path]:
    """Fit personas on the loaded log (with the tagged texts, if any) and save their report."""
    model = jm.PersonaModel(stages=loaded.stages, conversion=loaded.conversion, **options)
    return model.fit(loaded.log, texts=None if emo is None else emo.texts).save(staging)


def _n_personas(value: str) -> str | int:
    """``--n-personas``: a positive whole number, or ``auto``."""
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise typer.BadParameter(f"{value!r} is not a positive whole number or 'auto' (e.g. 4).")


_PERSONAS_HELP = """Derive personas from customer journeys and write a persona report.

Writes personas.html (persona cards), personas.json and assignments.csv into OUT.
With --texts the cards also show what each persona's customers feel and say.

[b]Examples[/b]

  python -m journeymine personas --demo --out out/

  python -m journeymine personas events.csv --out out/ --n-personas 4

  python -m journeymine personas events.csv --texts reviews.csv --emotion-model fast --out out/
"""


@app.command(help=_PERSONAS_HELP)
@log_command(conversion=True)
def personas(
    opts: LogOptions,
    out: OutOpt = Path("out"),
    texts: TextsOpt = None,
    emotion_model: EmotionModelOpt = "default",
    n_personas: Annotated[str, typer.Option(
        "--n-personas", parser=_n_personas, metavar="N|auto",
        help="How many personas: a number, or 'auto' (chosen by the data).")] = "auto",
    method: Annotated[str, typer.Option(help="markov, kmeans or gmm.")] = "markov",
    random_state: Annotated[int, typer.Option(help="Seed.")] = 0,
    debug: DebugOpt = False,
) -> None:
    with _run(debug), staged_output(out) as staging:
        loaded = load_log(opts)
        emo = None if texts is None else _tag_texts(loaded, texts, opts, model=emotion_model)
        with console.status(f"Finding personas among {loaded.log.n_customers:,} customers…"):
            written = _save_personas(loaded, emo, staging, n_personas=n_personas,
                                     method=method, random_state=random_state)
    _wrote(out, [p.name for p in written])


_EMOTIONS_HELP = """Tag customer texts with emotion and sentiment and map them onto the journey.

Writes emotions.html (emotion curve, pain points with quotes, delights, phrases),
emotions.json and tagged_texts.csv into OUT. With --demo, TEXTS defaults to the
demo shop's reviews and chats.

[b]Examples[/b]

  python -m journeymine emotions reviews.csv --log events.csv --out out/

  python -m journeymine emotions chats.parquet --log events.parquet --window 3D --out out/

  python -m journeymine emotions --demo --model fast --out out/
"""


@app.command(help=_EMOTIONS_HELP)
@log_command(log_option=True)
def emotions(
    opts: LogOptions,
    texts: Annotated[Path | None, typer.Argument(
        help="Texts: CSV or Parquet with customer id, timestamp and text columns "
             "(default with --demo: the demo's texts).", show_default=False)] = None,
    out: OutOpt = Path("out"),
    window: Annotated[str, typer.Option(help="Link a text to the customer's last event "
                                             "within this window.")] = "7D",
    model: Annotated[str, typer.Option(help=_MODEL_HELP)] = "default",
    backend: Annotated[str, typer.Option(
        help="torch, onnx (same results, faster) or onnx-int8 (fastest).")] = "torch",
    debug: DebugOpt = False,
) -> None:
    with _run(debug), staged_output(out) as staging:
        loaded = load_log(opts, log_flag="--log")
        if texts is None and loaded.demo_texts is None:
            raise JourneymineError("Give the TEXTS file to tag (or use --demo).",
                                   fix="Run `journeymine emotions --help` for examples.")
        result = _tag_texts(loaded, texts if texts is not None else loaded.demo_texts, opts,
                            model=model, backend=backend, window=window)
        written = result.save(staging)
    say(repr(result))
    _wrote(out, [p.name for p in written])


_CONFORMANCE_HELP = """Compare the actual customer journeys with the designed journey.

Replays each customer's journey on the designed one (pm4py: pip install
"journeymine[process]") and writes conformance.json (summary, deviations),
customers.csv (fitness and deviations per customer) and deviations.csv
(skipped, unexpected and out-of-order steps with the customers affected) into
OUT. --designed is a CSV of steps (step, touchpoint, stage), a .bpmn or a
.pnml file; with --demo it defaults to the demo shop's designed journey. With
--model it also writes the discovered journey as a process model
(discovered.bpmn, discovered.pnml).

[b]Examples[/b]

  python -m journeymine conformance --demo --out out/

  python -m journeymine conformance events.csv --designed designed_journey.csv --out out/

  python -m journeymine conformance events.parquet --designed journey.bpmn --out out/

  python -m journeymine conformance --demo --method alignments --sample 500 --model --out out/
"""


def _deviations_table(result: jm.Conformance, top: int = 5) -> Table:
    """The most common deviations, with the customers affected."""
    table = Table(title=f"Deviations from the designed journey (top {top})")
    for column in ("deviation", "touchpoint", "customers", "share"):
        table.add_column(column)
    for r in result.deviations.head(top).itertuples():
        table.add_row(Text(r.kind.replace("_", " ")), Text(clean(r.touchpoint)),
                      Text(f"{r.customers:,}"), Text(percent(r.share)))
    return table


@app.command(help=_CONFORMANCE_HELP)
@log_command()
def conformance(
    opts: LogOptions,
    out: OutOpt = Path("out"),
    designed: DesignedOpt = None,
    method: Annotated[str, typer.Option(
        metavar="token_replay|alignments",
        help="token_replay (fast) or alignments (exact, slower).")] = "token_replay",
    sample: Annotated[int, typer.Option(
        help="Replay at most this many distinct journeys (a random sample of customers "
             "beyond).")] = 2000,
    require_end: Annotated[bool, typer.Option(
        "--require-end", help="Expect every step up to the designed end (default: stopping "
                              "early is drop-off, not a deviation).")] = False,
    grain: Annotated[str, typer.Option(
        "--grain", metavar="customer|episode|session",
        help="What one journey is: a customer's whole history, an episode (to each "
             "purchase) or a session (a visit).")] = "customer",
    gap: GapOpt = None,
    model: Annotated[bool, typer.Option(
        "--model", help="Also write the discovered journey as discovered.bpmn and "
                        "discovered.pnml.")] = False,
    random_state: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    debug: DebugOpt = False,
) -> None:
    with _run(debug), staged_output(out) as staging:
        loaded = load_log(opts)
        design = designed if designed is not None else loaded.demo_designed
        if design is None:
            raise JourneymineError(
                "Give the designed journey with --designed FILE (or use --demo).",
                expected="a CSV of steps, a .bpmn or a .pnml file.",
                fix="Run `journeymine conformance --help` for examples.")
        with console.status(f"Replaying the journeys of {loaded.log.n_customers:,} customers…"):
            result = jm.conformance(loaded.log, designed=design, method=method, sample=sample,
                                    require_end=require_end, random_state=random_state,
                                    grain=grain, gap=gap, stages=loaded.stages)
        (staging / "conformance.json").write_text(
            json.dumps(result.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        result.customers.to_csv(staging / "customers.csv", index=False)
        result.deviations.to_csv(staging / "deviations.csv", index=False)
        names = ["conformance.json", "customers.csv", "deviations.csv"]
        if model:
            with console.status("Mining a process model of the discovered journey…"):
                discovered = jm.process_model(jm.discover(loaded.log, stages=loaded.stages))
            names += [discovered.save(staging / name).name
                      for name in ("discovered.bpmn", "discovered.pnml")]
    say(clean(result.headline))
    out_console.print(_deviations_table(result))
    _wrote(out, names)


_ATTRIBUTE_HELP = """Credit channels (or touchpoints) with the conversions they led to.

Writes attribution.csv (credit and share per model and channel), roles.csv (the
converting journeys each channel opens, assists and closes), attribution.json
and attribution.html into OUT, and prints the shares. Models: first_touch,
last_touch, linear, time_decay, position, participation, markov, shapley
(default: all but participation).

[b]Examples[/b]

  python -m journeymine attribute --demo --out out/

  python -m journeymine attribute events.csv --out out/ --model first_touch,last_touch,markov

  python -m journeymine attribute events.csv --by touchpoint --grain episode --out out/
"""


def _models(values: list[str] | None) -> list[str] | None:
    """``--model``: names separated by commas, the option repeatable; None for the default."""
    names = [name.strip() for value in values or () for name in value.split(",")]
    return [name for name in names if name] or None


def _shares_table(result: jm.Attribution) -> Table:
    shares = result.shares()
    table = Table(title=f"Share of {result.value} by {result.by}")
    for column in (result.by, *shares.columns):
        first = column == result.by
        table.add_column(Text(clean(column.replace("_", " "))), no_wrap=first,
                         justify="left" if first else "right")
    for channel, values in zip(shares.index, shares.to_numpy(), strict=True):
        table.add_row(Text(clean(channel)), *(Text(percent(v)) for v in values))
    return table


@app.command(help=_ATTRIBUTE_HELP)
@log_command(conversion=True)
def attribute(
    opts: LogOptions,
    out: OutOpt = Path("out"),
    model: Annotated[list[str] | None, typer.Option(
        "--model", metavar="MODEL[,MODEL...]", show_default=False,
        help="Attribution models, separated by commas (repeatable).")] = None,
    by: Annotated[str, typer.Option(
        "--by", metavar="channel|touchpoint", help="What gets credit.")] = "channel",
    grain: Annotated[str, typer.Option(
        "--grain", metavar="customer|episode",
        help="customer: the journey to the first purchase; episode: every purchase.")
    ] = "customer",
    value: Annotated[str, typer.Option(
        "--value", metavar="conversions|revenue", help="What is credited.")] = "conversions",
    lookback: Annotated[str | None, typer.Option(
        "--lookback", metavar="DURATION", show_default=False,
        help="Only touches within this of the conversion count, e.g. 30D.")] = None,
    random_state: Annotated[int, typer.Option(help="Seed of the sampled Shapley value.")] = 0,
    debug: DebugOpt = False,
) -> None:
    with _run(debug), staged_output(out) as staging:
        loaded = load_log(opts)
        models = _models(model)
        options = {"model": models} if models else {}
        with console.status(f"Attributing the journeys of {loaded.log.n_customers:,} "
                            "customers…"):
            result = jm.attribute(loaded.log, loaded.conversion, by=by, grain=grain,
                                  value=value, lookback=lookback, stages=loaded.stages,
                                  random_state=random_state, **options)
        written = result.save(staging)
    say(repr(result))
    out_console.print(_shares_table(result))
    _wrote(out, [p.name for p in written])


model_app = typer.Typer(help="The default emotion model.", no_args_is_help=True)
app.add_typer(model_app, name="model")

#: Where ``model train`` finds its data when ``--data`` is not given.
TRAIN_DATA_ENV = "JOURNEYMINE_TRAIN_DATA"


@model_app.command("train")
def model_train(
    data: Annotated[Path | None, typer.Option(
        "--data", envvar=TRAIN_DATA_ENV, show_default=False, show_envvar=True,
        help="Folder with indonlu/ and goemotions/ (required).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the model "
                                             "(default: the package's model folder).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 20250,
    no_lora: Annotated[bool, typer.Option("--no-lora", help="Frozen encoder + heads only "
                                          "(minutes instead of ~1 hour).")] = False,
    debug: DebugOpt = False,
) -> None:
    """Train the emotion and sentiment model reproducibly (seeded) and print its metrics."""
    with _run(debug, verbose=True):  # training runs up to an hour: show its steps
        if data is None:
            raise JourneymineError(
                "model train needs its training data.",
                expected="a folder with indonlu/ and goemotions/.",
                fix=f"Pass --data FOLDER, or set {TRAIN_DATA_ENV}=FOLDER.",
            )
        if not data.is_dir() or not all((data / sub).is_dir()
                                        for sub in ("indonlu", "goemotions")):
            raise ReadError(
                f"The training data folder {str(data)!r} "
                + ("does not exist." if not data.exists()
                   else "is not a folder with indonlu/ and goemotions/."),
                expected="a folder with indonlu/ and goemotions/.",
                fix=f"Pass --data FOLDER, or set {TRAIN_DATA_ENV}=FOLDER.",
            )
        from journeymine.sentiment import train_default

        meta = train_default(data, out, seed=seed, lora={} if no_lora else None)
        for name, metrics in meta["metrics"].items():
            say(f"{name}: macro-F1 {metrics['macro_f1_restricted']:.3f}")


@app.command()
def version() -> None:
    """Print the journeymine version."""
    say(jm.__version__)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m journeymine`` and the ``journeymine`` script."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="journeymine")
