"""The model's own checks on the command line: ``facts`` (the stylized-facts table) and
``optimize`` (the plan search, the instructor's answer key). Registered by ``crmsim.cli``."""

from __future__ import annotations

import json
import sys

from crmsim.cases import builtin_case_ids, load_case
from crmsim.cli_common import check_size as _check_size
from crmsim.cli_common import write as _write
from crmsim.errors import InputError, Issue
from crmsim.i18n import Lang, t

FACT_TEMPLATES = ("twice_", "return_4x_", "dress_")  # fact keys with a lever or variant in them


def add_commands(command) -> None:
    """Add ``facts`` and ``optimize`` to the CLI's sub-commands."""
    f = command("facts", "check the model's stylized facts case by case (exit 1 if one fails)")
    f.add_argument("--case", action="append", help="a case id or file (repeat; default: all)")
    f.add_argument("--customers", type=int, help="book size (default: the case's, at least 10k)")
    f.add_argument("--seeds", type=int, default=3, help="seeds per comparison (default 3)")
    f.add_argument("--json", metavar="OUT", help="write the table as JSON")
    o = command("optimize", "search the best plan for a case under the plan validator")
    o.add_argument("--case", required=True, help="a case id or file")
    o.add_argument("--evals", type=int, default=300, help="plans to evaluate (default 300)")
    o.add_argument("--seed", type=int, default=7, help="seed of the search's own moves")
    o.add_argument("--customers", type=int, help="book size during the search (default 3000)")
    o.add_argument("--json", metavar="OUT", required=True, help="write the result as JSON")
    o.add_argument(
        "--answer-key",
        action="store_true",
        help="also store the best plan as the case's answer key (sample_data/answer_keys)",
    )


def fact_title(key: str, lang: Lang) -> str:
    """A fact's name in ``lang`` (facts about one lever or one variant name it)."""
    for prefix in FACT_TEMPLATES:
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            what = (
                t(f"lever.{rest}", lang) if prefix != "dress_" else t(f"facts.variant_{rest}", lang)
            )
            return t(f"facts.{prefix.rstrip('_')}", lang, what=what)
    return t(f"facts.{key}", lang)


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def cmd_facts(args) -> int:
    from crmsim import facts

    lang = args.lang
    if not 1 <= args.seeds <= 20:
        raise InputError(
            [Issue("--seeds", "seeds_range", {"low": 1, "high": 20, "value": args.seeds})]
        )
    cases = [load_case(c) for c in (args.case or builtin_case_ids())]
    rows, failed = [], 0
    for case in cases:
        print(t("facts.case_head", lang, id=case.id, title=case.title.get(lang)), file=sys.stderr)
        for fact in facts.check_case(case, args.customers, range(1, args.seeds + 1)):
            mark = {True: "ok", False: "FAIL", None: "—"}[fact.passed]
            failed += fact.passed is False
            title = fact_title(fact.key, lang)
            target = f"{t('facts.target', lang)} {fact.target}"
            print(f"  {mark:4s}  {title}: {_fmt(fact.value)}  ({target})")
            rows.append(
                {
                    "case": fact.case,
                    "fact": fact.key,
                    "title": title,
                    "value": fact.value,
                    "target": fact.target,
                    "passed": fact.passed,
                    "detail": fact.detail,
                }
            )
    print(t("facts.summary", lang, n=len(rows), failed=failed), file=sys.stderr)
    if args.json:
        _write(args.json, json.dumps(rows, indent=1, ensure_ascii=False, default=_plain), lang)
    return 1 if failed else 0


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(type(value).__name__)


def cmd_optimize(args) -> int:
    from crmsim import optimize

    lang = args.lang
    _check_size(args.customers, lang)
    if not 10 <= args.evals <= 100_000:
        raise InputError(
            [Issue("--evals", "evals_range", {"low": 10, "high": 100_000, "value": args.evals})]
        )
    case = load_case(args.case)

    def progress(done: int, total: int, best: float) -> None:
        if done % 25 == 0:
            print(
                t("opt.progress", lang, done=done, total=total, best=f"{best:,.0f}"),
                file=sys.stderr,
            )

    res = optimize.search(
        case,
        evals=args.evals,
        seed=args.seed,
        customers=args.customers or optimize.SEARCH_CUSTOMERS,
        progress=progress,
    )
    for name, row in res.check.items():
        label = t(f"preset.{name}", lang) if name != "best" else t("opt.best", lang)
        print(
            t(
                "opt.line",
                lang,
                name=label,
                score=f"{row['score']:,.0f}",
                delta=f"{row['vs_status_quo']:+.1%}",
                se=f"{row['vs_status_quo_se']:.1%}",
            )
        )
    shares = ", ".join(
        f"{t(f'opt.share_{k}', lang)} {v:.0%}" for k, v in res.mix["shares"].items() if v
    )
    print(t("opt.mix", lang, shares=shares))
    verdict = "opt.agrees" if res.checks["agrees_with_course"] else "opt.disagrees"
    print(t(verdict, lang))
    data = res.as_dict()
    _write(args.json, json.dumps(data, indent=1, ensure_ascii=False, default=_plain), lang)
    if args.answer_key:
        if args.case not in builtin_case_ids():
            raise InputError([Issue("--answer-key", "answer_key_builtin", {"case": case.id})])
        optimize.ANSWER_KEYS.mkdir(parents=True, exist_ok=True)
        path = optimize.ANSWER_KEYS / f"{case.id}.json"
        _write(str(path), json.dumps(data, indent=1, ensure_ascii=False, default=_plain), lang)
    return 0


COMMANDS = {"facts": cmd_facts, "optimize": cmd_optimize}
__all__ = ["COMMANDS", "add_commands"]
