"""The case schema: one validated parameter object per case (DESIGN §3, docs/model.md).

A case holds everything a class needs to play one story: bilingual texts, the population
preset, lever costs and budget, the status-quo plan, dated events, calibration targets
(DESIGN §3.5) and the model coefficients (docs/model.md). Unknown keys are errors, so a typo in
an instructor's file is reported instead of silently ignored. This module is the bottom of the
model: it imports nothing else of it but the plan schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, field_validator, model_validator

from crmsim.errors import IssueValue
from crmsim.model.plan import STRICT, ChannelName, Plan

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
Months12 = Annotated[float, Field(ge=0, le=12)]  # within the 12-month history (population.py)
Positive = Annotated[float, Field(gt=0, le=1e9)]


class _Strict(BaseModel):
    model_config = STRICT  # no unknown keys, no "36" or true for a number, finite numbers


class Bilingual(_Strict):
    """A text in both course languages."""

    zh: str = Field(min_length=1, max_length=8000)
    en: str = Field(min_length=1, max_length=8000)

    @field_validator("zh", "en")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise IssueValue("empty_text")
        return text

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
    purchase_shape: float = Field(
        4.0, gt=0, le=1000, description="Gamma shape of purchase rates across customers (BG/NBD r)"
    )
    tenure_mean: float = Field(24.0, ge=0, le=240)
    new_share: float = Field(0.05, ge=0, le=1)
    rising_star_share: float = Field(0.05, ge=0, le=0.5)
    rising_star_growth: float = Field(0.03, ge=0, le=0.2)
    voice_mean: float = Field(0.1, gt=0, lt=1)
    survey_rate: float = Field(0.1, ge=0, le=1)
    expectation_mean: float = Field(0.82, ge=0.3, le=1.0)
    expectation_sd: float = Field(0.08, ge=0, le=0.3)
    fit_sd: float = Field(0.06, ge=0, le=0.3, description="spread of how well the offer fits")
    # Optional, for a population like a purchase log's customers (crmsim.purchases.like); left
    # out, every built-in case draws exactly as before.
    first_purchase_months: tuple[Months12, Months12] | None = Field(
        None,
        strict=False,  # a TOML list; the items stay strict
        description="a log's cohort: each customer first bought between these many months "
        "before the end of the 12-month history (uniform); that purchase is in her history",
    )
    spend_per_purchase: tuple[Positive, Positive, Positive] | None = Field(
        None,
        strict=False,
        description="Gamma-Gamma (p, q, v): mean spend per purchase z = p/ν, ν ~ Gamma(q, v); "
        "the wallet follows it (W = z·λ/SOW₀) instead of wallet_median and wallet_sigma",
    )

    first_spend_ratio: float = Field(
        1.0, gt=0, le=100, description="a log's cohort: first purchase's spend / a repeat one's"
    )

    @model_validator(mode="after")
    def _cohort_ordered(self) -> PopulationSpec:
        band = self.first_purchase_months
        if band is not None and not band[0] <= band[1]:
            raise IssueValue("bad_first_purchase")
        return self


class Costs(_Strict):
    """Reference costs that turn money into lever doses (DESIGN §3.2)."""

    care: float = Field(gt=0, le=1e9, description="reference care spend per customer-month")
    recovery: float = Field(gt=0, le=1e9, description="b0: spend per complaint for 63% of gain")
    cross_sell: float = Field(gt=0, le=1e9, description="reference marketing per customer-month")
    kam_salary: float = Field(gt=0, le=1e9, description="one key-account manager per month")
    kam_accounts: int = Field(30, ge=1, le=10_000, description="accounts one manager serves well")
    rewards_ref: float = Field(0.05, gt=0, le=0.9, description="reference loyalty reward rate")


class Channel(_Strict):
    """One acquisition channel (docs/model.md §4): what a new customer costs at low volume, the
    share of its prospects meeting MAN, and the finite pool of prospects it reaches."""

    cost: float = Field(gt=0, le=1e9, description="cost per new customer at low volume")
    man: float = Field(
        0.5, ge=0, le=1, description="share of prospects with Money, Authority, Need"
    )
    pool: float = Field(
        0.05, ge=0, le=10, description="prospects the channel reaches, as a share of the book"
    )
    refill: float = Field(
        0.05, ge=0, le=1, description="share of the worked-out pool that refills each month"
    )


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

    monthly_churn: tuple[float, float] = Field(strict=False)  # a TOML list; items strict
    top20_revenue_share: tuple[float, float] = Field((0.6, 0.8), strict=False)
    complaint_rate: tuple[float, float] | None = Field(None, strict=False)
    complaint_money_pays: bool = Field(
        False, description="failures are material here: complaint money must pay back"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Targets:
        for name in ("monthly_churn", "top20_revenue_share", "complaint_rate"):
            band = getattr(self, name)
            if band is not None and not (0 <= band[0] <= band[1] <= 1):
                raise IssueValue("bad_band", name=name)
        return self


def _c(default: float, what: str, lo: float = -50, hi: float = 50) -> Any:
    """A model coefficient: its default, its documented meaning and a finite range (a typo such
    as h_loyalty = 2500 is reported instead of overflowing the hazard)."""
    return Field(default, ge=lo, le=hi, description=what)


class ModelParams(_Strict):
    """Coefficients of the monthly update, grouped by the step they belong to (docs/model.md
    §3 gives each equation; the symbol there is the name here). Defaults are the documented
    model; a case's ``[model]`` table overrides any of them."""

    # 1. Service failures
    p_fail: float = _c(0.04, "monthly probability of a service failure", 0, 1)
    major_share: float = _c(0.3, "share of failures that are major", 0, 1)
    care_fail_cut: float = _c(0.5, "failures avoided at full care response", 0, 1)
    # 2. Delivered value 让渡价值 (quality, price, rewards)
    quality_base: float = _c(0.83, "quality of the offer before levers", 0, 1.5)
    q_care: float = _c(0.10, "quality added at full care response")
    q_kam: float = _c(0.12, "quality added at full key-account response")
    q_cross_sell: float = _c(0.04, "quality added by relevant offers to the satisfied")
    cross_sell_annoy: float = _c(0.06, "quality lost when offers reach the dissatisfied (S < 0.5)")
    q_fail: float = _c(0.25, "quality lost in a month with a failure")
    quality_noise: float = _c(0.05, "standard deviation of monthly quality noise", 0, 1)
    fatigue: float = _c(0.01, "quality over-serving takes back at most, per lever", 0, 50)
    fatigue_dose: float = _c(4.0, "over-serving dose u0 (reference costs per customer)", 0.01, 50)
    price_weight: float = _c(0.8, "value of a price cut, × price sensitivity")
    rewards_value: float = _c(0.05, "value of rewards at full response")
    ref_price_speed: float = _c(0.15, "monthly speed at which the reference price adapts", 0, 1)
    # 3. Complaints 投诉处理 / 服务补救
    voice_intercept: float = _c(-0.4, "voice logit intercept")
    voice_sat: float = _c(1.0, "voice logit per unit of dissatisfaction (0.6 − S)")
    voice_major: float = _c(0.8, "voice logit added by a major failure")
    voice_boost: float = _c(1.0, "more voiced when all complaints get resolved (× 1 + this)", 0, 50)
    reputation_speed: float = _c(0.3, "monthly speed of a segment's complaint reputation", 0, 1)
    recovery_floor: float = _c(0.15, "resolution odds without complaint money", 0, 1)
    recovery_gain: float = _c(0.80, "resolution odds complaint money can add", 0, 1)
    recovery_fast_cost: float = _c(2.0, "money per complaint for fast resolution, in b0", 0.01, 50)
    # 4. Satisfaction (expectation–disconfirmation, loss aversion) and complaint outcomes
    sat_intercept: float = _c(0.55, "satisfaction target at value 0.6 and no surprise")
    sat_value: float = _c(0.9, "satisfaction target per unit of value")
    sat_disconfirm: float = _c(0.8, "satisfaction target per unit of surprise V − E")
    loss_aversion: float = _c(2.0, "a shortfall weighs this many times a gain", 1, 50)
    sat_memory: float = _c(0.6, "share of last month's satisfaction kept", 0, 1)
    silent_mult: float = _c(0.70, "satisfaction kept after a problem nobody heard of", 0, 1)
    unresolved_mult: float = _c(0.80, "satisfaction kept after a complaint left unresolved", 0, 1)
    resolved_mult: float = _c(0.90, "satisfaction kept after a complaint resolved slowly", 0, 1)
    recovery_lift: float = _c(0.08, "lift after a first minor problem resolved fast", 0, 1)
    # 5. Expectations ratchet
    expect_up: float = _c(0.15, "monthly speed of expectations up after a pleasant surprise", 0, 1)
    expect_down: float = _c(0.05, "monthly speed of expectations down after a shortfall", 0, 1)
    # 6. Loyalty (Jones–Sasser zones) and lock-in
    loyalty_speed: float = _c(0.25, "monthly speed of loyalty toward its curve", 0, 1)
    loyalty_slope: float = _c(12.0, "steepness of the satisfaction–loyalty curve")
    loyalty_mid: float = _c(0.72, "satisfaction at which loyalty is half-way")
    lockin_decay: float = _c(0.35, "monthly decay of lock-in", 0, 1)
    # 7. Grievance stock
    grievance_decay: float = _c(0.85, "share of grievance kept each month", 0, 1)
    grievance_silent: float = _c(2.0, "grievance from a problem nobody heard of")
    grievance_unresolved: float = _c(1.5, "grievance from a complaint left unresolved")
    grievance_resolved: float = _c(0.8, "grievance from a complaint resolved slowly")
    grievance_fast: float = _c(0.0, "grievance from a complaint resolved fast")
    minor_severity: float = _c(0.5, "severity of a minor problem (a major one is 1)", 0, 50)
    # 8. Churn hazard (logit-additive terms)
    h_loyalty: float = _c(2.5, "hazard logit per unit of loyalty (L − 0.5)")
    h_sat: float = _c(3.0, "hazard logit per unit of satisfaction (S − 0.6)")
    h_grievance: float = _c(1.5, "hazard logit per unit of grievance")
    h_lockin: float = _c(0.6, "hazard logit per unit of lock-in")
    h_kam: float = _c(0.6, "hazard logit per unit of key-account response")
    h_explore: float = _c(0.6, "hazard logit added in 考察期")
    h_decline: float = _c(0.8, "hazard logit added in 退化期")
    h_tenure: float = _c(0.15, "hazard logit per unit of ln(1 + tenure)")
    h_discount: float = _c(0.6, "hazard logit per unit of discount, up to the deep discount")
    h_deep_discount: float = _c(0.3, "hazard logit added by a discount deeper than that")
    deep_discount: float = _c(0.35, "a discount deeper than this hurts", 0, 1)
    # 9. Spending
    stage_spend: tuple[Share, Share, Share, Share] = Field(
        (0.5, 0.85, 1.0, 0.6),
        strict=False,  # a TOML list; the items stay strict
        description="spend multiplier in 考察/形成/稳定/退化期",
    )
    sow_speed: float = _c(0.1, "monthly speed of share of wallet toward its target", 0, 1)
    sow_cross_sell: float = _c(0.10, "share of wallet added at full marketing response")
    sow_kam: float = _c(0.15, "share of wallet added at full key-account response")
    sow_loyalty: float = _c(0.1, "share of wallet per unit of loyalty (L − 0.5)")
    # 10. Lifecycle stages
    min_dwell: int = Field(2, ge=0, le=24, description="months in a stage before it can change")
    explore_months: int = Field(3, ge=0, le=24, description="months of 考察期 at least")
    stable_loyalty: float = _c(0.6, "形成→稳定 when loyalty above this …")
    stable_sat: float = _c(0.65, "… and satisfaction above this")
    decline_sat: float = _c(0.5, "→退化 when satisfaction below this, or …")
    decline_loyalty: float = _c(0.3, "… loyalty below this, or …")
    decline_spend: float = _c(0.6, "… spend below this share of its own 6-month mean")
    recover_sat: float = _c(0.62, "退化→形成 when satisfaction above this …")
    recover_loyalty: float = _c(0.45, "… and loyalty above this")
    # Acquisition 客户获取
    referral_rate: float = _c(0.02, "referrals available per affection-zone customer a month", 0, 1)
    # Valuing the customers still there at the end (terminal customer equity)
    valuation_months: int = Field(
        12, ge=1, le=60, description="months the final plan is played on past the horizon"
    )
    valuation_smoothing: int = Field(
        6, ge=1, le=24, description="months of margin and hazard averaged for the remainder"
    )
    equity_horizon: int = Field(
        240, ge=1, le=600, description="months the remainder is capitalised over"
    )


class Case(_Strict):
    """One case scenario: texts, population, costs, budget, status quo, events, targets."""

    id: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    version: str = Field(min_length=1, max_length=20)
    kind: Literal["contractual", "noncontractual"] = "contractual"
    currency: str = Field("CNY", min_length=1, max_length=8)
    months: int = Field(36, ge=1, le=120)
    growth_story: bool = Field(
        False,
        description="a story about winning customers: acquisition may lead (the narrative says so)",
    )
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
