"""Problems with a plan or a segmentation told in the terms of the screen the user is on.

The library names each problem by its field path (``allocations.key.care``,
``segmentation.params.shares``): right for a file or the command line, foreign on a page where
the user typed into a table of segments and levers, rates in %. Here a path becomes the names
on the screen (客户群 “重点客户” 的关怀回访), rates and shares are shown in %, and the budget
problem is said in plain words. Inside an uploaded file the field is still named in brackets,
so the user can find the line.
"""

from __future__ import annotations

from crmsim.charts import segment_label
from crmsim.errors import InputError, Issue
from crmsim.i18n import Lang, t
from crmsim.money import money, with_currency
from crmsim.plans import CHANNELS, LEVERS

RATE_LEVERS = ("rewards", "discount")


def _percent(value: object) -> str:
    try:
        return f"{float(str(value).replace(',', '')) * 100:g}%"
    except ValueError:
        return str(value)


def field_words(path: str, lang: Lang) -> str:
    """A plan's field path as the screen names it (the path itself when it is not a plan's)."""
    parts = path.split(".") if path else []
    if not parts:
        return t("problem.the_plan", lang)
    head = parts[0]
    if head == "allocations" and len(parts) == 1:
        return t("problem.the_plan", lang)
    if head == "allocations":
        segment = segment_label(parts[1], lang)
        if len(parts) > 2 and parts[2] in LEVERS:
            return t(
                "problem.segment_lever", lang, segment=segment, lever=t(f"lever.{parts[2]}", lang)
            )
        return t("problem.segment", lang, segment=segment)
    if head == "acquisition" and len(parts) > 1:
        channel = t(f"channel.{parts[1]}", lang) if parts[1] in CHANNELS else parts[1]
        return t("problem.channel", lang, channel=channel)
    if head == "segmentation":
        return t("problem.segmentation", lang)
    if head in ("name", "new_customer_segment"):
        return t(f"problem.{head}", lang)
    return path


def _message(issue: Issue, lang: Lang) -> str:
    """The message of one issue, rates and shares in %."""
    params = dict(issue.params)
    lever = issue.field.rsplit(".", 1)[-1]
    if issue.key == "shares_sum":
        return t("problem.shares_sum", lang, total=_percent(params.get("total", "")))
    if issue.key == "unknown_segment":
        known = [segment_label(s.strip(), lang) for s in str(params.get("known", "")).split(",")]
        return t(
            "problem.unknown_segment",
            lang,
            segment=segment_label(str(params.get("segment", "")), lang),
            known="、".join(known) if lang == "zh" else ", ".join(known),
        )
    if issue.key == "channel_not_in_case":
        channel = str(params.get("channel", ""))
        return t(
            "problem.channel_not_in_case",
            lang,
            channel=t(f"channel.{channel}", lang) if channel in CHANNELS else channel,
        )
    if lever in RATE_LEVERS and "limit" in params:
        params["limit"] = _percent(params["limit"])
    return t(f"err.{issue.key}", lang, **params)


def over_budget_text(total: float, budget: float, currency: str, lang: Lang) -> str:
    """The budget problem in plain words, with how much to take out."""
    over = total - budget
    return t(
        "problem.over_budget",
        lang,
        total=with_currency(money(total, lang), currency, lang),
        budget=with_currency(money(budget, lang), currency, lang),
        over=with_currency(money(over, lang), currency, lang),
        share=f"{over / budget:.0%}" if budget else "",
    )


def plan_problem(issue: Issue, lang: Lang, in_file: bool = False) -> str:
    """One problem of a plan as a line on the page (``in_file``: the file's field in brackets,
    so it can be found)."""
    where = field_words(issue.field, lang)
    text = t("err.format", lang, where=where, message=_message(issue, lang))
    if in_file and issue.field:
        text += t("problem.in_file", lang, field=issue.field)
    if in_file and issue.line is not None:
        text += t("problem.on_line", lang, line=issue.line)
    return text


def plan_file_text(exc: InputError, lang: Lang) -> str:
    """A plan file's problems as page text: the file, then one line per problem."""
    lines = [plan_problem(i, lang, in_file=True) for i in exc.issues] or [t("err.empty_file", lang)]
    return (
        t("cli.invalid_file", lang, source=exc.source) + "\n\n" + "\n".join(f"- {x}" for x in lines)
    )


def segmentation_problem(exc: InputError, lang: Lang) -> str:
    """A segmentation's problems as the Segments page's inputs show them (shares in %)."""
    lines = []
    for issue in exc.issues:
        inside = issue.field.removeprefix("segmentation.params.")
        name = inside.split(".")[0].split("[")[0]
        if name == "rules":  # typed as JSON: its own paths are the user's terms
            where = t("problem.param_rules", lang) + inside.removeprefix("rules")
        elif name in ("shares", "k", "features"):
            where = t(f"problem.param_{name}", lang)
        else:
            where = field_words(issue.field, lang)
        lines.append(t("err.format", lang, where=where, message=_message(issue, lang)))
    return "\n".join(f"- {line}" for line in lines)
