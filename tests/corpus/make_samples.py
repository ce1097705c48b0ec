"""Regenerate the committed sample returns for encodings and Excel quirks: `python tests/corpus/make_samples.py`.

The samples are committed so that the bytes under test are the bytes a locality might send, and stay
the same from run to run; most other corpus returns are built at test time by tests/support/returns.py.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the project root: `tests` as a package

from tests.support.returns import corpus_row as row  # noqa: E402
from tests.support.returns import csv_bytes, three_hubs, typed_cells, xlsx_bytes  # noqa: E402

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _with_dimension(workbook: bytes, ref: str) -> bytes:
    """The workbook with its sheet's <dimension> overwritten, as some exporting tools get it wrong."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*" ?/>', f'<dimension ref="{ref}"/>'.encode(), data)
            target.writestr(item, data)
    return out.getvalue()


def samples() -> dict[str, bytes]:
    rows = three_hubs()
    rows[2]["sessions_delivered"] = "5"
    rows[2]["comments"] = "One GP session unfilled (sickness)"
    accented = three_hubs()
    accented[0]["comments"] = "£250 locum cover funded; café closed"
    accented[0]["signed_off_by"] = "Clinical lead (Chloé Brontë)"
    out = {
        "utf8-bom.csv": csv_bytes(rows, bom=True),
        "utf8-bom-crlf.csv": csv_bytes(rows, bom=True, newline="\r\n"),
        "crlf.csv": csv_bytes(rows, newline="\r\n"),
        "cp1252-pound-eacute.csv": csv_bytes(accented, encoding="cp1252", newline="\r\n"),
        "utf8-pound-eacute.csv": csv_bytes(accented),
        "quoted-thousands.csv": csv_bytes([row(appts_offered="1,234")]),
        "header-case-spaces-order.csv": csv_bytes(
            [row()],
            header=[f"  {h.upper()} " if i % 2 else h for i, h in enumerate(reversed(row().keys()))],
        ),
        "blank-rows-numbering.csv": b"\n,,,\n"
        + csv_bytes([row()])
        + b",,,,\n\n"
        + csv_bytes([row(hub_code="14L-H2", appts_booked="999")]).split(b"\n", 1)[1],
        "semicolons.csv": csv_bytes([row()]).replace(b",", b";"),
        "empty.csv": b"",
        "header-only.csv": csv_bytes([]),
        "png-image.csv": PNG_1X1,
        "pdf-document.xlsx": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "nul-bytes.csv": csv_bytes([row()]).replace(b"14L-H1", b"14L\x00H1"),
        "utf16.csv": csv_bytes([row()]).decode("utf-8").encode("utf-16"),
        "xlsx-typed-cells.xlsx": xlsx_bytes([typed_cells(r) for r in rows]),
        "xlsx-return-second-sheet.xlsx": xlsx_bytes([typed_cells(r) for r in rows], extra_first_sheet=True),
        "xlsx-leading-blank-rows.xlsx": xlsx_bytes(
            [typed_cells(rows[0]), [None] * 22, typed_cells(rows[1] | {"appts_booked": "999"})],
            leading_blank_rows=2,
        ),
        "xlsx-date-with-time.xlsx": xlsx_bytes(
            [[datetime(2026, 11, 24, 10, 30), *typed_cells(rows[0])[1:]], typed_cells(rows[1])]
        ),
        "xlsx-fractions.xlsx": xlsx_bytes(
            [[*typed_cells(rows[0])[:6], 7.125, *typed_cells(rows[0])[7:8], 12.5, *typed_cells(rows[0])[9:]]]
        ),
    }
    for byte in (0x81, 0x8D, 0x8F, 0x90, 0x9D):
        text = csv_bytes([row(comments="Locum cover X")], encoding="cp1252")
        out[f"cp1252-undefined-{byte:02x}.csv"] = text.replace(b"X", bytes([byte]))
    out["xlsx-wrong-dimension.xlsx"] = _with_dimension(out["xlsx-leading-blank-rows.xlsx"], "A1")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("return.csv", csv_bytes([row()]))
    out["zip-not-workbook.xlsx"] = archive.getvalue()
    return out


if __name__ == "__main__":
    for name, data in samples().items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")
