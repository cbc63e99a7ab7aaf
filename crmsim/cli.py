"""Command line: ``python -m crmsim COMMAND`` (cases, generate, segment, simulate, compare,
validate, rfm, clv, bench, facts, optimize; rfm and clv in ``cli_logs``, facts and optimize in
``cli_model``).

Every input file is validated first; problems are printed in the chosen language (``--lang``,
default from ``LANG``) with the field they concern, and the exit code is 1. No traceback is
shown unless ``CRMSIM_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from pathlib import Path

from crmsim import cli_logs, cli_model, exports
from crmsim.cases import (
    CASES_DIR,
    Case,
    builtin_case_ids,
    calibration_report,
    load_case,
    load_case_bytes,
)
from crmsim.cli_common import check_months as _check_months
from crmsim.cli_common import check_size as _check_size
from crmsim.cli_common import write as _write
from crmsim.errors import InputError, Issue
from crmsim.i18n import Lang, catalog, normalize_lang, t
from crmsim.plans import (
    PRESETS,
    Plan,
    check_plan_for_case,
    load_plan,
    load_plan_bytes,
    preset_plan,
    segment_spend,
    validate_plan,
)
from crmsim.reading import loads_json


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m crmsim", description="CRM Lab: customer relationship simulator"
    )
    p.add_argument("--lang", choices=["zh", "en"], help="message language (default: from LANG)")
    # --lang is also accepted after the command (python -m crmsim validate x.toml --lang en)
    lang = argparse.ArgumentParser(add_help=False)
    lang.add_argument("--lang", choices=["zh", "en"], default=argparse.SUPPRESS, help="as above")
    sub = p.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[lang])

    command("cases", "list built-in cases").add_argument(
        "--json", metavar="OUT", help="also write the list as JSON"
    )

    def common(sp: argparse.ArgumentParser, plan: bool = False) -> None:
        sp.add_argument("--case", required=True, help="built-in case id or a case .toml file")
        sp.add_argument("--customers", type=int, help="population size (default: the case's)")
        sp.add_argument("--seed", type=int, default=42)
        if plan:
            sp.add_argument("--months", type=int, help="months to simulate (default: the case's)")

    g = command("generate", "generate customers and write them as CSV")
    common(g)
    g.add_argument("--locale", choices=["zh", "en"], default="zh", help="names in zh or en")
    g.add_argument("--out", required=True, help="CSV file to write (UTF-8 with BOM)")

    s = command("segment", "segment a generated population and print profiles")
    common(s)
    s.add_argument(
        "--method", default="pyramid", choices=["rfm", "abc", "pyramid", "clv", "kmeans", "rules"]
    )
    s.add_argument("--params", default="{}", help="method parameters as JSON")
    s.add_argument("--json", metavar="OUT", help="write the profile table as JSON")

    sim = command("simulate", "simulate a plan and report KPIs")
    common(sim, plan=True)
    src = sim.add_mutually_exclusive_group()
    src.add_argument("--plan", help="plan file (.toml or .json)")
    src.add_argument("--preset", choices=list(PRESETS), help="a built-in plan")
    sim.add_argument("--json", metavar="OUT", help="write the full result summary as JSON")

    cmp_ = command("compare", "compare plans on the same population and seed")
    common(cmp_, plan=True)
    cmp_.add_argument("--plans", nargs="*", default=[], help="plan files")
    cmp_.add_argument("--presets", nargs="*", default=[], choices=list(PRESETS))
    cmp_.add_argument("--json", metavar="OUT", help="write KPIs per plan as JSON")

    v = command("validate", "check a case, plan, customers or purchase-log file")
    v.add_argument("file", help="a built-in case id, a case .toml, a plan .toml/.json, or a .csv")
    v.add_argument(
        "--kind", choices=["auto", "case", "plan", "customers", "transactions"], default="auto"
    )
    v.add_argument("--case", help="for plans: the case to check the budget and segments against")
    v.add_argument("--customers", type=int, help="calibration population (default: the case's)")
    v.add_argument("--seed", type=int, default=2024)
    v.add_argument("--no-calibration", action="store_true", help="schema check only")

    cli_logs.add_commands(command)

    b = command("bench", "measure engine speed, memory and population time")
    b.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="OUT",
        help="write results as JSON (to OUT, or stdout)",
    )
    b.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    cli_model.add_commands(command)
    return p


def _population(args, case: Case):
    from crmsim.population import generate

    _check_size(args.customers, args.lang)
    return generate(case, args.customers, seed=args.seed)


def _plan_for(args, case: Case, pop) -> Plan:
    if getattr(args, "plan", None):
        return load_plan(args.plan)
    if getattr(args, "preset", None):
        return _preset(args.preset, case, pop)
    return case.status_quo


def _preset(name: str, case: Case, pop) -> Plan:
    from crmsim.segmentation import segment_for_case

    seg = segment_for_case(
        pop.customers,
        case.status_quo.segmentation.method,
        case.status_quo.segmentation.params,
        case,
        pop.seed,
    )
    return preset_plan(name, case, seg, pop.n)


def _run(args, case: Case, pop, plan: Plan):
    from crmsim.model.run import simulate
    from crmsim.segmentation import segment_for_case

    seg = segment_for_case(
        pop.customers, plan.segmentation.method, plan.segmentation.params, case, args.seed
    )
    validate_plan(plan, seg.names, case, segment_spend(pop, seg, case))
    return simulate(pop, case, plan, args.months, args.seed, segmentation=seg)


def cmd_cases(args) -> int:
    rows = []
    for cid in builtin_case_ids():
        c = load_case(cid)
        rows.append(
            {
                "id": cid,
                "version": c.version,
                "kind": c.kind,
                "customers": c.population.customers,
                "months": c.months,
                "title_zh": c.title.zh,
                "title_en": c.title.en,
            }
        )
        print(f"{cid:12s} {c.kind:15s} {c.population.customers:>8,}  {c.title.get(args.lang)}")
    if args.json:
        _write(args.json, json.dumps(rows, ensure_ascii=False, indent=2), args.lang)
    return 0


def cmd_generate(args) -> int:
    from crmsim.population import generate

    case = load_case(args.case)
    _check_size(args.customers, args.lang)
    pop = generate(case, args.customers, seed=args.seed, locale=args.locale)
    Path(args.out).write_bytes(exports.csv_bytes(pop.customers))
    print(t("cli.wrote", args.lang, path=args.out), file=sys.stderr)
    return 0


def cmd_segment(args) -> int:
    from crmsim.segmentation import segment_for_case

    case = load_case(args.case)
    params = loads_json(args.params[:20_000], field="--params")
    if not isinstance(params, dict):
        raise InputError([Issue("--params", "not_table")])
    pop = _population(args, case)
    seg = segment_for_case(pop.customers, args.method, params, case, args.seed)
    prof = seg.profile.copy()
    prof.insert(1, "name", [_seg_name(s, args.lang) for s in prof["segment"]])
    shown = prof.rename(columns={c: t(f"col.{c}", args.lang) for c in prof.columns})
    print(shown.to_string(index=False, float_format=lambda x: f"{x:,.3f}"))
    if args.json:
        _write(args.json, prof.to_json(orient="records", force_ascii=False, indent=2), args.lang)
    return 0


def _seg_name(key: str, lang: Lang) -> str:
    if key.startswith("cluster_"):
        return t("seg.cluster", lang, n=key.split("_", 1)[1])
    text = t(f"seg.{key}", lang)
    return key if text == f"seg.{key}" else text


def cmd_simulate(args) -> int:
    from crmsim.metrics import KPI_KEYS, summary_json

    case = load_case(args.case)
    _check_months(args.months)
    pop = _population(args, case)
    plan = _plan_for(args, case, pop)
    res = _run(args, case, pop, plan)
    sq = res if plan == case.status_quo else _run(args, case, pop, case.status_quo)
    out = summary_json(res, case, None if sq is res else sq)
    for key in KPI_KEYS:
        print(f"{t(f'kpi.{key}', args.lang)}: {_fmt(out[key])}")
    if args.json:
        _write(args.json, json.dumps(out, ensure_ascii=False, indent=2), args.lang)
    return 0


def _fmt(val) -> str:
    if val is None:
        return "—"
    return f"{val:,.4f}" if isinstance(val, float) else f"{val:,}"


def cmd_compare(args) -> int:
    import pandas as pd

    from crmsim.metrics import kpis

    case = load_case(args.case)
    _check_months(args.months)
    pop = _population(args, case)
    plans = [load_plan(p) for p in args.plans] + [_preset(n, case, pop) for n in args.presets]
    if not plans:
        plans = [_preset(n, case, pop) for n in ("status_quo", "zero", "pyramid")]
    sq = _run(args, case, pop, case.status_quo)
    table = {}
    for plan in plans:
        res = sq if plan == case.status_quo else _run(args, case, pop, plan)
        table[plan.name] = kpis(res, case, None if res is sq else sq)
    df = pd.DataFrame(table)
    df.index = [
        t(f"kpi.{k}", args.lang) if f"kpi.{k}" in catalog(args.lang) else k for k in df.index
    ]
    print(df.to_string(float_format=lambda x: f"{x:,.3f}"))
    if args.json:
        _write(args.json, json.dumps(table, ensure_ascii=False, indent=2), args.lang)
    return 0


def _file_kind(raw: bytes, path: Path) -> str:
    """What a file handed to ``validate`` is: a CSV is a purchase log when it has a date
    column, else a customers file; a JSON file is a plan; a TOML file is a plan when it has
    only a plan's keys (a plan may well mention "population" in a comment), else a case."""
    from crmsim.reading import CASE, TRANSACTIONS, read_csv_header, read_structured

    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        from crmsim.transactions import guess_columns

        header = read_csv_header(raw, TRANSACTIONS, path.name)
        return "transactions" if guess_columns(header)["date"] else "customers"
    if suffix == ".json":
        return "plan"
    data = read_structured(raw, "toml", CASE, path.name)
    return "plan" if set(data) <= set(Plan.model_fields) else "case"


def cmd_validate(args) -> int:
    path = Path(args.file)
    if not path.exists() and args.file in builtin_case_ids():
        path = CASES_DIR / f"{args.file}.toml"
    try:
        raw = path.read_bytes()
    except OSError:
        raise InputError([Issue("", "cannot_read", {"path": path.name})], path.name) from None
    kind = _file_kind(raw, path) if args.kind == "auto" else args.kind
    if kind == "customers":
        from crmsim.customers_io import read_customers_csv

        table, encoding = read_customers_csv(raw, path.name)
        print(t("cli.valid_customers", args.lang, n=f"{len(table):,}", encoding=encoding))
        return 0
    if kind == "transactions":
        tx, _ = cli_logs.read_log(args, raw, path.name)
        print(
            t(
                "cli.valid_transactions",
                args.lang,
                rows=f"{len(tx.frame):,}",
                n=f"{tx.frame['customer_id'].nunique():,}",
                first=f"{tx.first_date:%Y-%m-%d}",
                last=f"{tx.last_date:%Y-%m-%d}",
                encoding=tx.encoding,
            )
        )
        return 0
    if kind == "plan":
        plan = load_plan_bytes(raw, "json" if path.suffix.lower() == ".json" else "toml", path.name)
        if args.case:
            from crmsim.segmentation import segment_for_case

            case = load_case(args.case)
            issues = check_plan_for_case(plan, case)  # as every plan file is checked
            if issues:
                raise InputError(issues, path.name)
            pop = _population(
                argparse.Namespace(customers=2000, seed=args.seed, lang=args.lang), case
            )
            seg = segment_for_case(
                pop.customers, plan.segmentation.method, plan.segmentation.params, case, args.seed
            )
            validate_plan(plan, seg.names, case, segment_spend(pop, seg, case))  # rates too
        print(t("cli.valid_plan", args.lang, name=plan.name))
        return 0
    case = load_case_bytes(raw, path.name)
    print(t("cli.valid_case", args.lang, id=case.id, version=case.version))
    if args.no_calibration:
        return 0
    _check_size(args.customers, args.lang)
    n = args.customers or case.population.customers
    print(t("cli.calibration", args.lang, n=f"{n:,}", months=case.months, seed=args.seed))
    ok = True
    for row in calibration_report(case, n, args.seed):
        ok &= row["met"]
        status = t("cli.target_met" if row["met"] else "cli.target_missed", args.lang)
        print(
            "  "
            + t(
                "cli.target_line",
                args.lang,
                status=status,
                name=t(f"target.{row['name']}", args.lang),
                value=f"{row['value']:.4f}",
                low=f"{row['low']:.4f}",
                high=f"{row['high']:.4f}",
            )
        )
    return 0 if ok else 1


def cmd_bench(args) -> int:
    from crmsim import bench

    log = (lambda msg: print(msg, file=sys.stderr)) if args.json == "-" else print
    if args.quick:
        result = bench.run(
            sizes=(2_000, 10_000), reference_n=300, reference_months=12, repeats=1, log=log
        )
    else:
        print(t("cli.bench_title", args.lang, machine=bench.machine()), file=sys.stderr)
        result = bench.run(log=log)
    if args.json:
        _write(args.json, json.dumps(result, indent=2), args.lang)
    else:
        print(bench.markdown(result))
    return 0


COMMANDS = {
    "cases": cmd_cases,
    "generate": cmd_generate,
    "segment": cmd_segment,
    "simulate": cmd_simulate,
    "compare": cmd_compare,
    "validate": cmd_validate,
    "bench": cmd_bench,
    **cli_logs.COMMANDS,
    **cli_model.COMMANDS,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 bad input or missed target, 2 internal)."""
    args = _parser().parse_args(argv)
    args.lang = args.lang or normalize_lang(os.environ.get("LANG"), default="en")
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        head = (
            t("cli.invalid_file", args.lang, source=exc.source)
            if exc.source
            else t("cli.error", args.lang) + ":"
        )
        print(head, file=sys.stderr)
        for line in exc.report(args.lang).splitlines():
            print("  - " + line, file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(t("cli.interrupted", args.lang), file=sys.stderr)
        return 130
    except OSError as exc:  # said in the user's language, not the system's English
        reason = errno.errorcode.get(exc.errno or 0, "")
        key = f"cli.os_{reason}" if f"cli.os_{reason}" in catalog(args.lang) else "cli.os_other"
        name = Path(exc.filename).name if exc.filename else ""
        print(f"{t('cli.error', args.lang)}: {t(key, args.lang, path=name)}", file=sys.stderr)
        return 1
    except Exception as exc:  # no traceback reaches the user; CRMSIM_DEBUG=1 shows it
        if os.environ.get("CRMSIM_DEBUG") == "1":
            raise
        print(f"{t('cli.internal', args.lang)}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
