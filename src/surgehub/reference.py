"""Reference data: the ten GM localities and the surge-hub register, in localities.csv order."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class Locality:
    sub_icb_code: str
    name: str
    slug: str


@dataclass(frozen=True)
class Hub:
    hub_code: str
    sub_icb_code: str
    name: str
    active_from: date
    active_to: date

    def active_on(self, day: date) -> bool:
        return self.active_from <= day <= self.active_to


def _read(name: str, directory: Path | None) -> list[dict[str, str]]:
    if directory is not None:
        text = (directory / name).read_text(encoding="utf-8")
    else:
        text = resources.files("surgehub.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def localities(directory: Path | None = None) -> tuple[Locality, ...]:
    """The localities in the order of localities.csv (the order every listing uses)."""
    return tuple(
        Locality(normalise_code(r["sub_icb_code"]), r["locality_name"].strip(), r["slug"].strip())
        for r in _read("localities.csv", directory)
    )


@cache
def hubs(directory: Path | None = None) -> tuple[Hub, ...]:
    """Every hub in the register, in file order."""
    return tuple(
        Hub(
            normalise_code(r["hub_code"]),
            normalise_code(r["sub_icb_code"]),
            r["hub_name"].strip(),
            date.fromisoformat(r["active_from"].strip()),
            date.fromisoformat(r["active_to"].strip()),
        )
        for r in _read("hubs.csv", directory)
    )


def normalise_code(code: str) -> str:
    """A locality or hub code as stored (spec §1: matched case-insensitively, kept in upper case).

    The one place a code from outside (a channel, a form, a command line, a file) is cleaned.
    """
    return code.strip().upper()


def locality_by_code(code: str) -> Locality | None:
    code = normalise_code(code)
    return next((loc for loc in localities() if loc.sub_icb_code == code), None)


def locality(code: str) -> Locality:
    """The locality of a code known to be valid (from the warehouse or the register); KeyError if not."""
    found = locality_by_code(code)
    if found is None:
        raise KeyError(f"unknown locality code {code!r}")
    return found


def hubs_of(sub_icb_code: str) -> tuple[Hub, ...]:
    code = normalise_code(sub_icb_code)
    return tuple(h for h in hubs() if h.sub_icb_code == code)


def active_hubs(sub_icb_code: str, day: date) -> tuple[Hub, ...]:
    """The hubs of a locality that are active on a day."""
    return tuple(h for h in hubs_of(sub_icb_code) if h.active_on(day))
