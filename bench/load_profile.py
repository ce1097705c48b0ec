"""Where a million-row COPY into ``hub_day_version`` spends its time: one constraint or index at a time.

Not a ``make bench`` step (it takes several minutes and measures no goal): the profile behind
``load_1m_pg_bare_ratio`` in docs/benchmarks.md. Run it with ``PYTHONPATH=. SURGEHUB_NOW=… python -m
bench.load_profile [rounds]``. It builds the scale step's million accepted rows, prepares the same CSV
text as the scale step's raw COPY (``bench.scale.copy_text``), and in a throwaway database copies it,
interleaved and best of ``rounds``, into:

- ``bare``: the scale step's baseline (``create table … as table hub_day_version with no data``);
- ``like``: the table's columns with their NOT NULLs and defaults (``version_id`` from its sequence);
- ``like`` plus exactly one of the table's indexes or foreign keys;
- ``schema``: ``hub_day_version`` itself, as migrated (what ``load_1m_pg_copy_s`` copies into);
- ``sorted …``: the same rows ordered by the unique key (hub, day) rather than day by day;

and times ``load_versions`` itself (``bench.scale.load_as_versions``) into the migrated table. Each
figure is printed as it is measured (stderr) and as one JSON object at the end (stdout).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.national import build_register, hubs_of, text_frame
from bench.scale import RECEIVED_AT, benchmark_settings, copy_text, load_as_versions, throwaway_database

FKS = {
    "fk_submission": "foreign key (submission_id) references submission (submission_id)",
    "fk_hub": "foreign key (hub_code) references hub (hub_code)",
    "fk_locality": "foreign key (sub_icb_code) references locality (sub_icb_code)",
}
INDEXES = {
    "pk": "alter table {t} add primary key (version_id)",
    "uq_key": "alter table {t} add unique (hub_code, activity_date, version)",
    "ix_day": "create index on {t} (activity_date, hub_code, received_at)",
    "ix_submission": "create index on {t} (submission_id)",
}


def variants() -> dict[str, list[str]]:
    """Variant name → statements creating table ``{t}`` (empty) for it."""
    like = ["create table {t} (like hub_day_version including defaults)"]
    out: dict[str, list[str]] = {
        "bare": ["create table {t} as table hub_day_version with no data"],
        "like": like,
    }
    out |= {name: [*like, statement] for name, statement in INDEXES.items()}
    out |= {name: [*like, f"alter table {{t}} add {clause}"] for name, clause in FKS.items()}
    out["all_indexes"] = [*like, *INDEXES.values()]
    out["all_fks"] = [*like, *(f"alter table {{t}} add {clause}" for clause in FKS.values())]
    # version_id given no value (not even null-checked): what the sequence's default costs
    out["like_no_default"] = [
        "create table {t} (like hub_day_version)",
        "alter table {t} alter version_id drop not null",
    ]
    cached = [
        *like,
        "create sequence if not exists profile_seq cache 1000",
        "alter table {t} alter column version_id set default nextval('profile_seq')",
    ]
    out["like_seq_cache"] = cached
    out["uq_day_first"] = [*like, "alter table {t} add unique (activity_date, hub_code, version)"]
    lean = [
        INDEXES["pk"],
        "alter table {t} add unique (activity_date, hub_code, version)",
        INDEXES["ix_submission"],
    ]
    out["lean_indexes"] = [*like, *lean]
    out["lean_indexes_seq_cache"] = [*cached, *lean]
    out["lean_brin_submission"] = [*like, *lean[:2], "create index on {t} using brin (submission_id)"]
    out["lean_no_submission_ix"] = [*like, *lean[:2]]
    out["schema_0006"] = [
        *like,
        *INDEXES.values(),
        *(f"alter table {{t}} add {clause}" for clause in FKS.values()),
    ]
    out["schema_0007"] = [*like, *lean]
    out["json_as_jsonb"] = [*like, "alter table {t} alter column warnings type jsonb using warnings::jsonb"]
    out["json_as_text"] = [*like, "alter table {t} alter column warnings type text"]
    return out


def server_cpu_s(connection: Any) -> float:
    """CPU seconds (user + system) used so far by this connection's server process (Linux /proc)."""
    pid = connection.exec_driver_sql("select pg_backend_pid()").scalar()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def copy_into(engine: Any, table: str, data: bytes) -> tuple[float, float]:
    """Wall seconds and the server process's CPU seconds of one COPY of ``data`` into ``table``, committed."""
    from surgehub.warehouse.load import VERSION_COLUMNS

    with engine.connect() as connection:
        cpu = server_cpu_s(connection)
        connection.commit()
        start = time.perf_counter()
        connection.begin()
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"copy {table} ({', '.join(VERSION_COLUMNS)}) from stdin (format csv)") as copy_:
            copy_.write(data)
        connection.commit()
        wall = time.perf_counter() - start
        return wall, server_cpu_s(connection) - cpu


def main(rounds: int = 2, only: list[str] | None = None) -> dict[str, float]:
    from surgehub.returns.validate import validate_table
    from surgehub.warehouse.db import get_engine

    settings = benchmark_settings()
    register = build_register(icbs=1, hubs_per_icb=6_720)
    frame = text_frame(hubs_of(register), 1_000_000)
    result = validate_table(
        frame, locality="N01", received_at=RECEIVED_AT, settings=settings, register=register
    )
    assert result.accepted
    accepted = result.frame
    del result, frame
    data = copy_text(accepted)
    # the same rows ordered by the unique key (hub, then day): the CSV lines sorted by (hub_code, date)
    lines = data.splitlines(keepends=True)

    def key(line: bytes) -> tuple[bytes, bytes]:  # VERSION_COLUMNS: activity_date 7th, hub_code 8th
        fields = line.split(b",", 8)
        return fields[7], fields[6]

    sorted_data = b"".join(sorted(lines, key=key))
    del lines
    best: dict[str, float] = {}

    def keep(name: str, measured: tuple[float, float]) -> None:
        wall, cpu = measured
        best[name] = round(min(wall, best.get(name, wall)), 2)
        best[f"{name} (server cpu)"] = round(min(cpu, best.get(f"{name} (server cpu)", cpu)), 2)
        print(
            f"{name}: {wall:.2f} s, server cpu {cpu:.2f} s (best {best[name]:.2f})",
            file=sys.stderr,
            flush=True,
        )

    with throwaway_database(register) as url:
        if url is None:
            raise SystemExit("no PostgreSQL")
        engine = get_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "insert into submission (submission_id, sub_icb_code, channel, received_at, sha256, file_name,"
                " size_bytes, outcome, quarantined, spec_version, data_rows, errors, warnings, arrival_seq,"
                " processed_at) values (1, 'N01', 'cli', %(t)s, 'raw', 'raw.csv', 0, 'accepted', false,"
                " '2026.1', 0, '[]', '[]', 1, %(t)s)",
                {"t": RECEIVED_AT},
            )
            connection.exec_driver_sql("select setval('submission_submission_id_seq', 1)")
        plan = {name: statements for name, statements in variants().items() if not only or name in only}
        for _ in range(rounds):
            for name, statements in plan.items():
                with engine.begin() as connection:
                    connection.exec_driver_sql("drop table if exists profile_t")
                    for statement in statements:
                        connection.exec_driver_sql(statement.format(t="profile_t"))
                keep(name, copy_into(engine, "profile_t", data))
                if name in ("bare", "like", "uq_key", "ix_day") and not only:
                    with engine.begin() as connection:
                        connection.exec_driver_sql("truncate profile_t")
                    keep(f"sorted {name}", copy_into(engine, "profile_t", sorted_data))
            with engine.begin() as connection:
                connection.exec_driver_sql("drop table if exists profile_t")
                connection.exec_driver_sql("truncate hub_day_version")
            if only and "schema" not in only:
                continue
            keep("schema", copy_into(engine, "hub_day_version", data))
            with engine.begin() as connection:
                connection.exec_driver_sql("truncate hub_day_version")
            keep("sorted schema", copy_into(engine, "hub_day_version", sorted_data))
            with engine.begin() as connection:
                connection.exec_driver_sql("truncate hub_day_version")
            with engine.connect() as connection:  # the pool's one connection: the load's server process
                cpu = server_cpu_s(connection)
            start = time.perf_counter()
            load_as_versions(engine, accepted)
            wall = time.perf_counter() - start
            with engine.connect() as connection:
                keep("load_versions", (wall, server_cpu_s(connection) - cpu))
            with engine.begin() as connection:
                connection.exec_driver_sql("truncate hub_day_version")
        engine.dispose()
    return best


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2, sys.argv[2:])), flush=True)
