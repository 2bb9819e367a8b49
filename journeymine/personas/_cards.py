"""Persona cards: the :class:`Persona` result and how cards are built from a fitted model."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from journeymine._util._json import json_safe
from journeymine.discovery._discover import discover
from journeymine.discovery._processmap import ProcessMap
from journeymine.eventlog._schema import ACTIVITY, CUSTOMER
from journeymine.personas._common import subset_log
from journeymine.reporting._format import humanize_seconds, percent

if TYPE_CHECKING:
    from journeymine.eventlog._eventlog import EventLog
    from journeymine.personas._model import PersonaModel

__all__ = ["Persona"]

logger = logging.getLogger(__name__)

#: English adjective and Indonesian phrase per channel, for persona names.
CHANNEL_WORDS: dict[str, tuple[str, str]] = {
    "social": ("Social", "media sosial"), "search": ("Search-led", "pencarian"),
    "web": ("Website", "situs web"), "app": ("App", "aplikasi"),
    "marketplace": ("Marketplace", "marketplace"), "chat": ("Chat-first", "chat"),
    "store": ("In-store", "toko"), "email": ("Email", "email"),
    "offline": ("Offline", "offline"), "online": ("Online", "online"),
}
#: Behaviour nouns (English, Indonesian).
NOUNS: dict[str, tuple[str, str]] = {
    "advocate": ("advocates", "Pendukung"),
    "loyal": ("loyalists", "Pelanggan setia"),
    "passer": ("passers-by", "Pengunjung sekilas"),
    "browse": ("browsers", "Penjelajah"),
    "research": ("researchers", "Peneliti"),
    "impulse": ("impulse buyers", "Pembeli impulsif"),
    "buy": ("buyers", "Pembeli"),
}
#: Pace words (English, Indonesian) for a persona much faster or slower than the rest.
PACE_WORDS = {"fast": ("quick", "cepat"), "slow": ("unhurried", "santai")}
#: What a persona that dwells on a touchpoint of this stage wants.
STAGE_GOALS: dict[str, str] = {
    "awareness": "discover products through {tp}",
    "consideration": "compare options and get answers at {tp}",
    "purchase": "a quick, trustworthy checkout ({tp})",
    "retention": "after-sales care and rewards ({tp})",
    "advocacy": "share their experience ({tp})",
}
_TRAIT_PREFIXES = ("share__", "stage_share__", "channel_share__", "transition__",
                   "first_channel__", "last_channel__", "sentiment__", "emotion__")
_TRAIT_VALUES = ("n_events", "n_touchpoints", "duration_seconds", "converted",
                 "seconds_to_conversion", "furthest_stage", "n_self_loops", "n_repeats",
                 "n_channel_switches", "frequency", "monetary")


def trait_label(feature: str) -> str:
    """Readable label of a feature column.

    Examples
    --------
    >>> trait_label("share__store_visit"), trait_label("transition__a>b")
    ('share of events at store_visit', 'share of moves a → b')
    """
    labels = {
        "share__": "share of events at {}", "stage_share__": "share of events in {}",
        "channel_share__": "share of events on {}", "transition__": "share of moves {}",
        "first_channel__": "starts on {}", "last_channel__": "ends on {}",
        "sentiment__": "{} texts", "emotion__": "texts showing {}",
    }
    for prefix, text in labels.items():
        if feature.startswith(prefix):
            return text.format(feature.removeprefix(prefix).replace(">", " → "))
    return feature.replace("_", " ")


def _fmt(feature: str, value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    if "seconds" in feature:
        return humanize_seconds(value)
    if feature.startswith(_TRAIT_PREFIXES) or feature == "converted":
        return percent(value)
    return f"{value:,.1f}"


@dataclasses.dataclass(frozen=True, repr=False)
class Persona:
    """A persona card: who they are, what they do, and how they differ.

    Attributes
    ----------
    id : int
        0 is the largest persona.
    name, name_id : str
        Generated English and Indonesian names from the pace (when much
        faster or slower than the rest), the channel that stands out and
        the behaviour (the stage at least half of the persona reaches,
        conversion, repeat purchases, length, speed to purchase); to tell
        personas apart, a touchpoint that at least 20 % of the persona
        visits, else a number (a rare touchpoint never names a persona).
    size : int
        Customers.
    share : float
        Share of all customers.
    traits : tuple of dict
        The features that most distinguish the persona from the population,
        ranked by |effect size| × the share of the persona showing them
        (traits shown by fewer than 20 % are left out): ``feature``,
        ``label``, ``value``, ``population``, ``effect_size`` (standardised
        mean difference), ``lift`` (value / population) and ``showing``.
    goals : tuple of str
        Inferred from the touchpoints the persona dwells on (over-represented).
    paths : tuple of dict
        Top variants of two or more events (all variants if there are none):
        ``path`` (list), ``share`` (of the persona), ``conversion_rate``.
    funnel : dict
        Share of the persona that reached each stage.
    channels : dict
        Share of the persona's events per channel.
    furthest_stage : str or None
        The most common furthest stage.
    conversion_rate, population_conversion_rate : float
    median_seconds_to_conversion : float
        NaN when nobody converted.
    emotions, sentiment : dict
        Share of the persona's tagged texts per label (empty without texts).
    pain_points : tuple of str
        Where the persona's journeys stall or leave, and what they complain about.
    quotes : tuple of str
        Representative texts (empty without texts).
    differences : tuple of str
        How the persona differs from each other persona.
    stability : float
        Mean bootstrap Jaccard similarity (1 = always found again; NaN if not run).
    k_note : str
        How the number of personas was chosen and how confident that choice is.
    process_svg : str
        The persona's own process map (SVG).
    """

    id: int
    name: str
    name_id: str
    size: int
    share: float
    traits: tuple[dict, ...]
    goals: tuple[str, ...]
    paths: tuple[dict, ...]
    funnel: dict[str, float]
    channels: dict[str, float]
    furthest_stage: str | None
    conversion_rate: float
    population_conversion_rate: float
    median_seconds_to_conversion: float
    emotions: dict[str, float]
    sentiment: dict[str, float]
    pain_points: tuple[str, ...]
    quotes: tuple[str, ...]
    differences: tuple[str, ...]
    stability: float
    k_note: str = ""
    process_svg: str = dataclasses.field(default="", compare=False)

    @property
    def top_path(self) -> tuple[str, ...]:
        """The persona's most common journey."""
        return tuple(self.paths[0]["path"]) if self.paths else ()

    @property
    def summary(self) -> dict[str, Any]:
        """The headline numbers as a flat dict."""
        return {
            "id": self.id, "name": self.name, "name_id": self.name_id, "size": self.size,
            "share": self.share, "conversion_rate": self.conversion_rate,
            "median_seconds_to_conversion": self.median_seconds_to_conversion,
            "furthest_stage": self.furthest_stage, "stability": self.stability,
            "top_path": " > ".join(self.top_path),
        }

    def to_dict(self, *, svg: bool = False) -> dict[str, Any]:
        """JSON-safe dict of the card (the SVG only with ``svg=True``)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if not svg:
            out.pop("process_svg")
        return json_safe(out)

    def to_frame(self) -> pd.DataFrame:
        """The distinguishing traits as a DataFrame (one row per trait)."""
        cols = ["feature", "label", "value", "population", "effect_size", "lift", "showing"]
        return pd.DataFrame(list(self.traits), columns=cols)

    def __repr__(self) -> str:
        stab = "" if not np.isfinite(self.stability) else f", stability={self.stability:.2f}"
        return (f"Persona({self.id}: {self.name!r}, {self.size:,} customers "
                f"({percent(self.share)}), converts {percent(self.conversion_rate)}{stab})")

    def _repr_html_(self) -> str:
        from journeymine.reporting._persona_report import render_card

        return render_card(self)


# --------------------------------------------------------------------------- building
def _behaviour(means: pd.Series, pop: pd.Series, reach: str | None) -> str:
    """The behaviour noun of :data:`NOUNS` from stage reach, conversion, length and speed.

    ``reach`` is the furthest stage that at least half of the persona reaches.
    """
    def lift(col: str) -> float:
        p, m = pop.get(col, np.nan), means.get(col, np.nan)
        return float(m / p) if np.isfinite(p) and p > 0 and np.isfinite(m) else 1.0

    if reach in ("advocacy",):
        return "advocate"
    if reach == "retention" or lift("frequency") >= 1.5:
        return "loyal"
    if reach == "awareness" or (reach is None and lift("converted") < 0.5):
        return "passer"
    if reach == "consideration" or lift("converted") < 0.7:
        return "research" if lift("n_events") >= 1.25 else "browse"
    if lift("seconds_to_conversion") < 0.5:
        return "impulse"
    return "research" if lift("n_events") >= 1.25 else "buy"


def _name(channel_lift: pd.Series, channel_share: pd.Series, means: pd.Series,
          pop: pd.Series, reach: str | None, pace: str | None) -> tuple[str, str]:
    """English and Indonesian names: pace, the channel that stands out, the behaviour.

    The channel is the most over-represented one among those carrying at
    least 15 % of the persona's events (none without channels); the pace
    word appears only when the persona is much faster or slower than the rest.
    """
    shown = channel_lift[channel_share >= 0.15].sort_values(ascending=False, kind="mergesort")
    en_adj = id_adj = ""
    if len(shown) and shown.iloc[0] > 1.0:
        ch = str(shown.index[0])
        en_adj, id_adj = CHANNEL_WORDS.get(ch, (ch.replace("_", " ").capitalize(),
                                                 ch.replace("_", " ")))
    en, idn = NOUNS[_behaviour(means, pop, reach)]
    en_pace, id_pace = PACE_WORDS[pace] if pace else ("", "")
    english = " ".join(w for w in (en_pace, en_adj, en) if w)
    return english[0].upper() + english[1:], " ".join(w for w in (idn, id_adj, id_pace) if w)


#: A trait or touchpoint shown by fewer than this share of a persona never names or
#: describes it (a touchpoint 4 % of a persona visits is not the persona, however
#: over-represented).
MIN_SHOWING = 0.2


def _showing(members: pd.DataFrame, pop: pd.Series, means: pd.Series) -> pd.Series:
    """Share of the persona on the persona's side of the population mean, per feature.

    For a share or count that only a few members have, this is the share of
    members who have it at all: a trait that 3 % of a persona shows is not
    the persona's trait however large its mean difference.
    """
    above = means >= pop
    side = members.gt(pop, axis=1).where(above, members.lt(pop, axis=1))
    return side.mean()


def _traits(means: pd.Series, pop: pd.Series, sd: pd.Series, showing: pd.Series,
            top: int = 6) -> list[dict]:
    """The traits ranked by |effect size| × share of the persona showing them."""
    cols = [c for c in means.index if c.startswith(_TRAIT_PREFIXES) or c in _TRAIT_VALUES]
    smd = ((means[cols] - pop[cols]) / sd[cols].where(sd[cols] > 0)).dropna()
    shown = showing.reindex(smd.index).fillna(0.0)
    score = (smd.abs() * shown)[shown >= MIN_SHOWING]
    chosen = score.sort_values(ascending=False, kind="mergesort").head(top).index
    return [{
        "feature": c, "label": trait_label(c), "value": float(means[c]),
        "population": float(pop[c]), "effect_size": float(smd[c]),
        "lift": float(means[c] / pop[c]) if pop[c] else None,
        "showing": float(shown[c]),
        "text": f"{trait_label(c)}: {_fmt(c, means[c])} vs {_fmt(c, pop[c])} overall "
                f"({percent(shown[c])} of the persona)",
    } for c in chosen]


def _goals(means: pd.Series, pop: pd.Series, stage_of: dict[str, str],
           reach: pd.Series) -> list[str]:
    shares = [c for c in means.index if c.startswith("share__")]
    lift = (means[shares] / pop[shares].where(pop[shares] > 0)).dropna()
    lift = lift[(lift >= 1.25) & (means[lift.index] >= 0.03)
                & (reach.reindex(lift.index) >= MIN_SHOWING)]
    out = []
    for col in lift.sort_values(ascending=False, kind="mergesort").index[:3]:
        tp = col.removeprefix("share__")
        template = STAGE_GOALS.get(stage_of.get(tp, ""), "spend time at {tp}")
        out.append(template.format(tp=tp))
    return out


def _typical(variants: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """The most common paths, journeys of two or more events first (one ad is not a path)."""
    longer = variants[variants["length"] >= 2]
    return (longer if len(longer) else variants).head(top)


def _persona_map(log: EventLog, customers, model: PersonaModel, pid: int) -> ProcessMap:
    sub = subset_log(log, customers, source=f"persona {pid}")
    acts = set(sub.activities)
    conv = [c for c in model.featurizer_.conversion_ if c in acts]
    return discover(sub, stages=model.featurizer_.stage_map_, conversion=conv)


def _pain_points(pm: ProcessMap, texts: pd.DataFrame | None) -> list[str]:
    out = [
        f"{r.lost_customers:,} journeys end at {r.touchpoint} without converting "
        f"({percent(r.share_of_lost)} of those lost)"
        for r in pm.dropoffs.head(2).itertuples()
    ]
    out += [f"rework: {r.pattern} for {percent(r.share_of_visitors)} of visitors"
            for r in pm.loops.head(1).itertuples()]
    if texts is not None and "sentiment" in texts and len(texts):
        tp_col = next((c for c in (ACTIVITY, "touchpoint") if c in texts.columns), None)
        neg = texts[texts["sentiment"] == "negative"]
        if tp_col and len(neg):
            worst = neg[tp_col].astype(str).value_counts().sort_index().sort_values(
                ascending=False, kind="mergesort").head(2)
            out += [f"negative texts about {tp} ({n:,})" for tp, n in worst.items()]
    return out


def _quotes(texts: pd.DataFrame | None, n: int) -> tuple[list[str], dict, dict]:
    if texts is None or not len(texts):
        return [], {}, {}
    dists = {c: texts[c].value_counts(normalize=True).sort_index().to_dict()
             for c in ("emotion", "sentiment") if c in texts}
    quotes: list[str] = []
    if "text" in texts and n:
        label = "emotion" if "emotion" in texts else "sentiment"
        top = max(dists[label], key=lambda k: (dists[label][k], k)) if dists[label] else None
        pool = texts.dropna(subset=["text"]).assign(
            _top=lambda d: d[label] != top,
            _len=lambda d: (d["text"].astype(str).str.len() - 90).abs(),
        ).sort_values(["_top", "_len", CUSTOMER, "text"], kind="mergesort")
        quotes = pool["text"].astype(str).drop_duplicates().head(n).tolist()
    return quotes, dists.get("emotion", {}), dists.get("sentiment", {})


def build_personas(model: PersonaModel, log: EventLog, texts: pd.DataFrame | None) -> list:
    """One :class:`Persona` per persona of a fitted ``model``."""
    # The features may cover a sample of the customers (see PersonaModel.features_):
    # statistics come from it, sizes and shares from every customer.
    feats, everyone = model.features_, model.labels_
    labels = everyone.reindex(feats.index)
    k = model.n_personas_
    pop, sd = feats.mean(), feats.std(ddof=0)
    means = feats.groupby(labels).mean().reindex(range(k))
    sizes = everyone.value_counts().reindex(range(k), fill_value=0)
    ch_cols = [c for c in feats.columns if c.startswith("channel_share__")]
    stage_of = model.featurizer_.stage_map_.mapping
    order = model.featurizer_.stages_
    cards: list[dict] = []
    share_cols = [c for c in feats.columns if c.startswith("share__")]
    reach = (feats[share_cols] > 0).groupby(labels).mean().reindex(range(k))
    for pid in range(k):
        m = means.loc[pid]
        members = labels.index[labels.to_numpy() == pid]
        showing = _showing(feats.loc[members], pop, m)
        pm = _persona_map(log, members, model, pid)
        ch_share = m[ch_cols].rename(lambda c: c.removeprefix("channel_share__"))
        ch_lift = (m[ch_cols] / pop[ch_cols].where(pop[ch_cols] > 0)).rename(
            lambda c: c.removeprefix("channel_share__")).fillna(0)
        funnel = {r.stage: float(r.reached_share) for r in pm.funnel.itertuples()}
        reached = [s for s in order if funnel.get(s, 0.0) >= 0.5]
        pace = _pace(feats.loc[members], feats)
        name, name_id = _name(ch_lift, ch_share, m, pop, reached[-1] if reached else None, pace)
        ptexts = None if texts is None else texts[texts[CUSTOMER].isin(members)]
        quotes, emotions, sentiment = _quotes(ptexts, model.n_quotes)
        fs = feats.loc[members, "furthest_stage"].dropna() if "furthest_stage" in feats \
            else pd.Series(dtype=float)
        view = pm if len(pm.edges) <= 30 else pm.filter(edges=0.8)
        cards.append(dict(
            id=pid, name=name, name_id=name_id, size=int(sizes[pid]),
            share=float(sizes[pid] / len(everyone)),
            traits=tuple(_traits(m, pop, sd, showing)),
            goals=tuple(_goals(m, pop, stage_of, reach.loc[pid])),
            paths=tuple({"path": list(r.path), "share": float(r.share),
                         "conversion_rate": float(r.conversion_rate)}
                        for r in _typical(pm.variants).itertuples()),
            funnel=funnel,
            channels={str(c): float(v) for c, v in ch_share.sort_values(
                ascending=False, kind="mergesort").items() if v > 0},
            furthest_stage=order[int(fs.mode().iloc[0])] if len(fs) else None,
            conversion_rate=float(m.get("converted", np.nan)),
            population_conversion_rate=float(pop.get("converted", np.nan)),
            median_seconds_to_conversion=float(
                feats.loc[members, "seconds_to_conversion"].median())
            if "seconds_to_conversion" in feats else float("nan"),
            emotions=emotions, sentiment=sentiment,
            pain_points=tuple(_pain_points(pm, ptexts)), quotes=tuple(quotes),
            stability=float(model.stability_.get(pid, np.nan)),
            k_note=model.k_note_,
            process_svg=view.to_svg(),
        ))
    _dedupe_names(cards, means, pop, reach)
    for card in cards:
        card["differences"] = tuple(_differences(card, cards, means, sd))
    return [Persona(**c) for c in cards]


def _dedupe_names(cards: list[dict], means: pd.DataFrame, pop: pd.Series,
                  reach: pd.DataFrame) -> None:
    """Make names unique: add the most over-represented common touchpoint, else a number.

    Only a touchpoint that at least :data:`MIN_SHOWING` of the persona
    visits can name it (``reach``: share of each persona's customers per
    ``share__`` column), so a rare touchpoint never does.
    """
    shares = [c for c in means.columns if c.startswith("share__")]
    for key in ("name", "name_id"):
        for round_ in ("touchpoint", "number"):
            seen: dict[str, int] = {}
            for card in cards:
                seen[card[key]] = seen.get(card[key], 0) + 1
            if max(seen.values()) == 1:
                break
            for card in cards:
                if seen[card[key]] == 1:
                    continue
                pid = card["id"]
                if round_ == "touchpoint" and shares:
                    lift = (means.loc[pid, shares] / pop[shares].where(pop[shares] > 0)).fillna(0)
                    lift = lift[reach.loc[pid, shares] >= MIN_SHOWING]
                    if len(lift):
                        tp = str(lift.idxmax()).removeprefix("share__").replace("_", " ")
                        card[key] = f"{card[key]} ({tp})"
                elif round_ == "number":
                    card[key] = f"{card[key]} #{pid + 1}"


def _pace(members: pd.DataFrame, feats: pd.DataFrame) -> str | None:
    """``"fast"``/``"slow"`` when the persona's median time per step is half / twice the usual.

    Time per step is a customer's journey duration over their steps (events
    minus one); customers with one event have none.
    """
    if "duration_seconds" not in feats or "n_events" not in feats:
        return None

    def per_step(df: pd.DataFrame) -> float:
        steps = df["n_events"] - 1
        return float((df["duration_seconds"] / steps.where(steps > 0)).median())

    mine, overall = per_step(members), per_step(feats)
    if not (overall > 0 and np.isfinite(mine)):  # e.g. every event at one timestamp
        return None
    ratio = mine / overall
    return "fast" if ratio <= 0.5 else "slow" if ratio >= 2 else None


def _differences(card: dict, cards: list[dict], means: pd.DataFrame, sd: pd.Series) -> list[str]:
    cols = [c for c in means.columns if c.startswith(_TRAIT_PREFIXES) or c in _TRAIT_VALUES]
    out = []
    for other in cards:
        if other["id"] == card["id"]:
            continue
        a, b = means.loc[card["id"], cols], means.loc[other["id"], cols]
        d = ((a - b) / sd[cols].where(sd[cols] > 0)).dropna()
        if d.empty:
            continue
        c = d.abs().idxmax()
        word = "more" if d[c] > 0 else "less"
        out.append(f"vs {other['name']}: {word} {trait_label(c)} "
                   f"({_fmt(c, a[c])} vs {_fmt(c, b[c])})")
    return out

