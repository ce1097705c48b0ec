"""The baseline for ``validate_1m_ratio``: the same rules as plain vectorised pandas, no framework.

Starts from the same parsed text columns (pandas "str" dtype) as the engine, builds the same typed
columns with the same kinds of operation (Arrow-backed regex match, casts), and evaluates every rule
the engine evaluates on a file that passed the file rules: R01–R17 and W01–W04 (W05 needs the
warehouse and is off in both). It returns a count per rule and no messages: on the valid benchmark
rows the engine builds no messages either, so both do the same work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surgehub import spec

if TYPE_CHECKING:
    from datetime import date

    import pandas as pd

    from surgehub.register import RegisterView

_INTEGER = r"^-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)$"
_DECIMAL = r"^-?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{0,2})?|\.[0-9]{1,2})$"
_NHS_CANDIDATE = r"(?<![0-9])([0-9](?:[ -]?[0-9]){9})(?![0-9])"


def check(
    table: pd.DataFrame,
    *,
    locality: str,
    received_day: date,
    season: tuple[date, date],
    window_days: int,
    register: RegisterView,
) -> dict[str, int]:
    """Every rule's failing-row count on ``table`` (spec columns as text + row_number), against
    ``register`` (the localities and hubs, as the engine is given them)."""
    import numpy as np
    import pandas as pd

    counts: dict[str, int] = {}
    typed: dict[str, pd.Series] = {}
    r01 = np.zeros(len(table), dtype=bool)
    r02 = np.zeros(len(table), dtype=bool)
    r03 = np.zeros(len(table), dtype=bool)
    for col in spec.COLUMNS:
        s = table[col.name]
        blank = s.isna() | (s == "")
        if col.required:
            r02 |= blank.to_numpy()
        if col.kind in ("integer", "decimal"):
            ok = s.str.match(_INTEGER if col.kind == "integer" else _DECIMAL).fillna(False)
            r01 |= (~blank & ~ok).to_numpy()
            # Arrow's cast (pandas' own float64 cast of text goes through Python objects: 10× slower).
            number = s.where(ok).str.replace(",", "").astype("double[pyarrow]").astype("float64")
            typed[col.name] = number
            r03 |= ((number < col.minimum) | (number > col.maximum)).fillna(False).to_numpy()
        elif col.kind == "date":
            iso = s.str.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fillna(False)
            uk = s[~iso].str.extract(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
            text = s.where(iso)
            text[~iso] = uk[2] + "-" + uk[1].str.zfill(2) + "-" + uk[0].str.zfill(2)
            day = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            r01 |= (~blank & day.isna()).to_numpy()
            typed[col.name] = day
        else:
            text = s.str.upper() if col.kind in ("code", "hub", "status") else s
            typed[col.name] = text.where(~blank)
            if col.max_length is not None:
                r03 |= (s.str.len() > col.max_length).fillna(False).to_numpy()
    counts["R01"], counts["R02"] = int(r01.sum()), int(r02.sum())
    t = pd.DataFrame(typed)

    status = t["hub_status"]
    counts["R03"] = int(r03.sum())
    counts["R04"] = int((status.notna() & ~status.isin(["OPEN", "CLOSED_PLANNED", "CLOSED_UNPLANNED"])).sum())
    known = {loc.sub_icb_code for loc in register.localities}
    sub = t["sub_icb_code"]
    counts["R05"] = int((sub.notna() & (~sub.isin(known) | (sub != locality))).sum())
    register = pd.DataFrame(
        [(h.hub_code, h.sub_icb_code, h.active_from, h.active_to) for h in register.hubs],
        columns=["hub_code", "reg_sub", "active_from", "active_to"],
    ).astype({"active_from": "datetime64[ns]", "active_to": "datetime64[ns]"})
    rows = t[["hub_code", "sub_icb_code", "activity_date"]].merge(register, on="hub_code", how="left")
    bad_hub = rows["hub_code"].notna() & (
        rows["reg_sub"].isna()
        | (rows["sub_icb_code"].notna() & (rows["reg_sub"] != rows["sub_icb_code"]))
        | (rows["activity_date"] < rows["active_from"])
        | (rows["activity_date"] > rows["active_to"])
    )
    counts["R06"] = int(bad_hub.sum())
    day = t["activity_date"]
    received = pd.Timestamp(received_day)
    counts["R07"] = int(
        (
            (day < pd.Timestamp(season[0]))
            | (day > pd.Timestamp(season[1]))
            | (day > received)
            | (day < received - pd.Timedelta(days=window_days))
        ).sum()
    )
    keyed = t[["activity_date", "hub_code"]].dropna()
    counts["R08"] = int(keyed.duplicated().sum())
    g = t
    counts["R09"] = int((g["appts_booked"] > g["appts_offered"]).sum())
    counts["R10"] = int((g["appts_attended"] > g["appts_booked"]).sum())
    counts["R11"] = int((g["appts_attended"] + g["appts_dna"] > g["appts_booked"]).sum())
    counts["R12"] = int((g["attended_f2f"] + g["attended_remote"] != g["appts_attended"]).dropna().sum())
    sources = g["src_practice"] + g["src_nhs111"] + g["src_ed_streaming"] + g["src_other"]
    counts["R13"] = int(((sources != g["appts_booked"]) & sources.notna() & g["appts_booked"].notna()).sum())
    counts["R14"] = int((g["onward_ed"] > g["appts_attended"]).sum())
    w01 = (g["sessions_delivered"] < g["sessions_planned"]).to_numpy()
    w02 = ((g["appts_booked"] > 0) & (g["appts_dna"] * 10 > g["appts_booked"])).to_numpy()
    w03 = ((g["appts_attended"] > 0) & (g["onward_ed"] * 10 > g["appts_attended"])).to_numpy()
    w04 = (g["patients_turned_away"] > 0).to_numpy()
    for name, mask in (("W01", w01), ("W02", w02), ("W03", w03), ("W04", w04)):
        counts[name] = int(mask.sum())
    closed = status.isin(["CLOSED_PLANNED", "CLOSED_UNPLANNED"]).to_numpy()
    comments = t["comments"]
    counts["R15"] = int((comments.isna().to_numpy() & (closed | w01 | w02 | w03 | w04)).sum())
    counts["R16"] = _nhs_number_rows(comments)
    counts["R17"] = int(((status == "CLOSED_PLANNED") & (g["appts_offered"] != 0)).sum())
    return counts


def _nhs_number_rows(comments: pd.Series) -> int:
    import numpy as np

    text = comments.dropna()
    text = text[text.str.contains(r"[0-9]{3}")]
    if text.empty:
        return 0
    found = text.astype(object).str.extractall(_NHS_CANDIDATE)
    if found.empty:
        return 0
    digits = "".join(found[0].str.replace(r"[ -]", "", regex=True))
    matrix = (np.frombuffer(digits.encode("ascii"), dtype=np.uint8).reshape(-1, 10) - ord("0")).astype(int)
    check = 11 - (matrix[:, :9] @ np.arange(10, 1, -1)) % 11
    check = np.where(check == 11, 0, check)
    valid = (check != 10) & (check == matrix[:, 9])
    return len(np.unique(found.index.get_level_values(0).to_numpy()[valid]))
