"""What hub_day_version's foreign keys checked row by row (until migration 0007), checked once per load.

The loader calls :func:`check` inside its transaction, before it writes a row: the submission exists,
and every row's hub is a hub of the locality named beside it (stronger than the former keys, which
checked each code alone). The rows read are locked until commit (PostgreSQL ``FOR KEY SHARE``, as a
foreign key's check locks them), and triggers refuse to delete or re-key a hub or a submission that
versions name, so what is checked here stays true (docs/decisions/0076).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, select

from surgehub.warehouse import tables

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

#: Hub codes per query (well inside SQLite's 32,766 bound parameters).
CODES_PER_QUERY = 10_000


def check(
    connection: Connection, submission_id: int, hubs: list[str], hub: np.ndarray, localities: pa.Array
) -> None:
    """Raise ValueError unless ``submission_id`` exists and each row's hub is a hub of its locality.

    ``hubs`` are the load's distinct hub codes, ``hub`` each row's index into them, ``localities``
    each row's sub_icb_code (as stored: trimmed, upper case).
    """
    import numpy as np
    import pyarrow.compute as pc

    s, h = tables.submission, tables.hub
    found = connection.execute(
        select(s.c.submission_id)
        .where(s.c.submission_id == submission_id)
        .with_for_update(read=True, key_share=True)
    ).first()
    if found is None:
        raise ValueError(f"submission {submission_id} does not exist")
    if localities.null_count:
        raise ValueError("sub_icb_code is missing on a row")
    encoded = cast("pa.DictionaryArray[Any, Any]", pc.dictionary_encode(localities))
    names = [str(code) for code in encoded.dictionary.to_pylist()]
    locality = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    pairs = np.unique(hub * len(names) + locality)  # each (hub, locality) named, once
    hub_of: dict[str, str] = {}
    for start in range(0, len(hubs), CODES_PER_QUERY):
        query = (
            select(h.c.hub_code, h.c.sub_icb_code)
            .where(h.c.hub_code.in_(hubs[start : start + CODES_PER_QUERY]))
            .with_for_update(read=True, key_share=True)
        )
        hub_of.update((row.hub_code, row.sub_icb_code) for row in connection.execute(query))
    named = [(hubs[pair // len(names)], names[pair % len(names)]) for pair in pairs.tolist()]
    wrong = [(code, sub_icb_code) for code, sub_icb_code in named if hub_of.get(code) != sub_icb_code]
    if wrong:
        shown = ", ".join(
            f"{code} ({'not a hub' if code not in hub_of else f'a hub of {hub_of[code]}, not {sub_icb_code}'})"
            for code, sub_icb_code in wrong[:5]
        )
        raise ValueError(f"{len(wrong)} hub(s) not hubs of the locality named beside them: {shown}")
