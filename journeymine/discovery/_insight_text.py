"""The sentences of :func:`~journeymine.insights`, in English and Indonesian.

One template per kind of finding and language, filled from a finding's row:
counts with the language's thousands separator (``1,234`` / ``1.234``),
shares as percentages (``12,5%`` in Indonesian), waits in words, and the unit
of the grain (sessions / sesi, journeys / perjalanan).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from journeymine.reporting._format import humanize_seconds

_SENTENCES = {
    ("drop-off", "en"): "{cases} {units} ended at {where} without converting: {p1} of its "
                        "{visits} visits were the last step, against {p0} for a typical step.",
    ("drop-off", "id"): "{cases} {units} berhenti di {where} tanpa konversi: {p1} dari {visits} "
                        "kunjungannya menjadi langkah terakhir, dibanding {p0} untuk langkah lain.",
    ("loop", "en"): "{customers} customers went round {where} ({extra} extra steps); they "
                    "converted {p1} against {p0} for similar {units} without the loop.",
    ("loop", "id"): "{customers} pelanggan berputar di {where} ({extra} langkah tambahan); "
                    "konversi mereka {p1} dibanding {p0} untuk {units} serupa tanpa putaran itu.",
    ("slow step", "en"): "Customers wait a median {median} for {where} ({fold}× the {compared}): "
                         "{loss} hours lost across {customers} customers.",
    ("slow step", "id"): "Pelanggan menunggu median {median} untuk {where} ({fold}× {compared}): "
                         "{loss} jam hilang untuk {customers} pelanggan.",
    ("event", "en"): "{Units} with {where} converted {p1} against {p0} for {units} of similar "
                     "length without it.",
    ("event", "id"): "{Units} dengan {where} berkonversi {p1} dibanding {p0} untuk {units} "
                     "sepanjang itu tanpa {where}.",
    ("event after", "en"): "{Units} with {where} converted {p1} against {p0} for {units} of "
                           "similar length that reached {entry} without it.",
    ("event after", "id"): "{Units} dengan {where} berkonversi {p1} dibanding {p0} untuk {units} "
                           "sepanjang itu yang sampai di {entry} tanpa {where}.",
    ("incident", "en"): "From {start} to {end}, {touchpoint} appeared in {rate_in} of {units} "
                        "(usually {rate_out}) and conversion was {p1} against {p0}: about "
                        "{loss} conversions {lost}.",
    ("incident", "id"): "Dari {start} sampai {end}, {touchpoint} muncul di {rate_in} {units} "
                        "(biasanya {rate_out}) dan konversi {p1} dibanding {p0}: sekitar "
                        "{loss} konversi {lost}.",
    ("channel switch", "en"): "Customers who moved from {from_channel} to {to_channel} at "
                              "{source} → {target} converted {p1} against {p0} for others at "
                              "{source}.",
    ("channel switch", "id"): "Pelanggan yang pindah dari {from_channel} ke {to_channel} di "
                              "{source} → {target} berkonversi {p1} dibanding {p0} untuk "
                              "pelanggan lain di {source}.",
    ("negative emotion", "en"): "{p1} of texts about {where} are negative, against {p0} "
                                "elsewhere ({cases} texts from {customers} customers).",
    ("negative emotion", "id"): "{p1} teks tentang {where} bernada negatif, dibanding {p0} di "
                                "titik sentuh lain ({cases} teks dari {customers} pelanggan).",
}


#: What a slow step's wait is compared with (see ``_slow_steps``): the typical wait of
#: other steps out of its source, into its target, or of all steps.
_COMPARED = {("after", "en"): "{typical} of other steps after {source}",
             ("into", "en"): "{typical} of other steps into {target}",
             ("all", "en"): "typical {typical} wait",
             ("after", "id"): "waktu tunggu {typical} langkah lain setelah {source}",
             ("into", "id"): "waktu tunggu {typical} langkah lain menuju {target}",
             ("all", "id"): "waktu tunggu biasa {typical}"}


_UNITS = {("session", "en"): "sessions", ("episode", "en"): "journeys",
          ("customer", "en"): "journeys", ("session", "id"): "sesi",
          ("episode", "id"): "perjalanan", ("customer", "id"): "perjalanan"}


_LOST = {("en", True): "lost", ("en", False): "gained", ("id", True): "hilang",
         ("id", False): "bertambah"}


def _number(value: float, lang: str) -> str:
    text = f"{round(float(value)):,}"
    return text.replace(",", ".") if lang == "id" else text


def _share(value: float, lang: str) -> str:
    if not np.isfinite(value):
        return "n/a"
    text = f"{100 * value:.0f}%" if value >= 0.1 or value == 0 else f"{100 * value:.1f}%"
    return text.replace(".", ",") if lang == "id" else text


def _sentence(row: pd.Series, grain: str, lang: str) -> str:
    units = _UNITS[grain, lang]
    values: dict[str, Any] = {
        "where": row["where"], "units": units, "Units": units[:1].upper() + units[1:],
        "customers": _number(row["customers"], lang), "cases": _number(row["cases"], lang),
        "loss": _number(abs(row["loss"]), lang),
    }
    for key in ("p1", "p0", "rate_in", "rate_out"):
        if key in row and pd.notna(row[key]):
            values[key] = _share(row[key], lang)
    kind = row["kind"]
    if kind == "drop-off":
        values.update(visits=_number(row["visits"], lang), p1=_share(row["rate"], lang),
                      p0=_share(row["base"], lang))
    elif kind == "loop":
        values["extra"] = _number(row["extra_steps"], lang)
    elif kind == "slow step":
        fold = row["median"] / row["typical"]
        values.update(median=humanize_seconds(row["median"]),
                      compared=_COMPARED[row["compared"], lang].format(
                          typical=humanize_seconds(row["typical"]), source=row["source"],
                          target=row["target"]),
                      fold=f"{fold:.0f}" if fold >= 10 else f"{fold:.1f}")
    elif kind == "incident":
        values.update(start=f"{row['start']:%Y-%m-%d}", end=f"{row['end']:%Y-%m-%d}",
                      touchpoint=row["touchpoint"], lost=_LOST[lang, row["loss"] >= 0])
    elif kind == "channel switch":
        values.update({k: row[k] for k in ("from_channel", "to_channel", "source", "target")})
    elif kind == "event" and row["entry"]:
        values["entry"] = row["entry"]
        kind = "event after"
    return _SENTENCES[kind, lang].format(**values)
