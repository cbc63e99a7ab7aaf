"""The case schema: one validated parameter object per case (DESIGN §3, docs/model.md).

A case holds everything a class needs to play one story: bilingual texts, the population
preset, lever costs and budget, the status-quo plan, dated events, calibration targets
(DESIGN §3.5) and the model coefficients (docs/model.md). Unknown keys are errors, so a typo in
an instructor's file is reported instead of silently ignored. This module is the bottom of the
model: it imports nothing else of it but the plan schema.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crmsim.errors import IssueValue
from crmsim.model.plan import ChannelName, Plan

MAX_CUSTOMERS = 1_000_000
MIN_CUSTOMERS = 100
EventParam = Literal[
    "hazard_shift",
    "key_hazard_shift",
    "p_fail",
    "quality_shift",
    "value_shift",
    "wallet_mult",
    "kam_capacity",
]
EVENT_PARAMS: tuple[str, ...] = get_args(EventParam)
# A model coefficient without a narrower documented range: wide, but finite, so a typo such as
# h_loyalty = 2500 is reported instead of overflowing the hazard.
Coef = Annotated[float, Field(ge=-50, le=50)]
Share = Annotated[float, Field(ge=0, le=5)]  # a spend multiplier per lifecycle stage


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Bilingual(_Strict):
    """A text in both course languages."""

    zh: str = Field(min_length=1, max_length=8000)
    en: str = Field(min_length=1, max_length=8000)

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``zh`` or ``en``)."""
        return self.zh if lang == "zh" else self.en


class PopulationSpec(_Strict):
    """How the case's customers are drawn (DESIGN §3.1)."""

    customers: int = Field(10_000, ge=MIN_CUSTOMERS, le=MAX_CUSTOMERS)
    names: Literal["person", "company"] = "person"
    wallet_median: float = Field(100.0, gt=0, le=1e9)
    wallet_sigma: float = Field(1.3, ge=0.2, le=2.5)
    margin_rate: float = Field(0.4, ge=0.05, le=0.9)
    base_churn: float = Field(0.01, gt=0, le=0.5)
    frailty_concentration: float = Field(6.0, ge=1.0, le=200.0)
    purchase_rate: float = Field(1.5, gt=0, le=30)
    tenure_mean: float = Field(24.0, ge=0, le=240)
    new_share: float = Field(0.05, ge=0, le=1)
    rising_star_share: float = Field(0.05, ge=0, le=0.5)
    rising_star_growth: float = Field(0.03, ge=0, le=0.2)
    voice_mean: float = Field(0.1, gt=0, lt=1)
    survey_rate: float = Field(0.1, ge=0, le=1)
    expectation_mean: float = Field(0.82, ge=0.3, le=1.0)
    expectation_sd: float = Field(0.08, ge=0, le=0.3)
    fit_sd: float = Field(0.06, ge=0, le=0.3, description="spread of how well the offer fits")


class Costs(_Strict):
    """Reference costs that turn money into lever doses (DESIGN §3.2)."""

    care: float = Field(gt=0, le=1e9, description="reference care spend per customer-month")
    recovery: float = Field(gt=0, le=1e9, description="b0: spend per complaint for 63% of gain")
    cross_sell: float = Field(gt=0, le=1e9, description="reference marketing per customer-month")
    kam_salary: float = Field(gt=0, le=1e9, description="one key-account manager per month")
    kam_accounts: int = Field(30, ge=1, le=10_000, description="accounts one manager serves well")
    rewards_ref: float = Field(0.05, gt=0, le=0.9, description="reference loyalty reward rate")


class Channel(_Strict):
    """One acquisition channel: cost per new customer and the share meeting MAN."""

    cost: float = Field(gt=0, le=1e9)
    man: float = Field(0.5, ge=0, le=1)


class Event(_Strict):
    """A dated change to one model parameter (competitor entry, outage, ...)."""

    month: int = Field(ge=1, le=120)
    months: int = Field(0, ge=0, le=120, description="duration; 0 lasts to the end")
    kind: Literal["competitor_entry", "salesperson_leaves", "outage", "price_war", "other"]
    param: EventParam
    op: Literal["add", "mul"] = "add"
    value: float = Field(ge=-100, le=100)
    title: Bilingual

    def active(self, month: int) -> bool:
        """Whether the event applies in ``month`` (1-based)."""
        return month >= self.month and (self.months == 0 or month < self.month + self.months)


class Targets(_Strict):
    """Calibration bands the status-quo plan must land in (DESIGN §3.5)."""

    monthly_churn: tuple[float, float]
    top20_revenue_share: tuple[float, float] = (0.6, 0.8)
    complaint_rate: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Targets:
        for name in ("monthly_churn", "top20_revenue_share", "complaint_rate"):
            band = getattr(self, name)
            if band is not None and not (0 <= band[0] <= band[1] <= 1):
                raise IssueValue("bad_band", name=name)
        return self


class ModelParams(_Strict):
    """Coefficients of the monthly update (DESIGN §3.3); defaults are the documented model."""

    p_fail: float = Field(0.04, ge=0, le=1)
    major_share: float = Field(0.3, ge=0, le=1)
    care_fail_cut: float = Field(0.5, ge=0, le=1)
    quality_base: float = Field(0.83, ge=0, le=1.5)
    q_care: Coef = 0.10
    q_kam: Coef = 0.12
    q_cross_sell: Coef = 0.04
    cross_sell_annoy: Coef = 0.06
    q_fail: Coef = 0.25
    quality_noise: float = Field(0.05, ge=0, le=1)
    fatigue: float = Field(0.02, ge=0, le=50)
    fatigue_dose: float = Field(3.0, gt=0, le=50)
    price_weight: Coef = 0.8
    rewards_value: Coef = 0.05
    ref_price_speed: float = Field(0.15, ge=0, le=1)
    voice_intercept: Coef = -0.4
    voice_sat: Coef = 2.0
    voice_major: Coef = 0.8
    recovery_floor: float = Field(0.15, ge=0, le=1)
    recovery_gain: float = Field(0.80, ge=0, le=1)
    sat_intercept: Coef = 0.55
    sat_value: Coef = 0.9
    sat_disconfirm: Coef = 0.8
    loss_aversion: float = Field(2.0, ge=1, le=50)
    sat_memory: float = Field(0.6, ge=0, le=1)
    recovery_lift: float = Field(0.08, ge=0, le=1)
    unresolved_mult: float = Field(0.6, ge=0, le=1)
    silent_mult: float = Field(0.85, ge=0, le=1)
    expect_up: float = Field(0.15, ge=0, le=1)
    expect_down: float = Field(0.05, ge=0, le=1)
    loyalty_speed: float = Field(0.25, ge=0, le=1)
    loyalty_slope: Coef = 12.0
    loyalty_mid: Coef = 0.72
    lockin_decay: float = Field(0.10, ge=0, le=1)
    grievance_decay: float = Field(0.9, ge=0, le=1)
    grievance_unresolved: Coef = 1.0
    grievance_silent: Coef = 0.8
    grievance_resolved: Coef = 0.1
    minor_severity: float = Field(0.5, ge=0, le=50)
    h_loyalty: Coef = 2.5
    h_sat: Coef = 1.5
    h_grievance: Coef = 1.5
    h_lockin: Coef = 0.6
    h_kam: Coef = 0.6
    h_explore: Coef = 0.6
    h_decline: Coef = 0.8
    h_tenure: Coef = 0.15
    h_discount: Coef = 0.6
    h_deep_discount: Coef = 0.3
    deep_discount: float = Field(0.35, ge=0, le=1)
    stage_spend: tuple[Share, Share, Share, Share] = (0.5, 0.85, 1.0, 0.6)
    sow_speed: float = Field(0.1, ge=0, le=1)
    sow_cross_sell: Coef = 0.25
    sow_kam: Coef = 0.15
    sow_loyalty: Coef = 0.1
    min_dwell: int = Field(2, ge=0, le=24)
    explore_months: int = Field(3, ge=0, le=24)
    stable_loyalty: Coef = 0.6
    stable_sat: Coef = 0.65
    decline_sat: Coef = 0.5
    decline_loyalty: Coef = 0.3
    decline_spend: Coef = 0.6
    recover_sat: Coef = 0.62
    recover_loyalty: Coef = 0.45
    referral_affection: float = Field(0.2, gt=0, le=1)
    referral_max_mult: float = Field(3.0, ge=0, le=50)
    equity_horizon: int = Field(36, ge=1, le=240)


class Case(_Strict):
    """One case scenario: texts, population, costs, budget, status quo, events, targets."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    version: str = Field(min_length=1, max_length=20)
    kind: Literal["contractual", "noncontractual"] = "contractual"
    currency: str = Field("CNY", min_length=1, max_length=8)
    months: int = Field(36, ge=1, le=120)
    annual_discount_rate: float = Field(0.10, ge=0, le=1)
    title: Bilingual
    narrative: Bilingual
    objectives: list[Bilingual] = Field(default_factory=list, max_length=20)
    debrief: list[Bilingual] = Field(default_factory=list, max_length=20)
    population: PopulationSpec
    costs: Costs
    budget: float = Field(gt=0, le=1e12, description="service money per month")
    acquisition: dict[ChannelName, Channel] = Field(default_factory=dict)
    status_quo: Plan
    events: list[Event] = Field(default_factory=list, max_length=50)
    targets: Targets
    model: ModelParams = Field(default_factory=ModelParams)

    @property
    def monthly_discount(self) -> float:
        """Monthly rate equivalent to the annual discount rate."""
        return (1 + self.annual_discount_rate) ** (1 / 12) - 1
