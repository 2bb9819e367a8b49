"""Channel attribution: :func:`attribute` gives every channel its share of the conversions.

A journey is the path of touches a customer (or, at episode grain, an
episode) made before the first conversion, within ``lookback`` of it; a
journey that never converts is every touch (within ``lookback`` of its last
event). Touches are the journey's events other than conversions, counted by
channel (``by="channel"``) or by touchpoint.

Touches are extracted from the sorted event table in vectorised NumPy passes
(each customer's events are one run of rows, see
:mod:`journeymine.discovery._positional`). The rule-based models (first,
last, linear, time decay, position, participation) weight touches directly;
the Markov chain is counted over the touches with repeats collapsed; the
Shapley value works on the distinct channel sets with their journey counts.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journeymine._util._html import html_table
from journeymine._util._json import envelope, records
from journeymine._util._optional import import_optional
from journeymine._util._params import check_choice, check_number, parse_duration
from journeymine._util._write import write_bundle
from journeymine.discovery._discover import resolve_conversion
from journeymine.discovery._grains import (
    DEFAULT_EPISODE_GAP,
    DurationLike,
    at_grain,
    check_grain,
)
from journeymine.discovery._positional import sequence_ids, sorted_events
from journeymine.eventlog._eventlog import EventLog, StagesLike, require_event_log
from journeymine.eventlog._runs import run_start_mask
from journeymine.eventlog._schema import (
    ACTIVITY,
    CHANNEL,
    CUSTOMER,
    REVENUE,
    TIMESTAMP,
    suggest,
)
from journeymine.eventlog._validate import dictionary_encode
from journeymine.exceptions import ColumnNotFoundError, InvalidParameterError
from journeymine.measurement._markov import choose_order, removal_effects
from journeymine.measurement._shapley import exact_shapley, sampled_shapley

__all__ = ["MODELS", "Attribution", "attribute"]

#: Every attribution model, in the order the table lists them.
MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position", "participation",
          "markov", "shapley")
#: Models computed by default (participation does not add up to the total, so it is opt-in).
DEFAULT_MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position", "markov",
                  "shapley")
#: Columns of :attr:`Attribution.table`.
COLUMNS = ("channel", "model", "credit", "share", "credit_se", "role")
ROLES = ("opens", "assists", "closes")
FORMAT_VERSION = 1


# --------------------------------------------------------------------------- result
@dataclasses.dataclass(frozen=True, repr=False)
class Attribution:
    """Credit per channel and model, returned by :func:`attribute`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model and channel (tidy): ``channel`` (the touchpoint
        with ``by="touchpoint"``), ``model``, ``credit`` (conversions or
        revenue), ``share`` (of the model's total), ``credit_se`` (standard
        error of a sampled Shapley credit, else NaN) and ``role``. Models in
        the order asked for, channels by credit within a model.
    roles : pandas.DataFrame
        Per channel, over converting journeys: ``opens`` (journeys it
        starts), ``assists`` (journeys it touches in between), ``closes``
        (journeys it ends), each also as a share of its column's total
        (``opens_share``, ...), and ``role``: the largest of the three shares
        (``"none"`` for a channel without touches in converting journeys).
    models : tuple of str
    by : str
        ``"channel"`` or ``"touchpoint"``.
    value : str
        ``"conversions"`` or ``"revenue"``.
    grain : str
        ``"customer"`` or ``"episode"``.
    conversion : tuple of str
        The converting touchpoints.
    summary : dict
        ``journeys``, ``converting`` (journeys), ``total`` (the value
        credited: conversions or revenue of converting journeys with at
        least one touch), ``unattributed`` (value of converting journeys
        without a touch, e.g. direct visits), ``paths`` (distinct touch
        paths), ``channels``, ``lookback_seconds``, ``half_life_seconds``,
        ``position_weights``, ``markov_order`` and ``shapley`` (``"exact"``
        or ``"sampled"``, with ``shapley_samples``).
    markov_orders : pandas.DataFrame or None
        With ``markov_order="auto"``: per order, the mean held-out
        log-likelihood per step and the number of states.
    """

    table: pd.DataFrame
    roles: pd.DataFrame
    models: tuple[str, ...]
    by: str
    value: str
    grain: str
    conversion: tuple[str, ...]
    summary: dict[str, Any]
    markov_orders: pd.DataFrame | None = None

    def to_frame(self, wide: bool = False) -> pd.DataFrame:
        """The tidy table (a copy), or with ``wide=True`` credits as channel × model.

        Examples
        --------
        >>> import journeymine as jm
        >>> a = jm.attribute(jm.datasets.make_journeys(300, random_state=0),
        ...                  model=["first_touch", "linear"])
        >>> list(a.to_frame(wide=True).columns)
        ['first_touch', 'linear']
        """
        if not wide:
            return self.table.copy()
        out = self.table.pivot(index="channel", columns="model", values="credit")
        out = out[list(self.models)]
        out.columns.name = None
        return out.sort_values(list(self.models)[-1], ascending=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in the ``journeymine.attribution`` envelope."""
        return envelope("journeymine.attribution", FORMAT_VERSION, {
            "by": self.by, "value": self.value, "grain": self.grain,
            "models": list(self.models), "conversion": list(self.conversion),
            "summary": dict(self.summary),
            "credits": records(self.table, list(COLUMNS)),
            "roles": records(self.roles, list(self.roles.columns)),
            "markov_orders": None if self.markov_orders is None
            else records(self.markov_orders, list(self.markov_orders.columns)),
        })

    def __repr__(self) -> str:
        s = self.summary
        last = self.table[self.table["model"] == self.models[-1]]
        top = (f"; top by {self.models[-1]}: {last['channel'].iloc[0]} "
               f"{last['share'].iloc[0]:.0%}") if len(last) and s["total"] > 0 else ""
        unit = "revenue" if self.value == "revenue" else "conversions"
        return (f"Attribution({len(self.models)} models × {s['channels']} {self.by}s, "
                f"{s['total']:,.0f} {unit} of {s['converting']:,} converting / "
                f"{s['journeys']:,} {self.grain} journeys{top})")

    def shares(self) -> pd.DataFrame:
        """Shares as channel × model (models in the order asked for), by the last model's share.

        Examples
        --------
        >>> import journeymine as jm
        >>> a = jm.attribute(jm.datasets.make_journeys(300, random_state=0),
        ...                  model=["first_touch", "linear"])
        >>> a.shares().sum().round(6).tolist()
        [1.0, 1.0]
        """
        out = self.table.pivot(index="channel", columns="model", values="share")
        out = out[list(self.models)].sort_values(self.models[-1], ascending=False)
        out.columns.name = None
        return out

    def to_html(self, *, title: str = "Channel attribution") -> str:
        """A self-contained HTML page: each channel's share under every model, and its roles."""
        from journeymine.reporting._attribution_report import render_attribution_report

        return render_attribution_report(self, title=title)

    def save(self, out_dir: str | PathLike[str]) -> list[Path]:
        """Write ``attribution.csv``, ``roles.csv``, ``attribution.json`` and ``attribution.html``.

        All or nothing, into ``out_dir`` (created if missing); returns the paths.

        Examples
        --------
        >>> import tempfile, journeymine as jm
        >>> a = jm.attribute(jm.datasets.make_journeys(300, random_state=0), model="linear")
        >>> [p.name for p in a.save(tempfile.mkdtemp())]
        ['attribution.csv', 'roles.csv', 'attribution.json', 'attribution.html']
        """
        page = self.to_html()
        return write_bundle(out_dir, {
            "attribution.csv": lambda p: self.table.to_csv(p, index=False),
            "roles.csv": lambda p: self.roles.to_csv(p, index=False),
            "attribution.json": lambda p: p.write_text(
                json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"),
            "attribution.html": lambda p: p.write_text(page, encoding="utf-8"),
        })

    def _repr_html_(self) -> str:
        shares = self.table.pivot(index="channel", columns="model", values="share")
        shares = shares[list(self.models)].sort_values(self.models[-1], ascending=False)
        role = self.roles.set_index("channel")["role"]
        rows = ((ch, *(f"{v:.1%}" for v in row), role.get(ch, ""))
                for ch, row in zip(shares.index, shares.to_numpy(), strict=True))
        return html_table(repr(self), (self.by, *self.models, "role"), rows)

    def plot(self, ax=None):
        """Horizontal bars: each channel's share under every model.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure by default.

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        OptionalDependencyError
            matplotlib is not installed.
        """
        plt = import_optional("matplotlib.pyplot", "Attribution.plot()")
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.45 * self.summary["channels"] + 1.5))
        shares = self.table.pivot(index="channel", columns="model", values="share")
        shares = shares[list(self.models)].sort_values(self.models[-1])
        height = 0.8 / len(self.models)
        y = np.arange(len(shares))
        for i, name in enumerate(self.models):
            ax.barh(y + i * height - 0.4 + height / 2, shares[name].to_numpy(), height,
                    label=name.replace("_", " "))
        ax.set_yticks(y, [str(c) for c in shares.index])
        ax.set_xlabel(f"share of {self.value}")
        ax.set_title(f"Attribution by {self.by} ({self.grain} journeys)")
        ax.legend(loc="lower right", fontsize="small")
        return ax


# --------------------------------------------------------------------------- validation
def _check_models(model: str | Iterable[str]) -> tuple[str, ...]:
    names = [model] if isinstance(model, str) else list(model)
    if not names:
        raise InvalidParameterError(
            "model is empty.", expected=f"one or more of {', '.join(MODELS)}.",
            fix="Pass e.g. model='markov' or leave the default.")
    out: list[str] = []
    for name in names:
        if name not in MODELS:
            close = suggest(str(name), MODELS)
            raise InvalidParameterError(
                f"Unknown attribution model {name!r}.",
                expected=f"one of {', '.join(map(repr, MODELS))}.",
                fix=(f"Did you mean {close!r}? " if close else "")
                + "Pass model names from the list.")
        if name not in out:
            out.append(name)
    return tuple(out)


def _check_weights(weights: Any) -> tuple[float, float, float]:
    expected = ("three non-negative numbers (first, middle, last) that sum to 1, "
                "e.g. (0.4, 0.2, 0.4).")
    try:
        values = tuple(float(w) for w in weights)
        ok = (len(values) == 3 and all(math.isfinite(w) and w >= 0 for w in values)
              and not isinstance(weights, str))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidParameterError(
            f"position_weights={weights!r} are not three non-negative numbers.",
            expected=expected, fix="Pass e.g. (0.4, 0.2, 0.4) for U-shaped, "
            "(0.2, 0.2, 0.6) for J-shaped.")
    if abs(sum(values) - 1) > 1e-9:
        raise InvalidParameterError(
            f"position_weights={weights!r} sum to {sum(values):g}, not 1.",
            expected=expected, fix="Scale the weights so they sum to 1.")
    return values


# --------------------------------------------------------------------------- touches
@dataclasses.dataclass(frozen=True)
class _Touches:
    """Touches of every journey with one, grouped by journey (flat NumPy arrays)."""

    code: np.ndarray  # unit (channel or touchpoint) code per touch
    journey: np.ndarray  # 0..J-1 per touch, non-decreasing
    first: np.ndarray  # first touch of its journey
    seconds_before: np.ndarray  # seconds from the touch to the journey's reference time
    converted: np.ndarray  # per journey
    value: np.ndarray  # per journey: 1 or the conversion's revenue (0 if not converted)


def _touches(table: pa.Table, unit: str, conversion: tuple[str, ...], revenue: bool,
             lookback: pd.Timedelta | None) -> tuple[_Touches, list[str], dict[str, float]]:
    """Extract the touches before each journey's first conversion; also the unit names."""
    table = sorted_events(table)
    n = table.num_rows
    new = run_start_mask(table.column(CUSTOMER))  # a log is never empty
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    run_of = np.repeat(np.arange(len(starts)), ends - starts)
    activity = dictionary_encode(table.column(ACTIVITY))
    converting = np.isin(np.array(activity.dictionary.to_pylist(), dtype=object),
                         np.array(conversion, dtype=object))
    is_conv = converting[activity.indices.to_numpy()]
    encoded = activity if unit == ACTIVITY else dictionary_encode(table.column(CHANNEL))
    names = [str(x) for x in encoded.dictionary.to_pylist()]
    codes = encoded.indices.fill_null(-1).to_numpy()
    micros = table.column(TIMESTAMP).to_numpy().astype("datetime64[us]").view(np.int64)

    conv_rows = np.flatnonzero(is_conv)
    conv_runs, at = np.unique(run_of[conv_rows], return_index=True)
    first_conv = ends.copy()
    first_conv[conv_runs] = conv_rows[at]
    converted = first_conv < ends
    reference = micros[np.where(converted, first_conv, ends - 1)]
    value = converted.astype(float)
    if revenue:
        money = pc.fill_null(table.column(REVENUE), 0).to_numpy().astype(float)
        # the run of consecutive conversion events that starts at the first conversion
        block = np.cumsum(np.concatenate(([True], ~(is_conv[1:] & is_conv[:-1] & ~new[1:]))))
        per_block = np.bincount(block, weights=np.where(is_conv, money, 0.0))
        value = np.where(converted, per_block[block[np.minimum(first_conv, n - 1)]], 0.0)
    keep = (np.arange(n) < first_conv[run_of]) & (codes >= 0)
    if lookback is not None:
        keep &= micros >= reference[run_of] - lookback.value // 1000
    rows = np.flatnonzero(keep)
    runs = run_of[rows]
    has_touch = np.zeros(len(starts), dtype=bool)
    has_touch[runs] = True
    renumber = np.cumsum(has_touch) - 1
    first = np.ones(len(rows), dtype=bool)
    first[1:] = runs[1:] != runs[:-1]
    stats = {
        "journeys": len(starts),
        "converting": int(converted.sum()),
        "unattributed": float(value[converted & ~has_touch].sum()),
    }
    touches = _Touches(
        code=codes[rows].astype(np.int64), journey=renumber[runs], first=first,
        seconds_before=(reference[runs] - micros[rows]) / 1e6,
        converted=converted[has_touch], value=value[has_touch],
    )
    return touches, names, stats


# --------------------------------------------------------------------------- rule-based models
def _rule_weights(t: _Touches, model: str, half_life: pd.Timedelta,
                  weights: tuple[float, float, float]) -> np.ndarray:
    """Each touch's fraction of its journey's credit under a rule-based model."""
    n = len(t.code)
    starts = np.flatnonzero(t.first)
    length = np.diff(np.append(starts, n))[t.journey]
    position = np.arange(n) - starts[t.journey]
    if model == "first_touch":
        return (position == 0).astype(float)
    if model == "last_touch":
        return (position == length - 1).astype(float)
    if model == "linear":
        return 1.0 / length
    if model == "time_decay":
        decay = np.exp2(-t.seconds_before / half_life.total_seconds())
        return decay / np.bincount(t.journey, weights=decay)[t.journey]
    if model == "participation":  # 1 for each distinct unit of the journey
        order, new = _first_of_each_unit(t)
        out = np.zeros(n)
        out[order] = new
        return out
    w_first, w_middle, w_last = weights  # position-based
    ends = w_first + w_last
    two = (np.where(position == 0, w_first, w_last) / ends) if ends > 0 else np.full(n, 0.5)
    many = np.where(position == 0, w_first, np.where(position == length - 1, w_last,
                                                     w_middle / np.maximum(length - 2, 1)))
    return np.select([length == 1, length == 2], [1.0, two], many)


def _first_of_each_unit(t: _Touches) -> tuple[np.ndarray, np.ndarray]:
    """The touches in (journey, unit) order, and whether each is its journey's first of its unit."""
    order = np.lexsort((t.code, t.journey))
    journey, code = t.journey[order], t.code[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (journey[1:] != journey[:-1]) | (code[1:] != code[:-1])
    return order, new


def _roles(t: _Touches, names: list[str]) -> pd.DataFrame:
    """Per unit: converting journeys it opens, assists (in between) and closes."""
    conv = t.converted[t.journey]
    k = len(names)
    starts = np.flatnonzero(t.first)
    last = np.append(t.first[1:], True)
    middle = conv & ~t.first & ~last
    # a unit assists a journey once, however often it appears in between
    key = np.unique(t.journey[middle].astype(np.int64) * max(k, 1) + t.code[middle])
    counts = {
        "opens": np.bincount(t.code[starts][t.converted], minlength=k),
        "assists": np.bincount(key % max(k, 1), minlength=k),
        "closes": np.bincount(t.code[last & conv], minlength=k),
    }
    out = pd.DataFrame({"channel": names, **{r: c.astype(np.int64) for r, c in counts.items()}})
    for r in ROLES:
        total = out[r].sum()
        out[f"{r}_share"] = out[r] / total if total else 0.0
    shares = out[[f"{r}_share" for r in ROLES]].to_numpy()
    out["role"] = np.where(shares.max(axis=1) > 0, np.array(ROLES)[shares.argmax(axis=1)], "none")
    return out


# --------------------------------------------------------------------------- chain models
def _collapse_repeats(t: _Touches) -> tuple[np.ndarray, np.ndarray]:
    """Codes and first flags with consecutive repeats of a unit within a journey removed."""
    keep = t.first.copy()
    keep[1:] |= t.code[1:] != t.code[:-1]
    return t.code[keep], t.first[keep]


def _coalitions(t: _Touches, n_units: int):
    """Distinct unit sets: members (flat), offsets, journeys and value per set."""
    order, new = _first_of_each_unit(t)
    journey, code = t.journey[order][new], t.code[order][new]
    starts = np.flatnonzero(np.concatenate(([True], journey[1:] != journey[:-1])))
    set_of, n_sets = sequence_ids(code, starts)  # per journey
    journeys = np.bincount(set_of, minlength=n_sets)
    value = np.bincount(set_of, weights=np.where(t.converted, t.value, 0.0), minlength=n_sets)
    rep = np.zeros(n_sets, dtype=np.int64)
    rep[set_of[::-1]] = np.arange(len(set_of))[::-1]  # the first journey of each set
    lengths = np.diff(np.append(starts, len(code)))
    sizes = lengths[rep]
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    members = code[np.repeat(starts[rep] - offsets, sizes) + np.arange(int(sizes.sum()))]
    return members, offsets, journeys, value


def _shapley_credit(t: _Touches, n_units: int, max_exact: int, n_samples: int,
                    random_state) -> tuple[np.ndarray, np.ndarray, str]:
    """Shapley values per unit (scaled later), their standard errors and the method."""
    if not len(t.code):
        return np.zeros(n_units), np.full(n_units, np.nan), "exact"
    members, offsets, journeys, value = _coalitions(t, n_units)
    rates = value / np.maximum(journeys, 1)
    players = np.unique(members)
    local = np.searchsorted(players, members)
    phi, se = np.zeros(n_units), np.full(n_units, np.nan)
    if len(players) <= max_exact:
        masks = np.bitwise_or.reduceat(np.left_shift(1, local), offsets)
        phi[players] = exact_shapley(masks, rates, len(players))
        return phi, se, "exact"
    values, errors = sampled_shapley(local, offsets, rates, len(players), n_samples,
                                              random_state)
    phi[players], se[players] = values, errors
    return phi, se, "sampled"


# --------------------------------------------------------------------------- entry point
def attribute(
    log: EventLog,
    conversion: str | Iterable[str] | None = None,
    *,
    model: str | Iterable[str] = DEFAULT_MODELS,
    by: str = "channel",
    lookback: DurationLike | None = None,
    value: str = "conversions",
    half_life: DurationLike = "7D",
    position_weights: Sequence[float] = (0.4, 0.2, 0.4),
    markov_order: int | str = 1,
    max_markov_order: int = 4,
    grain: str = "customer",
    episode_gap: DurationLike | None = DEFAULT_EPISODE_GAP,
    stages: StagesLike = None,
    n_samples: int = 2000,
    max_exact: int = 12,
    random_state: int | np.random.Generator | None = 0,
) -> Attribution:
    """Credit each channel (or touchpoint) with its share of the conversions or revenue.

    Parameters
    ----------
    log : EventLog
        The events.
    conversion : str or list of str, optional
        Converting touchpoints or stages; by default the purchase-stage
        touchpoints with revenue (see
        :func:`~journeymine.discovery.resolve_conversion`).
    model : str or list of str, default all but ``"participation"``
        Any of:

        * ``"first_touch"``, ``"last_touch"``: all credit to the first or
          last touch of the journey;
        * ``"linear"``: equal credit to every touch;
        * ``"time_decay"``: a touch's weight halves every ``half_life``
          before the conversion;
        * ``"position"``: ``position_weights`` of the credit to the first,
          the touches in between, and the last touch;
        * ``"participation"``: the full value to every distinct channel of
          the journey (shares add up to more than 1);
        * ``"markov"``: removal effects of an order-``markov_order`` Markov
          chain over all journeys, converting or not, with consecutive
          repeats of a channel collapsed; credit is proportional to them;
        * ``"shapley"``: Shapley values of the channel-set game whose
          coalitions are worth the sum of the conversion rates of the
          channel sets they contain (see :mod:`journeymine.measurement._shapley`);
          exact up to ``max_exact`` channels, else sampled (``credit_se``).
    by : {"channel", "touchpoint"}, default "channel"
        What gets credit.
    lookback : str or Timedelta, optional
        Only touches within this of the conversion count (of the last event
        for a journey that does not convert); all touches by default.
    value : {"conversions", "revenue"}, default "conversions"
        What is credited: one per converting journey, or the revenue of its
        conversion (the revenue on the run of conversion events it ends with).
    half_life : str or Timedelta, default "7D"
        Time decay: the half-life of a touch's weight.
    position_weights : three floats, default (0.4, 0.2, 0.4)
        Position model: weights of first, middle and last touches, summing to
        1 (U-shaped; ``(0.6, 0.2, 0.2)`` inverse-J, ``(0.2, 0.2, 0.6)`` J).
        A two-touch journey splits first : last in their ratio.
    markov_order : int or "auto", default 1
        Order of the Markov chain; ``"auto"`` picks 1 to ``max_markov_order``
        by 5-fold held-out log-likelihood (seeded by ``random_state``).
    max_markov_order : int, default 4
    grain : {"customer", "episode"}, default "customer"
        ``"episode"`` attributes every purchase, not only the first: each
        journey is an episode (see :func:`~journeymine.episodes`).
    episode_gap : str, Timedelta or None, default 30 days
        Episode grain: the inactivity that starts a new episode.
    stages : StageMap, dict or path, optional
        Stage map used to find the default conversion.
    n_samples : int, default 2000
        Sampled Shapley: the number of random channel orderings.
    max_exact : int, default 12
        Shapley is exact up to this many channels (``2**max_exact`` coalitions).
    random_state : int, numpy Generator or None, default 0
        Seed of the sampled Shapley value and of the Markov order folds.

    Returns
    -------
    Attribution

    Raises
    ------
    InvalidParameterError
        An unknown model or choice, bad position weights, a half-life or
        lookback that is not a duration, or an out-of-range number.
    ColumnNotFoundError
        ``by="channel"`` on a log without a channel column, or
        ``value="revenue"`` without a revenue column.
    UnknownTouchpointError
        ``conversion`` names neither a touchpoint nor a stage.

    Notes
    -----
    Converting journeys without any touch (e.g. a purchase as the first
    event) have nothing to credit; their value is
    ``summary["unattributed"]``. Every model but participation credits
    exactly ``summary["total"]``.

    Examples
    --------
    Customer a: ``social > search > buy``, b: ``social > buy``, c: ``search``.

    >>> import pandas as pd, journeymine as jm
    >>> df = pd.DataFrame({
    ...     "customer_id": ["a", "a", "a", "b", "b", "c"],
    ...     "touchpoint": ["ad", "search", "buy", "ad", "buy", "search"],
    ...     "channel": ["social", "search", "web", "social", "web", "search"],
    ...     "ts": pd.date_range("2024-01-01", periods=6, freq="D")})
    >>> a = jm.attribute(jm.EventLog.from_pandas(df), conversion="buy",
    ...                  model=["last_touch", "linear", "markov"])
    >>> a.to_frame(wide=True)  # doctest: +NORMALIZE_WHITESPACE
            last_touch  linear  markov
    channel
    social         1.0     1.5     1.2
    search         1.0     0.5     0.8
    web            0.0     0.0     0.0
    >>> a.roles.set_index("channel")["role"].to_dict()
    {'social': 'opens', 'search': 'closes', 'web': 'none'}
    """
    require_event_log(log, "attribute()")
    models = _check_models(model)
    by = check_choice("by", by, ("channel", "touchpoint"))
    value = check_choice("value", value, ("conversions", "revenue"))
    grain = check_grain(grain)
    if grain == "session":
        raise InvalidParameterError(
            "grain='session' does not fit attribution: a session rarely holds the touches "
            "that led to a purchase.", expected="grain 'customer' or 'episode'.",
            fix="Use grain='episode' to attribute every purchase.")
    columns = log.table.column_names
    if by == "channel" and CHANNEL not in columns:
        raise ColumnNotFoundError(
            "by='channel' needs a channel column, and this log has none.",
            expected="a channel column (named like 'channel', 'kanal', 'medium', 'source').",
            fix="Pass by='touchpoint', or name the column with jm.read_csv(..., channel=...).")
    if value == "revenue" and REVENUE not in columns:
        raise ColumnNotFoundError(
            "value='revenue' needs a revenue column, and this log has none.",
            expected="a revenue column (named like 'revenue', 'amount', 'order_value').",
            fix="Pass value='conversions', or name the column with "
            "jm.read_csv(..., revenue=...).")
    half = parse_duration(half_life, "half_life")
    window = None if lookback is None else parse_duration(lookback, "lookback")
    weights = _check_weights(position_weights)
    max_order = check_number("max_markov_order", max_markov_order, low=1, high=8, integer=True)
    if markov_order != "auto":
        markov_order = check_number("markov_order", markov_order, low=1, high=max_order,
                                    integer=True)
    n_samples = check_number("n_samples", n_samples, low=2, integer=True)
    max_exact = check_number("max_exact", max_exact, low=1, high=20, integer=True)

    conv = resolve_conversion(log, log.stage_map(stages), conversion)
    table = log.table
    if grain == "episode":
        table = at_grain(log, "episode", episode_gap=episode_gap, conversion=conv).log.table
    t, names, stats = _touches(table, ACTIVITY if by == "touchpoint" else CHANNEL, conv,
                               value == "revenue", window)
    k = len(names)
    per_journey = np.where(t.converted, t.value, 0.0)
    total = float(per_journey.sum())
    credit: dict[str, np.ndarray] = {}
    errors: dict[str, np.ndarray] = {}
    extra: dict[str, Any] = {}
    orders = None
    for name in models:
        if name in ("markov", "shapley"):
            continue
        w = _rule_weights(t, name, half, weights) * per_journey[t.journey]
        credit[name] = np.bincount(t.code, weights=w, minlength=k)
    if "markov" in models:
        codes, first = _collapse_repeats(t)
        order = markov_order
        if order == "auto":
            order, scores = choose_order(codes, first, t.converted, max_order,
                                                 random_state=random_state)
            orders = pd.DataFrame(scores)
        effects = removal_effects(codes, first, t.converted, t.value, k, order)
        credit["markov"] = _scale(effects, total)
        extra["markov_order"] = order
        extra["markov_removal_effects"] = dict(zip(names, effects.tolist(), strict=True))
    if "shapley" in models:
        phi, se, method = _shapley_credit(t, k, max_exact, n_samples, random_state)
        scale = total / phi.sum() if phi.sum() > 0 else 0.0
        credit["shapley"], errors["shapley"] = phi * scale, se * scale
        extra["shapley"] = method
        extra["shapley_samples"] = n_samples if method == "sampled" else None

    roles = _roles(t, names)
    role_of = roles.set_index("channel")["role"]
    frames = []
    for name in models:
        c = credit[name]
        frame = pd.DataFrame({
            "channel": names, "model": name, "credit": c,
            "share": c / total if total > 0 else np.zeros(k),
            "credit_se": errors.get(name, np.full(k, np.nan)),
        })
        frames.append(frame.sort_values(["credit", "channel"], ascending=[False, True],
                                        kind="stable"))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    out["role"] = out["channel"].map(role_of)
    summary = {
        **stats, "total": total, "paths": _n_paths(t), "channels": k,
        "lookback_seconds": None if window is None else window.total_seconds(),
        "half_life_seconds": half.total_seconds(), "position_weights": list(weights), **extra,
    }
    return Attribution(out[list(COLUMNS)], roles, models, by, value, grain, conv, summary,
                       orders)


def _scale(effects: np.ndarray, total: float) -> np.ndarray:
    """``effects`` rescaled to add up to ``total`` (zeros when they are all zero)."""
    s = effects.sum()
    return effects / s * total if s > 0 else np.zeros_like(effects)


def _n_paths(t: _Touches) -> int:
    """Number of distinct touch sequences."""
    return sequence_ids(t.code, np.flatnonzero(t.first))[1]
