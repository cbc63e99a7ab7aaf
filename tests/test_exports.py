"""Files we hand out never carry a live formula (OWASP "CSV injection"): the Customers CSV and
.xlsx, the CLV table, ``rfm``/``clv --out``, and the classroom debrief workbook and HTML."""

import io

import openpyxl
import pandas as pd
import pytest

from crmsim import exports
from crmsim.cli import main
from crmsim.customers_io import read_customers_csv, to_csv_bytes, to_xlsx_bytes

LINK = '=HYPERLINK("http://evil.example","点我")'
HOSTILE = [LINK, "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1+1", "＝1+1", "@@"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(len(HOSTILE))],
            "name": HOSTILE,
            "monetary": [-5.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0],  # numbers stay numbers
        }
    )


def _formula_cells(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [
        f"{ws.title}!{cell.coordinate}"
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def test_csv_cells_that_would_run_get_a_quote_and_numbers_stay_numbers():
    text = to_csv_bytes(_frame()).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert back["name"].tolist() == ["'" + v for v in HOSTILE]
    assert back["monetary"].tolist() == [-5.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert exports.neutralise("\r=1+1") == "'\r=1+1"  # a carriage return too (OWASP)
    assert exports.neutralise("王伟") == "王伟" and exports.neutralise(-3) == -3


def test_xlsx_has_no_formula_cell_and_keeps_the_text_as_written():
    data = to_xlsx_bytes(_frame())
    assert _formula_cells(data) == []
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    names = [ws.cell(row=r, column=2) for r in range(2, len(HOSTILE) + 2)]
    assert [c.value for c in names] == HOSTILE  # text, shown as typed
    assert names[0].data_type == "s" and names[0].quotePrefix  # an edit keeps it text
    assert ws.cell(row=2, column=3).value == -5.0


def test_a_hostile_customers_file_read_back_and_exported_stays_harmless():
    raw = (
        "customer_id,name,monetary\n" + f'A1,"{LINK.replace(chr(34), chr(34) * 2)}",5\n'
    ).encode()
    table, _ = read_customers_csv(raw)
    assert table["name"].tolist() == [LINK]
    assert _formula_cells(to_xlsx_bytes(table)) == []
    assert to_csv_bytes(table).decode("utf-8-sig").splitlines()[1].startswith("A1,\"'=HYPERLINK")


def test_cli_out_tables_are_neutralised(tmp_path, capsys):
    rows = [
        f"{cid},2024-0{m}-0{d},{5 + m}"
        for cid in ("=1+2", "@x", "c3")
        for m in (1, 2, 3)
        for d in (1, 5)
    ]
    rows += [f"k{i},2024-0{i % 3 + 1}-0{i % 7 + 1},{i + 3}" for i in range(40)]
    log = tmp_path / "log.csv"
    log.write_text("customer_id,date,amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "rfm.csv"
    assert main(["rfm", "--transactions", str(log), "--out", str(out)]) == 0
    ids = pd.read_csv(out, encoding="utf-8-sig")["customer_id"].tolist()
    assert "'=1+2" in ids and "'@x" in ids and "c3" in ids
    assert not any(str(i).startswith(("=", "@")) for i in ids)


@pytest.fixture
def played(tmp_path):
    """A revealed classroom round with a team named like a formula and one like a script."""
    from crmsim.cases import load_case
    from crmsim.classroom import Classroom
    from tests.classroom.helpers import care_plan, open_room

    case = load_case("telecom")
    store = Classroom(f"sqlite:///{tmp_path / 'room.db'}")
    code, pw = open_room(store, case)
    for name in (LINK, "<script>alert(1)</script>"):
        _, token = store.join(code, name)
        store.submit(code, token, care_plan(case, 1.0), 1)
    store.reveal(code, pw)
    yield store, code, pw, case
    store.close()


@pytest.mark.parametrize("lang", [None, "zh", "en"])
def test_the_debrief_workbook_has_no_live_link(played, lang):
    store, code, pw, _ = played
    data = store.export_xlsx(code, pw, lang)
    assert _formula_cells(data) == []  # the team was a live link on three sheets
    book = openpyxl.load_workbook(io.BytesIO(data))
    texts = {c.value for ws in book.worksheets for row in ws.iter_rows() for c in row}
    assert LINK in texts  # the team's name is kept, as text


def test_the_debrief_html_escapes_every_team_name(played):
    from crmsim.charts import debrief_html

    store, code, pw, case = played
    page = debrief_html(
        "debrief",
        store.leaderboard(code),
        store.results(code),
        "en",
        store.allocations(code, pw, 1),
        case.costs.kam_salary,
    )
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
