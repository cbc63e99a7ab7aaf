"""Problems with a plan or a segmentation said in the page's terms: segment and lever names,
rates and shares in %, the budget in plain words; never a bare field path."""

import pytest

from crmsim.errors import InputError, Issue
from crmsim.ui import problems


@pytest.mark.parametrize(
    ("path", "lang", "words"),
    [
        ("allocations.key.care", "zh", "客户群“重点客户”的关怀回访"),
        ("allocations.key.care", "en", "Proactive care for segment “Key accounts”"),
        ("allocations.small", "zh", "客户群“小客户”"),
        ("acquisition.direct_mail", "zh", "获客渠道“直接邮寄”"),
        ("allocations", "zh", "方案"),
        ("", "en", "The plan"),
        ("new_customer_segment", "zh", "新客户归入的客户群"),
    ],
)
def test_field_paths_become_the_names_on_the_screen(path, lang, words):
    assert problems.field_words(path, lang) == words


def test_a_rate_limit_and_an_unknown_segment_in_the_users_terms():
    rate = Issue("allocations.key.discount", "too_large", {"limit": 0.9, "value": "2"})
    said = problems.plan_problem(rate, "zh")
    assert said.startswith("客户群“重点客户”的价格折扣：") and "90%" in said and "0.9" not in said
    unknown = Issue("allocations.vip", "unknown_segment", {"segment": "vip", "known": "key, small"})
    said = problems.plan_problem(unknown, "zh", in_file=True)
    assert "现有：重点客户、小客户" in said and said.endswith("（文件中的 allocations.vip）")


def test_segmentation_shares_are_told_in_percent():
    exc = InputError([Issue("segmentation.params.shares", "shares_sum", {"total": "1.400"})])
    assert problems.segmentation_problem(exc, "en") == (
        "- Shares: the shares must add up to 100% (now 140%)"
    )
    rule = Issue("segmentation.params.rules[1].conditions[1].field", "not_allowed", {"value": "x"})
    said = problems.segmentation_problem(InputError([rule]), "zh")
    assert said.startswith("- 规则[1].conditions[1].field：")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_over_budget_says_how_much_to_take_out(lang):
    said = problems.over_budget_text(67_000, 40_000, "CNY", lang)
    assert ("2.7万" if lang == "zh" else "27.00K") in said
    assert "68%" in said
