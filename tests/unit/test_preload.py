import pytest

from surgehub.orchestration.preload import should_preload


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["airflow", "scheduler"], True),
        (["airflow", "celery", "worker"], True),
        (["airflow", "celery", "flower"], False),
        (["airflow", "dag-processor"], False),
        (["airflow", "api-server"], False),
        (["airflow", "db", "migrate"], False),
        (["airflow", "tasks", "run", "x"], False),
    ],
)
def test_only_processes_that_fork_task_runners_preload(argv: list[str], expected: bool) -> None:
    assert should_preload(argv) is expected


def test_preload_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SURGEHUB_PRELOAD", "off")
    assert should_preload(["airflow", "scheduler"]) is False
