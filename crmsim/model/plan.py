"""The plan schema: a segmentation choice plus per-segment lever settings and acquisition.

A plan says, for each segment, how much money per month goes to proactive care, complaint
handling and personalised marketing, how many key-account managers serve it, and which
loyalty-reward and discount rates apply (DESIGN §3.2), plus acquisition money by channel.
Loading, checking against segments and budget, and presets live in ``crmsim.plans``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

LEVERS: tuple[str, ...] = ("care", "recovery", "cross_sell", "kam", "rewards", "discount")
ChannelName = Literal["referral", "telephone", "direct_mail", "events", "online"]
SegmentMethod = Literal["rfm", "abc", "pyramid", "clv", "kmeans", "rules"]
CHANNELS: tuple[str, ...] = get_args(ChannelName)
SEGMENT_METHODS: tuple[str, ...] = get_args(SegmentMethod)
MAX_RATE = 0.9
# Strict: a number must be written as a number ("2000" and true are refused, not converted),
# and be finite (nan and inf are refused); unknown keys are errors.
STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
Money = Annotated[float, Field(ge=0, le=1e12)]


class Levers(BaseModel):
    """Lever settings for one segment, per month."""

    model_config = STRICT

    care: float = Field(0.0, ge=0, le=1e12)
    recovery: float = Field(0.0, ge=0, le=1e12)
    cross_sell: float = Field(0.0, ge=0, le=1e12)
    kam: int = Field(0, ge=0, le=100_000)
    rewards: float = Field(0.0, ge=0, le=MAX_RATE)
    discount: float = Field(0.0, ge=0, le=MAX_RATE)

    def money(self, kam_salary: float) -> float:
        """Monthly money this segment's levers cost before rate levers (which scale with sales)."""
        return self.care + self.recovery + self.cross_sell + self.kam * kam_salary


class SegmentationSpec(BaseModel):
    """Which segmentation a plan is written for, with its parameters."""

    model_config = STRICT

    method: SegmentMethod = "pyramid"
    params: dict[str, Any] = Field(default_factory=dict)


class Plan(BaseModel):
    """A service plan: segments × levers, plus acquisition budget by channel (money/month)."""

    model_config = STRICT

    name: str = Field("plan", min_length=1, max_length=80)
    segmentation: SegmentationSpec = Field(default_factory=SegmentationSpec)
    allocations: dict[str, Levers] = Field(default_factory=dict)
    acquisition: dict[ChannelName, Money] = Field(default_factory=dict)
    new_customer_segment: str | None = Field(None, max_length=80)

    def monthly_money(self, kam_salary: float) -> float:
        """Money per month the plan commits: money levers, manager salaries and acquisition."""
        levers = sum(lv.money(kam_salary) for lv in self.allocations.values())
        return levers + sum(self.acquisition.values())
