"""A client generated from the API's own OpenAPI description, by a generator nobody here wrote
(``openapi-python-client``), used against a real `surgehub serve` on loopback.

If the description told anything but the truth (no request body, 200 for 201, JSON templates, no
bearer scheme, FastAPI's error shape), the generated client would send no file or no token, or fail
to read the answers. Here it sends a good return and a bad one as multipart with its token, reads
both back (one by one and in the list), and meets the refusals as ``Error`` models.
"""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from tests.support.returns import rejected_return, valid_return

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.api import Server

PACKAGE = "surgehub_api_client"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONFIG = f"""\
package_name_override: {PACKAGE}
project_name_override: surgehub-api-client
post_hooks: []
content_type_overrides:
  {XLSX}: application/octet-stream
"""


@pytest.fixture(scope="module")
def client_package(api_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The client generated from the running server's /api/openapi.json, imported."""
    folder = tmp_path_factory.mktemp("generated-client")
    description = folder / "openapi.json"
    answer = requests.get(f"{api_server.url}/api/openapi.json", timeout=30)
    assert answer.status_code == 200
    description.write_bytes(answer.content)
    (folder / "config.yaml").write_text(CONFIG)
    generator = Path(sys.executable).with_name("openapi-python-client")
    run = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(description),
            "--config",
            str(folder / "config.yaml"),
            "--output-path",
            str(folder / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr  # nothing left out
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _module(package: Any, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_the_generated_client_sends_a_good_and_a_bad_return_and_reads_both_back(
    api_server: Server, client_package: Any
) -> None:
    submit = _module(client_package, "api.returns.submit_return")
    get_one = _module(client_package, "api.returns.get_return")
    list_all = _module(client_package, "api.returns.list_returns")
    models = _module(client_package, "models")
    types = _module(client_package, "types")
    client = client_package.AuthenticatedClient(base_url=api_server.url, token=api_server.tokens["01Y"])

    def send(name: str, content: bytes) -> Any:
        upload = types.File(payload=io.BytesIO(content), file_name=name, mime_type="text/csv")
        return submit.sync_detailed(client=client, body=models.SubmitReturnReturnUpload(file=upload))

    good = send("tameside.csv", valid_return("01Y", seed=41))
    assert good.status_code == 201, good.content
    assert isinstance(good.parsed, models.Submission)
    assert (good.parsed.state, good.parsed.locality, good.parsed.channel) == ("queued", "01Y", "api")
    assert good.parsed.status == "accepted"
    assert good.parsed.file_name == "tameside.csv"

    bad = send("tameside-bad.csv", rejected_return("01Y", seed=42))
    assert bad.status_code == 422, bad.content
    assert isinstance(bad.parsed, models.Submission)
    assert (bad.parsed.state, bad.parsed.status) == ("rejected", "rejected")
    assert {e.rule for e in bad.parsed.errors} >= {"R09"}
    first = bad.parsed.errors[0]
    assert (first.row, first.spreadsheet_row, first.column) == (1, 2, "appts_booked")

    for sent in (good.parsed, bad.parsed):
        read = get_one.sync_detailed(sent.submission_id, client=client)
        assert read.status_code == 200
        assert isinstance(read.parsed, models.Submission)
        assert (read.parsed.submission_id, read.parsed.status) == (sent.submission_id, sent.status)

    overview = list_all.sync_detailed(client=client)
    assert overview.status_code == 200
    assert isinstance(overview.parsed, models.Overview)
    assert overview.parsed.locality == "01Y"
    listed = {s.submission_id for s in overview.parsed.submissions}
    assert {good.parsed.submission_id, bad.parsed.submission_id} <= listed


def test_the_generated_client_meets_each_refusal_as_an_error(api_server: Server, client_package: Any) -> None:
    get_one = _module(client_package, "api.returns.get_return")
    list_all = _module(client_package, "api.returns.list_returns")
    models = _module(client_package, "models")
    anonymous = client_package.Client(base_url=api_server.url)
    refused = list_all.sync_detailed(client=anonymous)
    assert refused.status_code == 401
    assert isinstance(refused.parsed, models.Error)
    assert "Bearer" in refused.parsed.error
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")

    client = client_package.AuthenticatedClient(base_url=api_server.url, token=api_server.tokens["01Y"])
    missing = get_one.sync_detailed("api-0000000000000000", client=client)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Error)


def test_the_generated_client_downloads_both_templates(api_server: Server, client_package: Any) -> None:
    csv = _module(client_package, "api.templates.get_template_csv")
    xlsx = _module(client_package, "api.templates.get_template_xlsx")
    anonymous = client_package.Client(base_url=api_server.url)
    as_csv = csv.sync_detailed(client=anonymous)
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith(b"activity_date,sub_icb_code,")
    as_xlsx = xlsx.sync_detailed(client=anonymous)
    assert as_xlsx.status_code == 200
    assert as_xlsx.headers["content-type"] == XLSX
    assert as_xlsx.content[:2] == b"PK"
