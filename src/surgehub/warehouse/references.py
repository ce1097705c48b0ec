"""What hub_day_version's foreign keys checked row by row (until migration 0007), checked once per load.

The loader calls :func:`check` inside its transaction, before it writes a row: the submission exists,
and every row's hub is a hub of the locality named beside it (stronger than the former keys, which
checked each code alone). The rows read are locked until commit (PostgreSQL ``FOR KEY SHARE``, as a
foreign key's check locks them), and triggers refuse to delete or re-key a hub or a submission that
versions name, so what is checked here stays true (docs/decisions/0076).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, bindparam, select

from surgehub.warehouse import tables

if TYPE_CHECKING:
    import numpy as np

#: Hub codes per query (well inside SQLite's 32,766 bound parameters).
CODES_PER_QUERY = 10_000


#: The submission a load names, read-locked until commit (as a foreign key's check locks it).
_SUBMISSION = (
    select(tables.submission.c.submission_id)
    .where(tables.submission.c.submission_id == bindparam("submission_id"))
    .with_for_update(read=True, key_share=True)
)

#: The hubs a load names with their localities, read-locked until commit.
_HUBS = (
    select(tables.hub.c.hub_code, tables.hub.c.sub_icb_code)
    .where(tables.hub.c.hub_code.in_(bindparam("hub_codes", expanding=True)))
    .with_for_update(read=True, key_share=True)
)


def check(
    connection: Connection,
    submission_id: int,
    hubs: list[str],
    hub: np.ndarray,
    names: list[str],
    locality: np.ndarray,
) -> None:
    """Raise ValueError unless ``submission_id`` exists and each row's hub is a hub of its locality.

    ``hubs`` are the load's distinct hub codes, ``hub`` each row's index into them; ``names`` the
    distinct sub_icb_codes named beside them (as stored: trimmed, upper case), ``locality`` each
    row's index into those. The statements are built once (a load is a few rows: building them cost
    more than running them).
    """
    import numpy as np

    found = connection.execute(_SUBMISSION, {"submission_id": submission_id}).first()
    if found is None:
        raise ValueError(f"submission {submission_id} does not exist")
    pairs = np.unique(hub * len(names) + locality)  # each (hub, locality) named, once
    hub_of: dict[str, str] = {}
    for start in range(0, len(hubs), CODES_PER_QUERY):
        rows = connection.execute(_HUBS, {"hub_codes": hubs[start : start + CODES_PER_QUERY]})
        hub_of.update((row.hub_code, row.sub_icb_code) for row in rows)
    named = [(hubs[pair // len(names)], names[pair % len(names)]) for pair in pairs.tolist()]
    wrong = [(code, sub_icb_code) for code, sub_icb_code in named if hub_of.get(code) != sub_icb_code]
    if wrong:
        shown = ", ".join(
            f"{code} ({'not a hub' if code not in hub_of else f'a hub of {hub_of[code]}, not {sub_icb_code}'})"
            for code, sub_icb_code in wrong[:5]
        )
        raise ValueError(f"{len(wrong)} hub(s) not hubs of the locality named beside them: {shown}")
