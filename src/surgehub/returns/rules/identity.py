"""Identity rules R05 (the locality), R06 (the hub register) and R07 (the season and the receipt day).

They need who sent the return and when, never the file's word for it (spec §4: the locality comes from
the channel). Each row is judged with its own return's sender and receipt day, so many returns can be
judged at once; each rule is a table of (rule, failed rows, column, message).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from surgehub.returns.findings import Finding, shown
from surgehub.returns.rules.checks import Check, DayArray, IntArray, findings_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from surgehub.config import Season, Settings
    from surgehub.register import RegisterView

#: (locality code, London day of receipt) of each return.
Sender = tuple[str, date]


def identity_findings(
    t: pd.DataFrame, files: IntArray, senders: Sequence[Sender], settings: Settings, register: RegisterView
) -> list[Finding]:
    """R05, R06 and R07 on the typed table ``t``; ``files`` gives each row's return, ``senders`` each
    return's sender and receipt day; ``register`` is the register as it stood at their receipt."""
    codes = np.array([code for code, _ in senders], dtype=object)
    sent_by: npt.NDArray[np.object_] = codes[files]  # each row's sender (references, not copies)
    received: DayArray = np.array([np.datetime64(day, "D") for _, day in senders], dtype="datetime64[D]")[
        files
    ]
    localities = _Localities(register)
    checks = [
        *_locality_checks(t["sub_icb_code"], codes, files, sent_by, localities),
        *_register_checks(t, sent_by, localities, register),
        *_date_checks(t["activity_date"], received, settings),
    ]
    rows: IntArray = t["row_number"].to_numpy().astype(np.int64, copy=False)
    return findings_of(checks, rows)


class _Localities:
    """Locality names and hub lists as messages quote them, read from the register once per pass."""

    def __init__(self, register: RegisterView) -> None:
        self.register = register
        self.names = register.locality_names()
        self._hub_lists: dict[str, str] = {}

    def hubs_of(self, code: str) -> str:
        """A locality's hub codes, as a message lists them."""
        if code not in self._hub_lists:
            self._hub_lists[code] = ", ".join(h.hub_code for h in self.register.hubs_of(code))
        return self._hub_lists[code]


def _locality_checks(
    sub: pd.Series,
    codes: npt.NDArray[np.object_],
    files: IntArray,
    sent_by: npt.NDArray[np.object_],
    localities: _Localities,
) -> list[Check]:
    """R05: the row's sub_icb_code is a known code, and the sender's own."""
    present = sub.notna().to_numpy(dtype=bool)
    is_known = sub.isin(list(localities.names)).to_numpy(dtype=bool)
    own = np.zeros(len(sub), dtype=bool)
    for code in set(codes.tolist()):
        own |= (codes == code)[files] & (sub == code).to_numpy(dtype=bool)
    return [
        Check(
            rule="R05",
            column="sub_icb_code",
            failed=present & ~is_known,
            message=partial(_unknown_locality, localities),
            quotes=(sub, sent_by),
        ),
        Check(
            rule="R05",
            column="sub_icb_code",
            failed=present & is_known & ~own,
            message=partial(_another_locality, localities),
            quotes=(sub, sent_by),
        ),
    ]


def _unknown_locality(localities: _Localities, code: str, sender: str) -> str:
    return (
        f"sub_icb_code {shown(code)} is not a known locality code: this return comes from "
        f"{localities.names[sender]}, so use {sender}"
    )


def _another_locality(localities: _Localities, code: str, sender: str) -> str:
    return (
        f"sub_icb_code {code} is {localities.names[code]}'s code, but this return comes from "
        f"{localities.names[sender]} ({sender}): report only your own hubs, with sub_icb_code {sender}"
    )


def _register_checks(
    t: pd.DataFrame, sent_by: npt.NDArray[np.object_], localities: _Localities, hubs: RegisterView
) -> list[Check]:
    """R06: the hub is in the register, registered to the row's locality, and active on the row's day."""
    register = pd.DataFrame(
        [(h.hub_code, h.sub_icb_code, h.active_from, h.active_to) for h in hubs.hubs],
        columns=["hub_code", "reg_sub", "active_from", "active_to"],
    )
    register["active_from"] = pd.to_datetime(register["active_from"])
    register["active_to"] = pd.to_datetime(register["active_to"])
    rows = _with_register(t[["hub_code", "sub_icb_code", "activity_date"]], register)
    has_hub = rows["hub_code"].notna()
    not_registered = has_hub & rows["reg_sub"].isna()
    wrong_locality = has_hub & rows["reg_sub"].notna() & rows["sub_icb_code"].notna()
    wrong_locality &= rows["reg_sub"] != rows["sub_icb_code"]
    inactive = has_hub & rows["reg_sub"].notna() & rows["activity_date"].notna() & ~wrong_locality
    inactive &= (rows["activity_date"] < rows["active_from"]) | (rows["activity_date"] > rows["active_to"])
    hub = rows["hub_code"]
    return [
        Check(
            rule="R06",
            column="hub_code",
            failed=not_registered.to_numpy(dtype=bool),
            message=partial(_not_registered, localities),
            quotes=(hub, sent_by),
        ),
        Check(
            rule="R06",
            column="hub_code",
            failed=wrong_locality.to_numpy(dtype=bool),
            message=partial(_registered_elsewhere, localities),
            quotes=(hub, rows["reg_sub"], rows["sub_icb_code"], sent_by),
        ),
        Check(
            rule="R06",
            column="hub_code",
            failed=inactive.to_numpy(dtype=bool),
            message=_not_active,
            quotes=(hub, rows["activity_date"], rows["active_from"], rows["active_to"]),
        ),
    ]


def _with_register(rows: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with each row's hub's register facts (missing where the hub is not registered), in order:
    a left merge on ``hub_code``, done as a positional lookup (a merge copied every row's cells: ~110 MB
    on a million rows)."""
    keys = pd.Index(register["hub_code"])
    if not len(register) or not keys.is_unique:
        return rows.merge(register, on="hub_code", how="left")
    where = keys.get_indexer(pd.Index(rows["hub_code"]))
    found = where >= 0
    picked = register.drop(columns="hub_code").iloc[np.where(found, where, 0)].set_axis(rows.index)
    return pd.concat([rows, picked.where(pd.Series(found, index=rows.index), axis=0)], axis=1)


def _not_registered(localities: _Localities, hub: str, sender: str) -> str:
    return (
        f"hub_code {shown(hub)} is not in the hub register: use one of {localities.names[sender]}'s hub "
        f"codes ({localities.hubs_of(sender)})"
    )


def _registered_elsewhere(
    localities: _Localities, hub: str, registered_to: str, code: str, sender: str
) -> str:
    return (
        f"hub {hub} is registered to locality {registered_to}, not {shown(code)}: check the hub code and "
        f"the row's sub_icb_code ({localities.names[sender]}'s hubs: {localities.hubs_of(sender)})"
    )


def _not_active(hub: str, day: date, active_from: date, active_to: date) -> str:
    return (
        f"hub {hub} is not active on {_iso(day)}: it runs from {_iso(active_from)} to "
        f"{_iso(active_to)}; check the date and the hub code"
    )


def _date_checks(day: pd.Series, received: DayArray, settings: Settings) -> list[Check]:
    """R07: the activity date is in the season, not after the day of receipt, nor too long before it.

    One finding per row: outside the season first (it explains the most), then after receipt, then
    more than the revision window before it.
    """
    days: DayArray = day.to_numpy(dtype="datetime64[D]")
    window = settings.timeliness.revision_window_days
    season = settings.season
    valid = day.notna().to_numpy(dtype=bool)
    outside = valid & ((day < pd.Timestamp(season.start)) | (day > pd.Timestamp(season.end))).to_numpy(
        dtype=bool
    )
    future = valid & ~outside & (days > received)
    too_old = valid & ~outside & (days < received - np.timedelta64(window, "D"))
    return [
        Check(
            rule="R07",
            column="activity_date",
            failed=outside,
            message=partial(_outside_season, season),
            quotes=(days,),
        ),
        Check(
            rule="R07", column="activity_date", failed=future, message=_after_receipt, quotes=(days, received)
        ),
        Check(
            rule="R07",
            column="activity_date",
            failed=too_old,
            message=partial(_before_window, window),
            quotes=(days, received),
        ),
    ]


def _outside_season(season: Season, day: date) -> str:
    return (
        f"activity_date {day.isoformat()} is outside the season ({season.start.isoformat()} to "
        f"{season.end.isoformat()}): check the date"
    )


def _after_receipt(day: date, received: date) -> str:
    return (
        f"activity_date {day.isoformat()} is after the day the return was received ({received.isoformat()}): "
        "report only days that have happened; check the date"
    )


def _before_window(window: int, day: date, received: date) -> str:
    return (
        f"activity_date {day.isoformat()} is more than {window} days before the day the return was "
        f"received ({received.isoformat()}): days can be sent or revised for {window} days only; check "
        "the date, or contact the ICB surge team"
    )


def _iso(day: date) -> str:
    """A day as YYYY-MM-DD (a pandas Timestamp is a datetime: its date)."""
    return (day.date() if isinstance(day, datetime) else day).isoformat()
