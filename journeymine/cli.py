"""Command line interface: ``python -m journeymine discover ...``."""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import journeymine as jm
from journeymine.exceptions import JourneymineError, ReadError

app = typer.Typer(
    name="journeymine",
    help="Customer journey maps and personas from event logs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console(stderr=True)
out_console = Console()

#: ``discover`` writes the persona report by default for logs with this many customers.
PERSONA_MIN, PERSONA_MAX = 500, 200_000

_DISCOVER_HELP = """Discover the customer journey in an event log and write a report.

Writes report.html (journey map by stage, process map, funnel, variants,
drop-offs, bottlenecks, loops, channel switches), process_map.json,
variants.csv, funnel.csv, edges.csv, dropoffs.csv and bottlenecks.csv into OUT,
and prints a summary. With --texts it also tags customer texts (emotions.html,
emotions.json, tagged_texts.csv) and adds feelings, phrases and pain points to
the journey map; for 500 to 200,000 customers it also writes the persona report
(personas.html, personas.json, assignments.csv).

[b]Examples[/b]

  python -m journeymine discover --demo --out out/

  python -m journeymine discover events.csv --out out/ --stages stages.yaml

  python -m journeymine discover events.parquet --out out/ --conversion checkout

  python -m journeymine discover events.csv --texts reviews.csv --out out/

  python -m journeymine discover log.csv --customer user --activity page --timestamp time --out out/
"""


def read_log(path: Path, **kwargs):
    """Read an event log, choosing the reader by file extension."""

    name = path.name.lower()
    if name.endswith((".parquet", ".pq")) or path.is_dir():
        return jm.read_parquet(path, **kwargs)
    if name.endswith((".xes", ".xes.gz")):
        return jm.read_xes(path, **kwargs)
    if name.endswith((".csv", ".csv.gz", ".tsv", ".txt", ".tsv.gz")):
        return jm.read_csv(path, **kwargs)
    raise ReadError(
        f"Don't know how to read {path.name!r}.",
        expected="a .csv, .csv.gz, .tsv, .parquet, .xes or .xes.gz file.",
        fix="Rename the file with its format's extension, or convert it to CSV.",
    )


def _summary_table(pm) -> Table:
    from journeymine.reporting._format import humanize_seconds, percent

    s = pm.summary
    table = Table(title="Journey summary", show_header=False)
    for label, value in (
        ("customers", f"{s['customers']:,}"),
        ("events", f"{s['events']:,}"),
        ("touchpoints", f"{s['touchpoints']:,}"),
        ("distinct journeys", f"{s['variants']:,}"),
        ("conversion", f"{percent(s['conversion_rate'])} ({', '.join(pm.conversion) or 'none'})"),
        ("median journey", humanize_seconds(s["median_journey_seconds"])),
        ("top path", pm.variants["variant"].iloc[0] if len(pm.variants) else "–"),
        ("top drop-off", pm.dropoffs["touchpoint"].iloc[0] if len(pm.dropoffs) else "–"),
        ("top bottleneck", f"{pm.bottlenecks['source'].iloc[0]} → "
                           f"{pm.bottlenecks['target'].iloc[0]}" if len(pm.bottlenecks) else "–"),
    ):
        table.add_row(label, value)
    return table


@contextlib.contextmanager
def _errors(debug: bool):
    """Turn JourneymineError (and file errors) into one red line and exit code 2."""
    try:
        yield
    except (JourneymineError, FileNotFoundError, PermissionError) as exc:
        if debug:
            raise
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@app.command(help=_DISCOVER_HELP)
def discover(
    log: Annotated[Path | None, typer.Argument(help="Event log: CSV, Parquet or XES.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    demo: Annotated[bool, typer.Option("--demo", help="Use the bundled demo shop.")] = False,
    stages: Annotated[Path | None, typer.Option(help="YAML: touchpoint -> stage.")] = None,
    conversion: Annotated[
        list[str] | None,
        typer.Option(help="Touchpoint or stage that counts as converting (repeatable)."),
    ] = None,
    customer: Annotated[str | None, typer.Option(help="Customer id column.")] = None,
    activity: Annotated[str | None, typer.Option(help="Touchpoint column.")] = None,
    timestamp: Annotated[str | None, typer.Option(help="Timestamp column.")] = None,
    timestamp_format: Annotated[str | None, typer.Option(help="strptime format.")] = None,
    tz: Annotated[str | None, typer.Option(help="Time zone of naive times.")] = None,
    texts: Annotated[Path | None, typer.Option(
        help="Reviews/chats (customer id, timestamp, text): adds emotions to the report.")] = None,
    emotion_model: Annotated[str, typer.Option(help=_MODEL_HELP)] = "default",
    personas: Annotated[bool | None, typer.Option(
        "--personas/--no-personas",
        help=f"Also write the persona report (default: for {PERSONA_MIN:,} to "
             f"{PERSONA_MAX:,} customers).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    logging.basicConfig(level=logging.INFO if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    with _errors(debug):
        from journeymine.discovery._discover import discover as run_discover

        notes: list[str] = []
        with console.status("Reading the event log…"), warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            event_log, source, demo_stages = _load(
                log, demo, customer=customer, activity=activity, timestamp=timestamp,
                timestamp_format=timestamp_format, tz=tz,
            )
            stages_arg = stages or demo_stages
        notes += [str(x.message) for x in w]
        for note in notes:
            console.print(f"[yellow]warning:[/yellow] {note}", highlight=False)
        with console.status(f"Discovering journeys of {event_log.n_customers:,} customers…"):
            pm = run_discover(event_log, stages=stages_arg, conversion=conversion or None)
        emo = None
        if texts is not None:
            from journeymine.sentiment import EmotionTagger, run_emotions

            with console.status("Tagging texts with emotions…"):
                emo = run_emotions(event_log, texts, out, stages=stages_arg,
                                   tagger=EmotionTagger(emotion_model, verbose=False))
        with console.status("Writing the report…"):
            written = pm.save(out, source=source, notes=notes, emotions=emo)
        if personas or (personas is None
                        and PERSONA_MIN <= event_log.n_customers <= PERSONA_MAX):
            from journeymine.personas import run_personas

            with console.status("Finding personas…"):
                written += list(run_personas(event_log, out, stages=stages_arg,
                                             conversion=conversion or None).values())
        out_console.print(_summary_table(pm))
        out_console.print(f"Wrote {len(written)} files to {out}/: "
                          + ", ".join(p.name for p in written))


def _load(log: Path | None, demo: bool, **read_kwargs):
    """The event log of a command: a file, or the demo shop. Returns (log, source, stages)."""
    if (log is None) == (not demo):
        raise JourneymineError(
            "Give either an event log file or --demo.",
            expected="`COMMAND events.csv --out out/` or `COMMAND --demo --out out/`.",
            fix="Run the command with --help for examples.",
        )
    if demo:
        from journeymine.datasets import load_demo

        data = load_demo()
        return data.log, "the bundled demo shop (jm.datasets.load_demo)", data.stages
    return read_log(log, **read_kwargs), str(log), None


_PERSONAS_HELP = """Derive personas from customer journeys and write a persona report.

Writes personas.html (persona cards), personas.json and assignments.csv into OUT.

[b]Examples[/b]

  python -m journeymine personas --demo --out out/

  python -m journeymine personas events.csv --out out/ --n-personas 4
"""


@app.command(help=_PERSONAS_HELP)
def personas(
    log: Annotated[Path | None, typer.Argument(help="Event log: CSV, Parquet or XES.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    demo: Annotated[bool, typer.Option("--demo", help="Use the bundled demo shop.")] = False,
    n_personas: Annotated[str, typer.Option(help="A number, or 'auto'.")] = "auto",
    method: Annotated[str, typer.Option(help="markov, kmeans or gmm.")] = "markov",
    random_state: Annotated[int, typer.Option(help="Seed.")] = 0,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    with _errors(debug):
        from journeymine.personas import run_personas

        event_log, _, stages = _load(log, demo)
        k = n_personas if n_personas == "auto" else int(n_personas)
        with console.status(f"Finding personas among {event_log.n_customers:,} customers…"):
            written = run_personas(event_log, out, n_personas=k, method=method,
                                   random_state=random_state, stages=stages)
        out_console.print(f"Wrote {len(written)} files to {out}/: "
                          + ", ".join(Path(p).name for p in written.values()))


_MODEL_HELP = "Emotion model: 'default', 'fast' (TF-IDF), a Hugging Face id or a local folder."

_EMOTIONS_HELP = """Tag customer texts with emotion and sentiment and map them onto the journey.

Writes emotions.html (emotion curve, pain points with quotes, delights, phrases),
emotions.json and tagged_texts.csv into OUT.

[b]Examples[/b]

  python -m journeymine emotions reviews.csv --log events.csv --out out/

  python -m journeymine emotions chats.parquet --log events.parquet --window 3D --out out/
"""


@app.command(help=_EMOTIONS_HELP)
def emotions(
    texts: Annotated[Path, typer.Argument(help="Texts: CSV or Parquet with customer id, "
                                               "timestamp and text columns.")],
    log: Annotated[Path, typer.Option("--log", help="Event log: CSV, Parquet or XES.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    window: Annotated[str, typer.Option(help="Link a text to the customer's last event "
                                             "within this window.")] = "7D",
    model: Annotated[str, typer.Option(help=_MODEL_HELP)] = "default",
    backend: Annotated[str, typer.Option(help="torch, or onnx (int8, faster).")] = "torch",
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    with _errors(debug):
        from journeymine.sentiment import EmotionTagger, run_emotions

        event_log = read_log(log)
        with console.status("Tagging texts and linking them to journeys…"):
            result = run_emotions(event_log, texts, out, window=window,
                                  tagger=EmotionTagger(model, backend=backend, verbose=False))
        out_console.print(repr(result))
        out_console.print(f"Wrote emotions.html, emotions.json and tagged_texts.csv to {out}/")


model_app = typer.Typer(help="The default emotion model.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("train")
def model_train(
    data: Annotated[Path, typer.Option("--data", help="Folder with indonlu/ and goemotions/.")]
    = Path("../shared/data"),
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the model "
                                             "(default: the package's model folder).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 20250,
    no_lora: Annotated[bool, typer.Option("--no-lora", help="Frozen encoder + heads only "
                                          "(minutes instead of ~1 hour).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Train the emotion and sentiment model reproducibly (seeded) and print its metrics."""
    # Training runs for up to an hour: show its steps (candidates, held-out choices).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    with _errors(debug):
        from journeymine.sentiment._train import train_default

        meta = train_default(data, out, seed=seed, lora={} if no_lora else None)
        for name, metrics in meta["metrics"].items():
            out_console.print(f"{name}: macro-F1 {metrics['macro_f1_restricted']:.3f}")


@app.command()
def version() -> None:
    """Print the journeymine version."""
    from journeymine import __version__

    out_console.print(__version__)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m journeymine`` and the ``journeymine`` script."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="journeymine")
