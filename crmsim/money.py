"""Money as the reader writes it: 175.5万 and 1.8亿 in Chinese, 17.51M in English; the case's
currency as a sign (¥, NT$) rather than a code (CNY, TWD); chart axes in the same units as
the cards (万/亿), so a chart never reads 0.2M beside a card that reads 20万."""

from __future__ import annotations

import numpy as np

from crmsim.i18n import Lang, t

# currency code → (zh unit after the number, sign before the number)
CURRENCIES = {
    "CNY": ("元", "¥"),
    "RMB": ("元", "¥"),
    "TWD": ("新台币", "NT$"),
    "HKD": ("港元", "HK$"),
    "USD": ("美元", "$"),
    "EUR": ("欧元", "€"),
    "GBP": ("英镑", "£"),
    "JPY": ("日元", "JP¥"),
}
ZH_UNITS = (("亿", 1e8), ("万", 1e4))
EN_UNITS = (("B", 1e9), ("M", 1e6), ("K", 1e3))


def money(value: float, lang: Lang, signed: bool = False) -> str:
    """A compact amount for cards: 175.5万 / 1,750万 / 17.51M (full figures do not fit a card)."""
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    v = abs(value)
    if lang == "zh":
        for unit, size in ZH_UNITS:
            if v >= size:
                digits = 0 if v / size >= 1000 else 1  # 1,636万 fits a card, 1,636.0万 does not
                return f"{sign}{v / size:,.{digits}f}{unit}"
    else:
        for unit, size in EN_UNITS:
            if v >= size:
                return f"{sign}{v / size:,.2f}{unit}"
    return f"{sign}{v:,.0f}"


def currency_name(code: str, lang: Lang) -> str:
    """How a reader names the currency: 元 / 新台币 in Chinese, ¥ / NT$ in English (an unknown
    code as it is)."""
    found = CURRENCIES.get(code.upper())
    if not found:
        return code
    return found[0] if lang == "zh" else found[1]


def currency_sign(code: str) -> str:
    """The currency's sign (¥, NT$), or the code followed by a space when it has none known."""
    found = CURRENCIES.get(code.upper()) if code else None
    return found[1] if found else (f"{code} " if code else "")


def with_currency(amount: str, code: str, lang: Lang) -> str:
    """An amount with its currency: 1.8万元, 2,400 新台币; ¥18.0K, NT$2,400."""
    found = CURRENCIES.get(code.upper())
    if not found:
        return f"{amount} {code}".strip()
    if lang == "zh":
        return f"{amount}{found[0]}" if found[0] == "元" else f"{amount} {found[0]}"
    return f"{amount[:1]}{found[1]}{amount[1:]}" if amount[:1] in "+-" else f"{found[1]}{amount}"


def axis_unit(values, lang: Lang) -> tuple[float, str]:
    """The divisor and unit word for a money axis holding ``values``: (1e4, "万") in Chinese
    when the largest is at least 10,000; (1, "") for small amounts and in English (whose
    axes use Plotly's own K/M)."""
    arr = np.asarray(values, dtype=float)
    top = float(np.nanmax(np.abs(arr))) if arr.size and np.isfinite(arr).any() else 0.0
    if lang == "zh":
        for unit, size in ZH_UNITS:
            if top >= size:
                return size, unit
    return 1.0, ""


def axis_title(code: str, lang: Lang, unit: str = "") -> str:
    """A money axis title: 金额（万元）, 金额（万 新台币）; Amount (¥)."""
    name = currency_name(code, lang) if code else ""
    if lang == "zh" and unit and name and name != "元":
        name = f"{unit} {name}"
    elif lang == "zh":
        name = f"{unit}{name}"
    return t("money.axis", lang, unit=name) if name else t("money.axis_plain", lang)
