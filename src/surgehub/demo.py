"""`make demo`: the whole pipeline, end to end, on embedded defaults and a fixed timeline.

Writes sample returns for the ten localities into the landing zone wave by wave, as they would
arrive, and runs the real Airflow DAGs over them (``dag.test()``): ingest (Great Expectations
validation, SQLite warehouse, receipts), RAG, and the Thursday board digest, delivered through a real
SMTP server on loopback that keeps every message as an ``.eml`` file. Ends with the RAG table, and
leaves the week's Great Expectations Data Docs under the data folder
(``gx/uncommitted/data_docs/local_site/``: ``surgehub.html`` and GX's ``index.html``).

The timeline (Europe/London) — the week of Monday 23 November 2026, after the days the previous
digest (Monday 07:30) covered:
  Thu 19 09:30  Wednesday 18's returns from every locality
  Fri 20 09:30  Thursday 19's returns from every locality
  Mon 23 09:10  weekend returns (Fri 20, Sat 21, Sun 22) from every locality
  Tue 24 09:20  Monday's returns; Wigan sends nothing
  Wed 25 09:05  Tuesday's returns; Oldham's is rejected (R09, R13), Wigan again sends nothing
  Wed 25 10:40  Oldham's corrected return (on time)
  Wed 25 12:10  Trafford's return, after the 11:00 deadline (late)
  Wed 25 15:00  the data team records a second Stockport hub, backdated to open on Wed 18, with its
                commissioned plan (a register change: no release, no restart)
  Wed 25 16:00  Stockport sends the new hub's returns for Wed 18 to Tue 24
  Thu 26 07:30  board digest: delivery against the commissioned plan, and the new hub's days already
                reported on Monday shown as revisions caused by a register change; then verified

Running it again changes nothing in the warehouse: the same files are recognised as duplicates and
the digest is not sent twice (the email log holds it). Oldham's rejected file is validated again, as
the specification requires for a rejected file sent again.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from surgehub import clock, sample
from surgehub.config import PROJECT_ROOT
from surgehub.register import WEEKDAYS, DayKind, Hub, Offer
from surgehub.resources import Resources

SEED = 20261124
DIGEST_AT = datetime(2026, 11, 26, 7, 30, tzinfo=clock.LONDON)
REPORT_DAY = date(2026, 11, 24)
REGISTER_CHANGE_AT = datetime(2026, 11, 25, 15, 0, tzinfo=clock.LONDON)
NEW_HUB = Hub("01W-H2", "01W", "Stockport East Surge Hub", date(2026, 11, 18), date(2027, 3, 31))

# Tuesday 24 November: how each locality's hubs look (drives a spread of RAG outcomes).
TUESDAY_PROFILES = {
    "00T": sample.GREEN,
    "00V": sample.AMBER,
    "01D": sample.RED,
    "14L": sample.GREEN,
    "00Y": sample.GREEN,
    "01G": sample.CLOSED_UNPLANNED,
    "01W": sample.GREEN,
    "01Y": sample.AMBER,
    "02A": sample.GREEN,
}


@dataclass
class Wave:
    at: datetime
    label: str
    files: dict[str, bytes] = field(default_factory=dict)  # "<code>/<name>" -> bytes


def timeline() -> list[Wave]:
    """The demo's returns, deterministic from SEED."""
    rng = random.Random(SEED)
    codes = [code for code in TUESDAY_PROFILES] + ["02H"]
    weekend = [date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)]
    monday = [date(2026, 11, 23)]
    tuesday = [REPORT_DAY]

    w_wed = Wave(datetime(2026, 11, 19, 9, 30, tzinfo=clock.LONDON), "Wednesday 18's returns")
    w_thu = Wave(datetime(2026, 11, 20, 9, 30, tzinfo=clock.LONDON), "Thursday 19's returns")
    for wave, day in ((w_wed, date(2026, 11, 18)), (w_thu, date(2026, 11, 19))):
        for code in codes:
            wave.files[f"{code}/{code}_{day.isoformat()}.csv"] = sample.to_csv(
                sample.locality_rows(code, [day], rng)
            )
    w1 = Wave(datetime(2026, 11, 23, 9, 10, tzinfo=clock.LONDON), "weekend returns (Fri–Sun)")
    for code in codes:
        w1.files[f"{code}/{code}_2026-11-20_to_22.csv"] = sample.to_csv(
            sample.locality_rows(code, weekend, rng)
        )
    w2 = Wave(datetime(2026, 11, 24, 9, 20, tzinfo=clock.LONDON), "Monday's returns (Wigan sends none)")
    for code in codes:
        if code != "02H":
            w2.files[f"{code}/{code}_2026-11-23.csv"] = sample.to_csv(sample.locality_rows(code, monday, rng))
    w3 = Wave(datetime(2026, 11, 25, 9, 5, tzinfo=clock.LONDON), "Tuesday's returns (Oldham's is wrong)")
    late = Wave(datetime(2026, 11, 25, 12, 10, tzinfo=clock.LONDON), "Trafford's return, after 11:00")
    fixed = Wave(datetime(2026, 11, 25, 10, 40, tzinfo=clock.LONDON), "Oldham's corrected return")
    for code, profile in TUESDAY_PROFILES.items():
        rows = sample.locality_rows(code, tuesday, rng, profile)
        name = f"{code}/{code}_2026-11-24.csv"
        if code == "02A":
            late.files[name] = sample.to_csv(rows)
        elif code == "00Y":
            broken = [dict(r) for r in rows]
            booked = (
                int(broken[0]["appts_offered"]) + 12
            )  # booked more than offered: R09, and sources ≠ booked: R13
            broken[0]["appts_booked"] = str(booked)
            w3.files[f"{code}/{code}_2026-11-24_v1.csv"] = sample.to_csv(broken)
            fixed.files[f"{code}/{code}_2026-11-24_v2.csv"] = sample.to_csv(rows)
        else:
            w3.files[name] = sample.to_csv(rows)
    new_hub = Wave(datetime(2026, 11, 25, 16, 0, tzinfo=clock.LONDON), "the new Stockport hub's returns")
    new_days = [date(2026, 11, 18) + timedelta(days=n) for n in range(7)]
    new_hub.files["01W/01W-H2_2026-11-18_to_24.csv"] = sample.to_csv(
        [sample.hub_day_row(NEW_HUB.hub_code, day, rng, hub=NEW_HUB) for day in new_days]
    )
    return [w_wed, w_thu, w1, w2, w3, fixed, late, new_hub]


def record_register_change(resources: Resources) -> bool:
    """Wed 25 15:00: the data team records the new Stockport hub (backdated) and its commissioned plan,
    as `surgehub hubs add` and `surgehub plan set` would; False when an earlier run already did."""
    from surgehub.warehouse.register import PlanInput, add_hub, read_register, set_plan

    engine = resources.engine
    if read_register(engine).latest().hub(NEW_HUB.hub_code) is not None:
        return False
    actor = "gm-data-team (demo)"
    add_hub(engine, NEW_HUB, actor=actor, at=REGISTER_CHANGE_AT, note="opened on Wed 18; recorded late")
    offers = {
        **dict.fromkeys(WEEKDAYS[:5], Offer(5, 90)),
        DayKind.SAT: Offer(3, 50),
        DayKind.SUN: Offer(2, 30),
    }
    plan = PlanInput(
        hub_code=NEW_HUB.hub_code, valid_from=NEW_HUB.active_from, valid_to=NEW_HUB.active_to, offers=offers
    )
    set_plan(engine, plan, actor=actor, at=REGISTER_CHANGE_AT)
    return True


def _say(message: str) -> None:
    print(message, flush=True)


def run(home: Path, quiet: bool = False) -> dict[str, object]:
    """Run the demo under ``home`` and return where its outputs are (used by the integration test)."""
    started = time.monotonic()
    say = (lambda _m: None) if quiet else _say
    os.environ["SURGEHUB_HOME"] = str(home)
    os.environ.pop("SURGEHUB_WAREHOUSE_URL", None)
    os.environ[clock.CLOCK_ENV] = timeline()[0].at.isoformat()
    os.environ["SURGEHUB_TASK_RETRIES"] = "0"  # a one-shot demo shows a failure at once
    # Each wave's files are written and renamed in just before the run that names them: complete.
    os.environ.setdefault("SURGEHUB_LANDING_QUIET_SECONDS", "0.5")
    os.environ["SURGEHUB_DEADLINE_ALERTS"] = (
        "off"  # dag.test() skips them (see dag_support.late_run_deadline)
    )
    home.mkdir(parents=True, exist_ok=True)
    resources = Resources.from_env()  # the clock follows SURGEHUB_NOW, which each wave moves on
    settings = resources.settings

    from surgehub.landing import ensure_landing
    from surgehub.mail.server import LoopbackSmtpServer
    from surgehub.orchestration.airflow_env import airflow_environment, apply_environment

    server = LoopbackSmtpServer(settings.outbox_dir).start()
    try:
        apply_environment(
            airflow_environment(
                settings, smtp_connection_json=server.connection_json(_sender_address(settings))
            )
        )
        sys.path.insert(0, os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"])
        say(f"surgehub demo — data folder {home}")
        say("· preparing Airflow (SQLite metadata) and the warehouse (Alembic migrations)")
        _quiet_logging()
        from surgehub.orchestration.local_runs import dag_bag, prepare_airflow, run_dag
        from surgehub.warehouse.db import upgrade

        prepare_airflow()
        upgrade(resources.engine)
        ensure_landing(settings.landing_dir)
        bag = dag_bag()

        for wave in timeline():
            if wave.at > REGISTER_CHANGE_AT and resources.clock.now() <= REGISTER_CHANGE_AT:
                os.environ[clock.CLOCK_ENV] = REGISTER_CHANGE_AT.isoformat()
                done = record_register_change(resources)
                say(
                    f"· {REGISTER_CHANGE_AT:%a %d %b %H:%M}  data team adds hub {NEW_HUB.hub_code} ({NEW_HUB.name}), "
                    f"backdated to {NEW_HUB.active_from:%a %d %b}, and its commissioned plan"
                    + ("" if done else " (already recorded)")
                )
            os.environ[clock.CLOCK_ENV] = wave.at.isoformat()
            files = []
            for relative, content in wave.files.items():
                target = settings.landing_dir / relative
                tmp = target.with_suffix(".part")
                tmp.write_bytes(content)
                tmp.rename(target)  # write then rename: the watcher never sees half a file
                files.append(
                    {
                        "path": str(target),
                        "locality": relative.split("/")[0],
                        "received_at": wave.at.isoformat(),
                    }
                )
            say(f"· {wave.at:%a %d %b %H:%M}  {wave.label}: {len(files)} file(s) → surgehub_ingest")
            run_dag(bag, "surgehub_ingest", run_conf={"files": files})

        os.environ[clock.CLOCK_ENV] = DIGEST_AT.isoformat()
        days = [(REPORT_DAY - timedelta(days=n)).isoformat() for n in range(6, -1, -1)]
        say(f"· {DIGEST_AT:%a %d %b %H:%M}  surgehub_rag for {days[0]} … {days[-1]}")
        run_dag(bag, "surgehub_rag", run_conf={"days": days})
        say(f"· {DIGEST_AT:%a %d %b %H:%M}  surgehub_board_digest")
        run_dag(bag, "surgehub_board_digest", logical_date=DIGEST_AT)

        from surgehub.gx.docs import build as build_data_docs

        # Each ingest run rebuilt the Data Docs for its days; one full build leaves the whole week's.
        docs = build_data_docs(home, engine=resources.engine)
        from surgehub.rag import compute_rag

        day_rag = compute_rag(resources.engine, REPORT_DAY, resources.clock.now(), settings)
        eml_files = sorted(settings.outbox_dir.glob("*.eml"))
        board = [p for p in eml_files if "-board-" in p.name]
        if not quiet:
            _print_rag_table(day_rag, DIGEST_AT)
            _print_plan_and_register(resources)
            say("")
            say(f"Warehouse:      {settings.warehouse_url}")
            say(f"Board digest:   {board[-1] if board else '(not sent)'}")
            say(f"All mail:       {settings.outbox_dir}  ({len(eml_files)} message(s): receipts and digest)")
            say(f"Airflow logs:   {Path(os.environ['AIRFLOW__LOGGING__BASE_LOG_FOLDER'])}")
            say(f"Landing zone:   {settings.landing_dir}  (processed/ and rejected/ per locality)")
            say(f"Archive:        {settings.archive_dir}")
            say(f"GX Data Docs:   {docs.page}  (every return by day; GX's own: {docs.index.name})")
            say(f"Done in {time.monotonic() - started:.0f} s.")
        return {
            "warehouse_url": settings.warehouse_url,
            "outbox": settings.outbox_dir,
            "board_eml": board,
            "rag": day_rag.to_json_dict(),
            "data_docs": docs.index,
            "data_docs_page": docs.page,
        }
    finally:
        server.stop()


def _sender_address(settings) -> str:  # type: ignore[no-untyped-def]
    from email.utils import parseaddr

    return parseaddr(settings.email.sender)[1]


def _quiet_logging() -> None:
    import logging

    for name in ("great_expectations", "mail.log", "alembic", "airflow", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _print_plan_and_register(resources: Resources) -> None:
    """What the board digest said about the commissioned plan and the register change."""
    from surgehub.digest.build import build_digest
    from surgehub.digest.model import DigestKind
    from surgehub.digest.render import percent

    digest = build_digest(resources.engine, DigestKind.BOARD, DIGEST_AT, resources.settings)
    gm = digest.gm_plan
    print()
    print(
        f"Against the commissioned plan (GM, season to date): {gm.season.delivered_sessions:,} of "
        f"{gm.season.commissioned_sessions:,} sessions delivered ({percent(gm.season.sessions_ratio)}); "
        f"projected {percent(gm.projected_sessions_ratio)} by {resources.settings.season.end:%d %b %Y}."
    )
    print(digest.projection)
    for revision in digest.revisions:
        if revision.register_change:
            print(f"Revision {revision.day:%a %d %b}, {revision.name}: {revision.changes[0]}")


def _print_rag_table(day_rag, as_of: datetime) -> None:  # type: ignore[no-untyped-def]
    from surgehub import reference

    data = day_rag.to_json_dict()
    names = {loc.sub_icb_code: loc.name for loc in reference.localities()}
    print()
    print(f"RAG for activity date {data['date']}, as of {as_of:%a %d %b %Y %H:%M} Europe/London")
    header = f"{'code':<5} {'locality':<32} {'status':<10} {'lvl':>3} {'pts':>3} {'assurance':<10} {'esc':<3}  reasons"
    print(header)
    print("-" * len(header))
    for row in data["localities"]:
        level = "" if row["level"] is None else str(row["level"])
        points = "" if row["points"] is None else str(row["points"])
        print(
            f"{row['sub_icb_code']:<5} {names.get(row['sub_icb_code'], ''):<32} {row['status']:<10} "
            f"{level:>3} {points:>3} {row['assurance'] or '':<10} {'yes' if row['escalated'] else '':<3}  "
            f"{'; '.join(row['reasons'])}"
        )
    counts = ", ".join(f"{k} {v}" for k, v in data["gm"].items() if isinstance(v, int))
    print(f"Greater Manchester: {counts}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m surgehub.demo", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--home", type=Path, default=Path(os.environ.get("SURGEHUB_DEMO_HOME", PROJECT_ROOT / "var" / "demo"))
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        run(args.home.resolve(), quiet=args.quiet)
    except Exception as exc:
        print(
            f"\ndemo failed: {exc}\nAirflow's task log is above; task logs are also under {args.home.resolve() / 'airflow' / 'logs'}.",
            flush=True,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
