"""docs/model.md stays true to the code: every coefficient with its default, every step."""

import re

from crmsim.model import month
from crmsim.model.case import ModelParams
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")


def test_every_coefficient_is_documented_with_its_default():
    rows = {}
    for line in DOC.splitlines():
        m = re.match(r"\| `([a-z_0-9]+)` \| ([^|]+) \|", line)
        if m:
            rows[m.group(1)] = m.group(2).strip()
    for name, field in ModelParams.model_fields.items():
        assert name in rows, f"{name} is not in docs/model.md's coefficient table"
        default = field.default
        shown = str(tuple(default)) if isinstance(default, tuple) else str(default)
        assert rows[name] == shown, f"{name}: docs say {rows[name]}, the code {shown}"


def test_every_step_of_the_month_is_documented_in_order():
    steps = [
        "failures",
        "delivered_value",
        "complaints",
        "satisfaction",
        "expectations",
        "loyalty",
        "grievance",
        "hazard_terms",
        "spending",
        "stages",
        "event_modifiers",
    ]
    where = [DOC.index(f"`{name}()`") for name in steps]
    assert where == sorted(where)
    for name in steps:
        assert callable(getattr(month, name))
