"""Numbers and sentences as the reader writes them: money for cards, KPI deltas, the run's story."""

from __future__ import annotations

from crmsim.charts import segment_label
from crmsim.i18n import Lang, t


def money(value: float, lang: Lang, signed: bool = False) -> str:
    """A compact amount for cards: 175.5万 / 1,750万 / 17.51M (full figures do not fit a card)."""
    sign = "+" if signed and value > 0 else ("-" if value < 0 else "")
    v = abs(value)
    if lang == "zh":
        for unit, size in (("亿", 1e8), ("万", 1e4)):
            if v >= size:
                digits = 0 if v / size >= 1000 else 1  # 1,636万 fits a card, 1,636.0万 does not
                return f"{sign}{v / size:,.{digits}f}{unit}"
    else:
        for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
            if v >= size:
                return f"{sign}{v / size:,.2f}{unit}"
    return f"{sign}{v:,.0f}"


def figure_with_delta(key: str, value, reference, lang: Lang, is_reference: bool) -> str:
    """A KPI for a comparison table, with its change against the first plan in brackets."""
    if value is None:
        return "—"
    money_keys = ("profit", "npv", "score", "revenue", "gross_margin", "service_cost")
    if key in money_keys:
        text, delta = money(value, lang), money(value - (reference or 0), lang, signed=True)
    elif key in ("retention_rate", "recovery_rate", "monthly_churn"):
        text = f"{value:.1%}"
        delta = t("cmp.pp", lang, v=f"{(value - (reference or 0)) * 100:+.1f}")
    else:
        text, delta = f"{value:.3f}", f"{value - (reference or 0):+.3f}"
    return text if is_reference or reference is None else f"{text} ({delta})"


def story_text(story: dict, lang: Lang) -> str:
    """The run's plain-language summary (numbers computed from the run by ``run_story``)."""
    parts = [
        t(
            "story.retention",
            lang,
            share=f"{story['retention']:.1%}",
            satisfaction=f"{story['satisfaction']:.2f}",
        )
    ]
    if "retention_delta" in story:
        parts.append(
            t(
                "story.vs_status_quo",
                lang,
                retention=f"{story['retention_delta'] * 100:+.1f}",
                profit=f"{story['profit_delta']:+,.0f}",
            )
        )
    parts.append(
        t(
            "story.worst",
            lang,
            segment=segment_label(story["worst_segment"], lang),
            churn=f"{story['worst_churn']:.2%}",
        )
    )
    if story.get("driver"):
        parts.append(t("story.driver", lang, term=t(f"term.{story['driver']}", lang)))
    return " ".join(parts)


def customer_label(name: str, churned: bool, lang: Lang) -> str:
    """A sampled customer in the drill-down list."""
    return f"{name} · {t('sim.left' if churned else 'sim.stayed', lang)}"
