"""GX the way GX users expect: the public frame builder, the suite in a file context, stored results, Data Docs.

One data folder for the module (GX is slow): three ingest runs into a SQLite warehouse — one bad return
alone, a batch of a good and a bad return, and a return holding an NHS number and hostile text — then
the Data Docs built once. Each test reads what that left.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from importlib import resources as package_files
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from surgehub.cli import cli
from surgehub.gx import RULES_OUTSIDE_GX, SUITE_NAME, NotASuiteFrame, frame_for_suite, rules_in_suite, suite
from surgehub.gx.store import GxStore, read_results, site_dir
from surgehub.returns.suite import load_suite_dict
from surgehub.returns.validate import validate_return
from tests.support.browser import axe_violations
from tests.support.corpus import SETTINGS, corpus_file
from tests.support.returns import corpus_row, csv_bytes
from tests.support.timeline import EARLY, RECEIVED_AT, TIMELINE_NOW

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

GOOD = corpus_file("example-return.csv")
#: Row 2 (hub 14L-H2): 155 attended of 150 booked (R10), with attended + DNA over booked (R11), and
#: face-to-face + remote 141 not 155 (R12).
BAD = GOOD.replace(b",160,150,141,", b",160,150,155,")
NHS_NUMBER = "943 476 5919"
HOSTILE = csv_bytes([corpus_row(comments=f"Pt {NHS_NUMBER} <script>alert(1)</script>", appts_offered="-5")])


def _ingest(home: Path, files: list[tuple[bytes, Any]]) -> list[Any]:
    from surgehub.ingest import Channel, IncomingReturn, ingest_returns
    from surgehub.resources import Resources

    items = []
    for n, (data, received_at) in enumerate(files):
        path = home / "incoming" / f"return-{received_at:%H%M%S}-{n}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        items.append(IncomingReturn(path=path, locality="14L", channel=Channel.CLI, received_at=received_at))
    return ingest_returns(items, Resources.from_env())


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Four ingest runs into a fresh data folder (the last an empty file), then one Data Docs build."""
    from surgehub.gx.docs import build
    from surgehub.resources import Resources
    from surgehub.warehouse import db

    home = tmp_path_factory.mktemp("gx") / "var"
    home.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SURGEHUB_HOME", str(home))
        patch.setenv("SURGEHUB_NOW", TIMELINE_NOW.isoformat())
        patch.delenv("SURGEHUB_WAREHOUSE_URL", raising=False)
        engine = db.upgrade(Resources.from_env().settings.warehouse_url)
        alone = _ingest(home, [(BAD, EARLY)])
        batch = _ingest(home, [(GOOD, EARLY + timedelta(minutes=5)), (BAD, EARLY + timedelta(minutes=6))])
        hostile = _ingest(home, [(HOSTILE, RECEIVED_AT)])
        empty = _ingest(home, [(b"", RECEIVED_AT + timedelta(minutes=1))])  # F05: never reaches GX
        built = build(home, engine=engine)
        yield {
            "home": home,
            "engine": engine,
            "outcomes": [*alone, *batch, *hostile, *empty],
            "built": built,
            "env": {"SURGEHUB_HOME": str(home), "SURGEHUB_NOW": TIMELINE_NOW.isoformat()},
        }
        engine.dispose()


def _ids(home: Path) -> list[list[str]]:
    return [[r["return_id"] for r in res["meta"]["surgehub"]["returns"]] for _, res in read_results(home)]


# -- the public frame builder -------------------------------------------------------------------------


def test_frame_for_suite_lets_anyone_run_the_suite_on_a_raw_file() -> None:
    import great_expectations as gx

    frame = frame_for_suite(BAD)
    assert frame.index.tolist() == [1, 2, 3]  # the file's row numbers
    whole = (
        gx.get_context(mode="ephemeral")
        .data_sources.add_pandas("by_hand")
        .add_dataframe_asset("return")
        .add_batch_definition_whole_dataframe("whole_return")
    )
    batch = whole.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite(), result_format="COMPLETE")
    assert len(result.results) == len(load_suite_dict()["expectations"]) == 28
    assert not [r for r in result.results if r.exception_info.get("raised_exception")], "no column is missing"
    failed = {
        r.expectation_config.meta["rule_id"]: r.result["unexpected_index_list"]
        for r in result.results
        if not r.success
    }
    assert failed == {"R10": [2], "R11": [2], "R12": [2]}
    assert batch.validate(suite()).success is False
    good = whole.get_batch(batch_parameters={"dataframe": frame_for_suite(GOOD)}).validate(suite())
    assert good.success


def test_frame_for_suite_reads_a_path_and_refuses_what_cannot_enter_gx(tmp_path: Path) -> None:
    path = tmp_path / "return.csv"
    path.write_bytes(GOOD)
    assert len(frame_for_suite(path)) == 3
    with pytest.raises(NotASuiteFrame) as refused:
        frame_for_suite(HOSTILE)
    assert {f.rule for f in refused.value.findings} == {"R16"}
    assert "9434765919" not in str(refused.value) + repr([f.message for f in refused.value.findings])
    with pytest.raises(NotASuiteFrame, match="F05"):
        frame_for_suite(b"")


def test_rules_outside_gx_complete_the_suite() -> None:
    from surgehub import spec

    assert set(rules_in_suite()) | set(RULES_OUTSIDE_GX) == set(spec.RULES)
    assert not set(rules_in_suite()) & set(RULES_OUTSIDE_GX)
    assert {"R01", "R07", "R16", "W05", "F01"} <= set(RULES_OUTSIDE_GX)


# -- the committed suite in a file context ---------------------------------------------------------


def test_the_committed_suite_works_in_a_file_context_as_committed(tmp_path: Path) -> None:
    """Dropped in as committed, GX finds ``surgehub.return`` and binds a ValidationDefinition to it."""
    import great_expectations as gx

    gx.get_context(mode="file", project_root_dir=str(tmp_path))
    committed = package_files.files("surgehub").joinpath("gx", "expectations")
    shutil.copytree(str(committed), tmp_path / "gx" / "expectations", dirs_exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(tmp_path))
    found = context.suites.get(SUITE_NAME)
    assert len(found.expectations) == 28
    batch_definition = (
        context.data_sources.add_pandas("p")
        .add_dataframe_asset("a")
        .add_batch_definition_whole_dataframe("b")
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="by_hand", data=batch_definition, suite=found)
    )
    result = definition.run(batch_parameters={"dataframe": frame_for_suite(BAD)})
    assert not result.success
    assert sorted(tmp_path.glob("gx/uncommitted/validations/surgehub/return/*/*/*.json"))


# -- stored results --------------------------------------------------------------------------------


def test_each_ingest_run_stores_one_gx_result(ingested: dict[str, Any]) -> None:
    outcomes = ingested["outcomes"]
    assert [o.status.value for o in outcomes] == ["rejected", "accepted", "rejected", "rejected", "rejected"]
    ids = _ids(ingested["home"])
    # The clock is frozen, so the three runs share a run time and list by name: alone, batch, hostile.
    assert [len(run) for run in ids] == [1, 2, 1]
    results = {tuple(run): res for run, (_, res) in zip(ids, read_results(ingested["home"]), strict=True)}
    for run, result in results.items():
        assert result["suite_name"] == SUITE_NAME
        assert result["meta"]["run_id"]["run_name"] == (run[0] if len(run) == 1 else f"{run[0]}-and-1-more")
        assert set(result["meta"]["surgehub"]["rules_outside_gx"]) == set(RULES_OUTSIDE_GX)


def test_a_batch_result_picks_out_each_returns_rows(ingested: dict[str, Any]) -> None:
    [(_, batch)] = [
        (p, r) for p, r in read_results(ingested["home"]) if len(r["meta"]["surgehub"]["returns"]) == 2
    ]
    good_id, bad_id = (r["return_id"] for r in batch["meta"]["surgehub"]["returns"])
    assert good_id.startswith("14L-20261125T080500Z-")
    assert bad_id.startswith("14L-20261125T080600Z-")
    failed = {
        r["expectation_config"]["meta"]["rule_id"]: r["result"] for r in batch["results"] if not r["success"]
    }
    assert set(failed) == {"R10", "R11", "R12"}
    for result in failed.values():
        assert result["unexpected_index_list"] == [{"return_id": bad_id, "row_number": 2}]
        assert result["unexpected_count_by_return"] == {bad_id: 1}
        assert result["element_count"] == 6
        assert result["unexpected_count"] == 1


def test_stored_results_and_data_docs_hold_no_value_from_a_return(ingested: dict[str, Any]) -> None:
    hostile = [
        r
        for _, r in read_results(ingested["home"])
        if r["meta"]["surgehub"]["returns"][0]["return_id"].startswith("14L-20261125T090000Z")
    ]
    [result] = hostile
    failed = [r["result"] for r in result["results"] if not r["success"]]
    assert failed
    assert all(r["partial_unexpected_list"] == [] and "unexpected_list" not in r for r in failed)
    for path in (ingested["home"] / "gx").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".html", ".yml"):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "9434765919" not in text.replace(" ", ""), path
            assert "alert(1)" not in text, path


def test_a_context_already_set_up_is_found_not_written_again(ingested: dict[str, Any]) -> None:
    """Another process (a worker, the API server, the docs task) opens the context as it is."""
    from surgehub.gx import store

    home = ingested["home"]
    written = {p: p.read_bytes() for p in (home / "gx").glob("**/*.yml")}
    written |= {p: p.read_bytes() for p in (home / "gx" / "validation_definitions").glob("*.json")}
    store._CONTEXTS.pop(home)  # as a fresh process would find it
    context = store.open_context(home)
    assert context.validation_definitions.get(store.VALIDATION_DEFINITION).suite.name == SUITE_NAME
    assert {p: p.read_bytes() for p in written} == written


def test_storing_changes_no_finding(tmp_path: Path) -> None:
    store = GxStore(home=tmp_path, now=lambda: TIMELINE_NOW)
    plain = validate_return(BAD, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS)
    stored = validate_return(BAD, locality="14L", received_at=RECEIVED_AT, settings=SETTINGS, gx_store=store)
    assert stored.errors == plain.errors
    assert stored.warnings == plain.warnings
    assert len(store.stored) == 1
    assert not (site_dir(tmp_path) / "index.html").exists(), "validating never builds Data Docs"


# -- Data Docs ---------------------------------------------------------------------------------------


def test_data_docs_list_every_return_beside_the_rules_outside_gx(ingested: dict[str, Any]) -> None:
    built = ingested["built"]
    assert built.index == site_dir(ingested["home"]) / "index.html"
    assert built.index.is_file()
    assert built.runs == 3
    assert built.returns == 4
    page = built.page.read_text(encoding="utf-8")
    for run in _ids(ingested["home"]):
        for return_id in run:
            assert return_id in page
    assert "Failed: R10: 1 row, R11: 1 row, R12: 1 row" in page
    assert "Passed: every expectation" in page
    assert "Findings: R16: 1 finding" in page  # from the warehouse: a rule GX does not run
    assert "Not run: the file failed F05" in page  # recorded, never put before GX
    for rule in RULES_OUTSIDE_GX:
        assert f'<th scope="row">{rule}</th>' in page
    suite_page = (site_dir(ingested["home"]) / "expectations" / "surgehub" / "return.html").read_text()
    assert "rules checked outside this suite" in suite_page  # the suite's notes, as GX renders them
    assert "R16: no cell of the file" in suite_page
    index = built.index.read_text(encoding="utf-8")
    assert all(run[0] in index for run in _ids(ingested["home"]))


def test_the_ingest_dag_task_builds_the_days_of_its_run(ingested: dict[str, Any]) -> None:
    from surgehub.orchestration.tasks import build_data_docs
    from surgehub.resources import Resources

    with pytest.MonkeyPatch.context() as patch:
        for name, value in ingested["env"].items():
            patch.setenv(name, value)
        resources = Resources.from_env()
        fresh = {
            "submissions": [{"status": "rejected", "duplicate": False, "received_at": EARLY.isoformat()}]
        }
        assert build_data_docs(fresh, resources) == {
            "index": str(ingested["built"].index),
            "page": str(ingested["built"].page),
            "days": ["2026-11-25"],
        }
        resent = {
            "submissions": [{"status": "accepted", "duplicate": True, "received_at": EARLY.isoformat()}]
        }
        assert build_data_docs(resent, resources) is None
        assert build_data_docs(None, resources) is None


def test_gx_docs_build_command(ingested: dict[str, Any]) -> None:
    runner = CliRunner()
    env = ingested["env"]
    helped = runner.invoke(cli, ["gx-docs", "build", "--help"], env=env)
    assert helped.exit_code == 0
    assert "--date" in helped.output
    wrong = runner.invoke(cli, ["gx-docs", "build", "--date", "25/11/2026"], env=env)
    assert wrong.exit_code == 2
    assert "--date" in wrong.output
    done = runner.invoke(cli, ["gx-docs", "build", "--date", "2026-11-25", "--json"], env=env)
    assert done.exit_code == 0, done.output
    answer = json.loads(done.output)
    assert answer["runs"] == 3
    assert answer["returns"] == 4
    assert answer["page"] == str(ingested["built"].page)
    none = runner.invoke(
        cli, ["gx-docs", "build", "--date", "2026-11-20", "--json", "--no-warehouse"], env=env
    )
    assert none.exit_code == 0
    assert json.loads(none.output)["returns"] == 0


@pytest.mark.browser
def test_data_docs_open_in_chromium_and_list_each_return(
    ingested: dict[str, Any], browser, tmp_path: Path
) -> None:
    """surgehub's page lists each return and opens its GX validation; GX's index lists each run.

    Offline (the network is cut here, as on a locked-down NHS desktop), GX's index draws its table with
    scripts from public CDNs that never load: its runs are in the page's data, not on screen. surgehub's
    page is the entry point that works offline, and GX's validation pages are static HTML.
    """
    [alone, batch, _hostile] = _ids(ingested["home"])
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.route("http*://**", lambda route: route.abort())
    page = context.new_page()
    page.goto(ingested["built"].page.as_uri(), wait_until="load")
    body = page.inner_text("body")
    assert alone[0] in body
    assert all(return_id in body for return_id in batch)
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "surgehub-data-docs.png"), full_page=True)

    link = page.get_by_role("link", name=batch[1])
    assert link.count() == 1
    link.click()
    page.wait_for_load_state("load")
    assert "/validations/surgehub/return/" in page.url
    shown = page.inner_text("body")
    assert "r10_booked_minus_attended" in shown
    assert "Failed" in shown or "failed" in shown
    page.screenshot(path=str(tmp_path / "gx-validation.png"), full_page=True)

    page.goto(ingested["built"].index.as_uri(), wait_until="load")
    assert "Validation Results" in page.inner_text("body")
    assert alone[0] in page.content()
    context.close()
