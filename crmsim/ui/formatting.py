"""Numbers and sentences as the reader writes them: money for cards, KPI deltas, the run's story."""

from __future__ import annotations

from crmsim.charts import segment_label
from crmsim.i18n import Lang, t
from crmsim.money import money, with_currency  # noqa: F401  (the pages' money)


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
