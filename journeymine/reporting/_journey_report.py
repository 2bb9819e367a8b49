"""Self-contained HTML journey report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from journeymine.reporting._attribution_report import attribution_context
from journeymine.reporting._format import humanize_seconds, percent, score, short_path
from journeymine.reporting._histogram import render_gap_histogram
from journeymine.reporting._palette import stage_colors
from journeymine.reporting._svg import MAX_DRAWN_EDGES, MAX_DRAWN_TOUCHPOINTS, coverage_note
from journeymine.reporting._templates import get_template

if TYPE_CHECKING:
    import pandas as pd

    from journeymine.discovery._grains import GapSuggestion
    from journeymine.discovery._patterns import Paths
    from journeymine.discovery._processmap import ProcessMap
    from journeymine.measurement._attribution import Attribution
    from journeymine.measurement._conformance import Conformance

__all__ = ["render_report"]

#: Names listed inline (touchpoints of a stage, unmapped touchpoints) before "… and N more".
_LISTED = 8
#: Steps of a journey shown in the variants table before "… (N more steps)".
_STEPS = 25


def _n(value) -> str:
    return f"{int(value):,}"


def _listing(first: list[str], total: int) -> str:
    """The ``first`` items joined by commas, then "… and N more" up to ``total`` items."""
    shown = ", ".join(first)
    return f"{shown} … and {total - len(first):,} more" if total > len(first) else shown


#: How the report names what one journey is at each grain.
GRAIN_WORDS = {"customer": "a customer's history", "episode": "an episode (to a purchase)",
               "session": "a session (visit)"}


def _more(rows: list[dict], total: int, key: str) -> list[dict]:
    """``rows`` plus, when ``total`` is larger, a last row saying how many were left out.

    The last row has the keys of the others, empty except ``key``.
    """
    if not rows or total <= len(rows):
        return rows
    return [*rows, {**dict.fromkeys(rows[0], ""), key: f"… and {total - len(rows):,} more"}]


def _emotion_by_stage(emotions) -> dict[str, dict[str, str]]:
    """Per stage: the feeling (mean sentiment, dominant emotion), what customers say, a quote."""
    if emotions is None:
        return {}
    curve = emotions.curve().set_index("stage")
    phrases = emotions.phrases(by="stage", n=4)
    pains = emotions.pain_points()
    quotes = emotions.stage_quotes()
    out: dict[str, dict[str, str]] = {}
    for stage, row in curve.iterrows():
        said = phrases.loc[phrases["stage"] == stage, "phrase"].tolist()
        pain = pains.loc[pains["stage"] == stage, "touchpoint"].tolist()
        feel = "–" if not row["n_texts"] else (
            f"{row['dominant_emotion']} ({row['mean_sentiment']:+.2f}, {int(row['n_texts'])} texts)"
        )
        out[str(stage)] = {"feel": feel, "says": ", ".join(said) or "–",
                           "quote": quotes[stage][0]["text"] if quotes.get(stage) else "",
                           "pain": _listing(pain[:_LISTED], len(pain)) or "–"}
    return out


def _quotes(table) -> list[dict]:
    return [
        {"touchpoint": r.touchpoint, "stage": r.stage or "–", "n": _n(r.n_texts),
         "share": percent(r.share), "rest": percent(r.rest_share),
         "quotes": [q["text"] for q in r.quotes]}
        for r in table.head(5).itertuples()
    ]


def _stage_rows(pm: ProcessMap, emotions=None) -> list[dict]:
    funnel = pm.funnel.set_index("stage")
    feelings = _emotion_by_stage(emotions)
    rows = []
    for stage in pm.stages.order:
        in_stage = pm.nodes[pm.nodes["stage"] == stage]
        names = set(in_stage["touchpoint"])
        drop = pm.dropoffs[pm.dropoffs["touchpoint"].isin(names)].head(1)
        slow = pm.bottlenecks[pm.bottlenecks["source"].isin(names)].head(1)
        rows.append({
            "stage": stage,
            "touchpoints": _listing(
                [f"{r.touchpoint} ({r.customers:,})" for r in in_stage.head(_LISTED).itertuples()],
                len(in_stage),
            ) or "–",
            "reached": _n(funnel.loc[stage, "reached"]) if stage in funnel.index else "–",
            "continue": percent(funnel.loc[stage, "conversion_to_next"])
            if stage in funnel.index else "–",
            "dropoff": "–" if drop.empty else
            f"{drop.iloc[0]['touchpoint']} ({drop.iloc[0]['lost_customers']:,} lost)",
            "bottleneck": "–" if slow.empty else
            f"{slow.iloc[0]['source']} → {slow.iloc[0]['target']} "
            f"({humanize_seconds(slow.iloc[0]['median_seconds'])})",
            **feelings.get(stage, {}),
        })
    return rows


def render_report(pm: ProcessMap, *, title: str = "Customer journey report",
                  source: str = "an event log", notes: list[str] | None = None,
                  top: int = 10, emotions=None, insights=None,
                  gaps: GapSuggestion | None = None, patterns: pd.DataFrame | None = None,
                  paths: tuple[Paths, ...] = (), satisfaction=None,
                  attribution: Attribution | None = None,
                  conformance: Conformance | None = None) -> str:
    """Render the journey report of ``pm`` as one self-contained HTML string.

    Parameters
    ----------
    pm : ProcessMap
        The discovered journey.
    title : str
        Page title.
    source : str
        Where the events came from (shown in the footer).
    notes : list of str, optional
        Data-quality notes shown at the top (e.g. dropped rows).
    top : int, default 10
        Rows per table.
    emotions : JourneyEmotions, optional
        Adds what customers feel and say per stage to the journey map, and the
        pain points and delights with quotes (see :func:`journeymine.emotions`).
    insights : Insights, optional
        The ranked barriers and opportunities, shown first ("What matters").
    gaps : GapSuggestion, optional
        The gap histogram behind the session gap (:func:`journeymine.suggest_gap`),
        drawn with the suggested gap (and the gap used, when different) marked.
    patterns : DataFrame, optional
        :func:`journeymine.patterns` rows (all of them), shown by journeys and
        by conversion lift.
    paths : tuple of Paths
        Step-by-step paths around anchors (:func:`journeymine.paths_from` /
        ``paths_to``), each as a table and an SVG Sankey.
    satisfaction : Satisfaction, optional
        NPS, CSAT or mean rating per stage with its interval, and whether low
        scores go with fewer purchases afterwards (see
        :func:`journeymine.satisfaction`).
    attribution : Attribution, optional
        Each channel's share of the conversions under every model computed,
        and the converting journeys it opens, assists and closes (see
        :func:`journeymine.attribute`).
    conformance : Conformance, optional
        One line on how journeys follow the designed one (share fitting, mean
        fitness) and its three most common deviations (see
        :func:`journeymine.conformance`).

    Returns
    -------
    str
        HTML with inline CSS and SVG; all user text escaped; no scripts.
    """
    from journeymine import __version__

    full = pm.full or pm
    view = full.filter(edges=0.8 if len(full.edges) > 35 else None,
                       touchpoints=MAX_DRAWN_TOUCHPOINTS, max_edges=MAX_DRAWN_EDGES)
    shown = coverage_note(view.nodes, view.edges, full.nodes, full.edges)
    s = full.summary
    kpis = [
        ("customers", _n(s["customers"])),
        (f"journeys ({GRAIN_WORDS.get(s.get('grain', 'customer'), 'journeys')})",
         _n(s.get("journeys", s["customers"]))),
        ("events", _n(s["events"])),
        ("touchpoints", _n(s["touchpoints"])),
        ("distinct journeys", _n(s["variants"])),
        ("converted", percent(s["conversion_rate"])),
        ("median journey", humanize_seconds(s["median_journey_seconds"])),
    ]
    notes = list(notes or [])
    if full.unmapped:
        notes.append("Touchpoints without a stage: "
                     + _listing(list(full.unmapped[:_LISTED]), len(full.unmapped)))
    conversion = _listing(list(full.conversion[:_LISTED]), len(full.conversion)) or "none"
    funnel_top = max(int(full.funnel["reached"].max() or 0), 1)
    v = full.variants.head(top)
    context = {
        "version": __version__,
        "palette": stage_colors(full.stages.order),
        "title": title,
        "subtitle": f"{s['customers']:,} customers · {s['events']:,} events · "
                    f"one journey = {GRAIN_WORDS.get(s.get('grain', 'customer'), 'journey')} · "
                    f"conversion = {conversion}",
        "source": source,
        "kpis": kpis,
        "notes": notes,
        "stage_rows": _stage_rows(full, emotions),
        "has_emotions": emotions is not None,
        "pains": _quotes(emotions.pain_points()) if emotions is not None else [],
        "delights": _quotes(emotions.delights()) if emotions is not None else [],
        "map_caption": "All touchpoints and transitions." if shown is None else
                       f"{shown} process_map.json holds the full graph.",
        "svg_count": view.to_svg("count"),
        "svg_time": view.to_svg("time"),
        "conversion": conversion,
        "overall_conversion": percent(s["conversion_rate"]),
        "funnel": [
            {"stage": r.stage, "reached": _n(r.reached), "visited": _n(r.visited),
             "share": percent(r.reached_share),
             "width": round(100 * r.reached / funnel_top, 1),
             "next": percent(r.conversion_to_next),
             "time": humanize_seconds(r.median_seconds_to_next)}
            for r in full.funnel.itertuples()
        ],
        "dropoffs": _more([
            {"touchpoint": r.touchpoint, "lost": _n(r.lost_customers),
             "share": percent(r.share_of_lost), "exit": percent(r.exit_rate)}
            for r in full.dropoffs.head(top).itertuples()
        ], len(full.dropoffs), "touchpoint"),
        "bottlenecks": _more([
            {"step": f"{r.source} → {r.target}", "customers": _n(r.customers),
             "median": humanize_seconds(r.median_seconds), "p90": humanize_seconds(r.p90_seconds),
             "share": percent(r.share_of_wait)}
            for r in full.bottlenecks.head(top).itertuples()
        ], len(full.bottlenecks), "step"),
        "variant_caption": f"The top {len(v)} of {len(full.variants):,} distinct paths cover "
                           f"{percent(v['share'].sum())} of customers.",
        "variants": [
            {"variant": short_path(r.variant, _STEPS), "customers": _n(r.customers),
             "share": percent(r.share),
             "cum": percent(r.cumulative_share), "conv": percent(r.conversion_rate),
             "duration": humanize_seconds(r.median_duration_seconds)}
            for r in v.itertuples()
        ],
        "loops": _more([
            {"pattern": r.pattern, "kind": r.kind, "customers": _n(r.customers),
             "share": percent(r.share_of_visitors)}
            for r in full.loops.head(top).itertuples()
        ], len(full.loops), "pattern"),
        "switches": _more([
            {"switch": f"{r.from_channel} → {r.to_channel}", "at": f"{r.source} → {r.target}",
             "customers": _n(r.customers), "conv": percent(r.conversion_rate)}
            for r in full.channel_switches.head(top).itertuples()
        ], len(full.channel_switches), "switch"),
        "channel_gaps": _channel_gap_rows(full.channel_gaps, s["conversion_rate"], top),
        "insights": _insight_rows(insights, top=15),
        "long_tail": _long_tail_note(s),
        "returns": _return_rows(full, top),
        "gaps": _gap_context(gaps, s),
        "patterns": _pattern_rows(patterns, top),
        "paths": [_paths_context(p) for p in paths],
        "satisfaction": _satisfaction_section(satisfaction),
        "attribution": _attribution_section(attribution, top),
        "conformance": _conformance_line(conformance),
    }
    return get_template("report.html.j2").render(**context)


def _channel_gap_rows(gaps: pd.DataFrame, conversion_rate: float, top: int) -> list[dict]:
    """The channel pairs whose switch costs the most conversions, worst first, capped."""
    rows = [{
        "switch": f"{r.from_channel} → {r.to_channel}", "journeys": _n(r.journeys),
        "conv": "–" if r.conversion_after != r.conversion_after else
        f"{percent(r.conversion_after)} [{percent(r.conversion_low, 0)}–"
        f"{percent(r.conversion_high, 0)}]",
        "ended": "–" if r.ended_share != r.ended_share else percent(r.ended_share),
        "wait": humanize_seconds(r.median_seconds),
        "staying": humanize_seconds(r.within_median_seconds),
        "lost": f"{r.lost_conversions:+,.1f}",
    } for r in gaps.head(top).itertuples()]
    return _more(rows, len(gaps), "switch")


def _insight_rows(insights, top: int) -> list[dict]:
    """The "What matters" rows: rank, kind, where, customers, effect with interval, sentence."""
    if insights is None:
        return []
    table = insights.to_frame()
    rows = [{
        "rank": str(r.rank), "type": r.type, "kind": r.kind, "where": r.where,
        "customers": _n(r.customers),
        "effect": f"{r.effect:+.2f} [{r.effect_low:+.2f}, {r.effect_high:+.2f}] {r.effect_measure}",
        "loss": f"{r.loss:,.0f} {r.unit}" if r.loss == r.loss else "–",
        "sentence": r.sentence,
    } for r in table.head(top).itertuples()]
    return _more(rows, len(table), "where")


def _long_tail_note(summary: dict) -> str:
    """The warning shown first when the most common paths cover little (else empty)."""
    if not summary.get("long_tail"):
        return ""
    return (f"Long tail: the 10 most common paths cover only "
            f"{percent(summary.get('path_coverage_top10'))} of the journeys with two or more "
            "steps, so the list of journeys below is mostly one-offs. Read the patterns "
            "(frequent sub-paths) and the step-by-step paths instead.")


def _return_rows(pm: ProcessMap, top: int) -> dict | None:
    """The "Returns" section: how long until customers come back after each touchpoint."""
    if pm.grain == "customer":
        return None
    r = pm.returns
    gap = pm.summary.get("gap_seconds")
    rows = _more([
        {"touchpoint": x.touchpoint, "count": _n(x.count), "customers": _n(x.customers),
         "median": humanize_seconds(x.median_seconds), "p90": humanize_seconds(x.p90_seconds)}
        for x in r.head(top).itertuples()
    ], len(r), "touchpoint")
    unit = "session" if pm.grain == "session" else "episode"
    above = f" (gaps above the {humanize_seconds(gap)} session gap)" if gap else ""
    return {"rows": rows,
            "caption": f"The time between the end of one {unit} and the customer's next one"
                       f"{above}, by the last touchpoint before leaving. These are returns, "
                       "not waits, so they are not counted as bottlenecks."}


def _gap_context(gaps: GapSuggestion | None, summary: dict) -> dict | None:
    """The gap histogram with the suggested (and the used) session gap marked."""
    if gaps is None:
        return None
    suggested = gaps.gap.total_seconds()
    used = summary.get("gap_seconds")
    marks = [("suggested", suggested)]
    if used and abs(used - suggested) > 0.5:
        marks.append(("used", used))
    modes = [humanize_seconds(m) for m in (gaps.within_mode_seconds, gaps.between_mode_seconds)
             if m is not None]
    return {"svg": render_gap_histogram(gaps.bin_edges, gaps.counts, marks=marks),
            "reason": gaps.reason, "n_gaps": _n(gaps.n_gaps), "zero": _n(gaps.zero_gaps),
            "bins": len(gaps.counts),
            "modes": " and ".join(modes)}


def _lift(r) -> str:
    if r.lift != r.lift:
        return "n/a"
    return f"{r.lift:.2f} ({r.lift_low:.2f}–{r.lift_high:.2f})"


def _pattern_rows(patterns: pd.DataFrame | None, top: int) -> dict | None:
    """The patterns, most journeys first, and the barriers (lift below 1 with 95% confidence,
    lowest lift first), ``top`` rows each."""
    if patterns is None:
        return None

    def rows(table) -> list[dict]:
        return _more([
            {"pattern": short_path(r.pattern, _STEPS), "journeys": _n(r.journeys),
             "share": percent(r.share), "conv": percent(r.conversion),
             "base": percent(r.baseline), "lift": _lift(r)}
            for r in table.head(top).itertuples()
        ], len(table), "pattern")

    by_lift = patterns[patterns["lift_high"] < 1].sort_values(
        ["lift", "journeys", "pattern"], ascending=[True, False, True], kind="mergesort")
    return {"by_journeys": rows(patterns), "by_lift": rows(by_lift), "total": _n(len(patterns))}


def _paths_context(paths: Paths) -> dict:
    """One step-by-step view: its title, the Sankey and one table row per step.

    Each step lists its touchpoints (at most the ``top`` kept by the Paths,
    plus "other" and where journeys stop), so the table is bounded.
    """
    word = "after" if paths.direction == "from" else "before"
    steps = paths.steps()
    rows = [{"step": "anchor" if step == 0 else f"{step:+d}",
             "touchpoints": " · ".join(f"{r.touchpoint} {percent(r.share)} ({r.journeys:,})"
                                       for r in group.itertuples())}
            for step, group in steps.groupby("step", sort=True)]
    title = f"Journeys {word} {paths.anchor} ({paths.journeys:,})"
    return {"id": f"paths-{paths.direction}", "title": title, "rows": rows,
            "journeys": f"{paths.journeys:,}",
            "svg": paths.to_svg(title=title)}


def _satisfaction_section(sat) -> dict | None:
    """The "Satisfaction per stage" section: the metric per stage and the outcome link."""
    if sat is None:
        return None
    m, s = sat.metric, sat.summary
    per = sat.by("stage" if "stage" in sat.dimensions else "all")
    key = per.columns[0]
    link = sat.outcome.set_index("stage") if sat.outcome is not None else None
    rows = []
    for r in per.itertuples(index=False):
        row = r._asdict()
        if m == "nps":
            split = (f"{percent(row['share_promoters'], 0)} promoters · "
                     f"{percent(row['share_detractors'], 0)} detractors")
        else:
            split = f"{_n(row['satisfied'])} satisfied"
        after = "–"
        if link is not None and row[key] in link.index:
            o = link.loc[row[key]]
            if o["difference"] == o["difference"]:
                after = (f"{percent(o['rate_low_score'], 0)} vs {percent(o['rate_rest'], 0)}: "
                         f"{100 * o['difference']:+.0f} pts [{100 * o['difference_low']:+.0f}, "
                         f"{100 * o['difference_high']:+.0f}]")
            else:
                after = f"too few answers ({_n(o['n_low_score'])} low, {_n(o['n_rest'])} other)"
        rows.append({"stage": str(row[key]), "answers": _n(row["n_answers"]),
                     "value": score(m, row[m]),
                     "interval": f"{score(m, row[m + '_low'])} to {score(m, row[m + '_high'])}",
                     "split": split, "after": after})
    low = "detractors (0-6)" if m == "nps" else f"scores below {sat.threshold:g}"
    return {
        "label": sat.label, "headline": sat.headline(), "rows": rows,
        "answers": _n(s["answers"]), "linked": _n(s["linked"]),
        "split_label": "Promoters · detractors" if m == "nps" else "Satisfied",
        "low": low, "has_outcome": link is not None,
        "outcome_rule": s["outcome_rule"] or "", "min_answers": s["min_answers"],
    }


def _attribution_section(result: Attribution | None, top: int) -> dict | None:
    """The "Which channels open, assist and close journeys" section: the share table, capped."""
    if result is None:
        return None
    s = result.summary
    context = attribution_context(result)
    return {**context, "rows": _more(context["rows"][:top], len(context["rows"]), "channel"),
            "total": f"{s['total']:,.0f}", "converting": _n(s["converting"]),
            "journeys": _n(s["journeys"]), "grain": result.grain}


def _conformance_line(result: Conformance | None) -> dict | None:
    """The designed-journey line: the headline and the three most common deviations."""
    if result is None:
        return None
    top = [f"{r.touchpoint} {r.kind.replace('_', ' ')} ({_n(r.customers)} "
           f"customer{'' if r.customers == 1 else 's'}, {percent(r.share, 0)})"
           for r in result.deviations.head(3).itertuples()]
    return {"headline": result.headline, "designed": " > ".join(result.designed),
            "deviations": "; ".join(top)}
