"""Small builders shared by the classroom tests."""

from crmsim.plans import Plan


def open_room(store, case, **kw) -> tuple[str, str]:
    """A small room (600 customers, 3 rounds of 4 months unless said); its code and passcode."""
    kw = {"rounds": 3, "round_months": 4, **kw}
    return store.create_room(case, 600, 5, **kw)[:2]


def care_plan(case, care: float = 1.0) -> Plan:
    """The status quo with its proactive-care money times ``care``."""
    sq = case.status_quo
    return sq.model_copy(
        update={
            "name": f"care x{care}",
            "allocations": {
                s: lv.model_copy(update={"care": lv.care * care})
                for s, lv in sq.allocations.items()
            },
        }
    )
