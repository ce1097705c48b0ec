"""Importing the returns modules stays cheap: no GX, pandas or openpyxl until a return is validated."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("great_expectations", "pandas", "numpy", "pyarrow", "openpyxl", "jinja2")


def test_returns_modules_import_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "import surgehub.cli, surgehub.cli.returns, surgehub.returns.validate, surgehub.returns.result\n"
        "import surgehub.returns.read, surgehub.returns.receipt, surgehub.returns.suite, surgehub.returns.findings\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
