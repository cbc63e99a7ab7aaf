"""Purchase logs on the command line: ``rfm`` (the per-customer summary) and ``clv`` (BG/NBD +
Gamma-Gamma, P(alive) and CLV per customer). Registered by ``crmsim.cli``."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path

from crmsim import exports
from crmsim.cli_common import write as _write
from crmsim.errors import InputError, Issue
from crmsim.i18n import t


def add_commands(command) -> None:
    """Add ``rfm`` and ``clv`` to the CLI's sub-commands."""
    for name, what in (
        ("rfm", "summarise a transactions CSV per customer (frequency, recency, T, monetary)"),
        ("clv", "fit BG/NBD + Gamma-Gamma to a transactions CSV; P(alive) and CLV per customer"),
    ):
        tx = command(name, what)
        tx.add_argument("--transactions", required=True, help="CSV: one row per purchase")
        tx.add_argument("--customer-col", help="customer id column (default: guessed)")
        tx.add_argument("--date-col", help="date column (default: guessed)")
        tx.add_argument("--amount-col", help="amount column (default: guessed)")
        tx.add_argument("--quantity-col", help="quantity column (amount = quantity × unit price)")
        tx.add_argument("--price-col", help="unit price column (amount = quantity × unit price)")
        tx.add_argument("--invoice-col", help="invoice or order number (C… = cancelled)")
        tx.add_argument("--status-col", help="order status (cancelled, refunded … left out)")
        tx.add_argument("--date-format", help="strftime format, e.g. %%Y%%m%%d (default: guessed)")
        tx.add_argument(
            "--date-order",
            choices=["auto", "day", "month"],
            default="auto",
            help="05/04/2024: day first or month first (default: refused when unclear)",
        )
        tx.add_argument(
            "--progress", action="store_true", help="show a progress bar (default: on a terminal)"
        )
        tx.add_argument("--drop-duplicates", action="store_true", help="leave out repeated rows")
        tx.add_argument("--calibration-end", help="last day of the calibration period")
        tx.add_argument("--observation-end", help="last day of the holdout (default: last date)")
        tx.add_argument("--time-unit", choices=["D", "W", "M"], default="W")
        tx.add_argument("--out", help="write the per-customer table as CSV (UTF-8 with BOM)")
        tx.add_argument("--json", metavar="OUT", help="write the results as JSON")
        if name == "clv":
            tx.add_argument("--months", type=int, default=12, help="CLV horizon in months")
            tx.add_argument("--discount", type=float, default=0.10, help="annual discount rate")
            tx.add_argument("--margin", type=float, default=1.0, help="margin share of spend")


def _bar(args):
    """A progress bar on stderr when it is a terminal or ``--progress`` asks for one."""
    from crmsim.progress import TextBar

    if getattr(args, "progress", False) or sys.stderr.isatty():
        return TextBar(args.lang)
    return None


def read_log(args, raw: bytes | None = None, name: str = ""):
    """Read the purchase log the arguments name (or ``raw``), printing the columns it used
    and its notes on stderr; returns the transactions and the period ends."""
    from crmsim.transactions import columns_text, parse_day, read_transactions

    if raw is None:
        path = Path(args.transactions)
        name = path.name
        try:
            raw = path.read_bytes()
        except OSError:
            raise InputError([Issue("", "cannot_read", {"path": name})], name) from None
    bar = _bar(args)
    try:
        tx = read_transactions(
            raw,
            getattr(args, "customer_col", None),
            getattr(args, "date_col", None),
            getattr(args, "amount_col", None),
            getattr(args, "date_format", None),
            name,
            drop_duplicates=getattr(args, "drop_duplicates", False),
            day_first={"day": True, "month": False}.get(getattr(args, "date_order", "auto")),
            quantity_col=getattr(args, "quantity_col", None),
            price_col=getattr(args, "price_col", None),
            invoice_col=getattr(args, "invoice_col", None),
            status_col=getattr(args, "status_col", None),
            progress=bar.part(0.0, 0.5) if bar else None,
        )
    finally:
        if bar:
            bar.close()  # the notes below start on a line of their own
    args._bar = bar
    print(columns_text(tx, args.lang), file=sys.stderr)
    for note in tx.notes:
        print(t("cli.note", args.lang, text=note.render(args.lang)), file=sys.stderr)
    ends = (
        parse_day(getattr(args, "calibration_end", None), "--calibration-end"),
        parse_day(getattr(args, "observation_end", None), "--observation-end"),
    )
    return tx, ends


@contextmanager
def _about(path: str):
    """Problems the summary or the fit finds in a log are the file's: name it."""
    try:
        yield
    except InputError as exc:
        exc.source = Path(path).name
        raise


def cmd_rfm(args) -> int:
    from crmsim.transactions import rfm_summary

    tx, (cal_end, obs_end) = read_log(args)
    with _about(args.transactions):
        summary = rfm_summary(tx, cal_end, obs_end, args.time_unit)
    print(
        t(
            "cli.rfm_head",
            args.lang,
            n=f"{len(summary):,}",
            repeat=f"{(summary['frequency'] > 0).mean():.1%}",
            unit=t(f"unit.{args.time_unit}", args.lang),
        )
    )
    cols = ["frequency", "recency", "T", "monetary"]
    print(
        summary[cols]
        .describe()
        .loc[["mean", "50%", "max"]]
        .to_string(float_format="{:,.2f}".format)
    )
    if args.out:
        Path(args.out).write_bytes(exports.csv_bytes(summary, index=True))
        print(t("cli.wrote", args.lang, path=args.out), file=sys.stderr)
    if args.json:
        stats = {c: float(summary[c].mean()) for c in cols}
        body = {"customers": len(summary), "time_unit": args.time_unit, "mean": stats}
        _write(args.json, json.dumps(body, ensure_ascii=False, indent=2), args.lang)
    return 0


def cmd_clv(args) -> int:
    from crmsim.transactions import analyse

    tx, (cal_end, obs_end) = read_log(args)
    if not 1 <= args.months <= 120:
        raise InputError(
            [Issue("--months", "months_range", {"low": 1, "high": 120, "value": args.months})]
        )
    bar = getattr(args, "_bar", None)
    try:
        with _about(args.transactions):
            found = analyse(
                tx,
                cal_end,
                obs_end,
                args.time_unit,
                args.months,
                args.discount,
                args.margin,
                progress=bar.part(0.5, 1.0) if bar else None,
            )
    finally:
        if bar:
            bar.close()
    bg, gg = found.bgnbd, found.gamma_gamma
    print(
        t(
            "cli.clv_head",
            args.lang,
            n=f"{len(found.summary):,}",
            end=f"{found.calibration_end:%Y-%m-%d}",
            unit=t(f"unit.{args.time_unit}", args.lang),
            seconds=f"{found.seconds:.2f}",
        )
    )
    print(
        f"  BG/NBD       r={bg.r:.4f}  alpha={bg.alpha:.4f}  a={bg.a:.4f}  b={bg.b:.4f}"
        f"  LL={bg.log_likelihood:,.2f}"
    )
    print(f"  Gamma-Gamma  p={gg.p:.4f}  q={gg.q:.4f}  v={gg.v:.4f}")
    report = found.report(args.lang)
    for finding in found.diagnostics:
        mark = {"warning": "!", "ok": "✓"}.get(finding.level, "·")
        print(f"  {mark} {finding.render(args.lang)}")
    print(
        t(
            "cli.clv_total",
            args.lang,
            months=args.months,
            total=f"{report['total_clv']:,.2f}",
            alive=f"{report['mean_p_alive']:.1%}",
        )
    )
    if args.out:
        table = found.summary.join(found.values)
        Path(args.out).write_bytes(exports.csv_bytes(table, index=True))
        print(t("cli.wrote", args.lang, path=args.out), file=sys.stderr)
    if args.json:
        _write(args.json, json.dumps(report, ensure_ascii=False, indent=2), args.lang)
    return 0


COMMANDS = {"rfm": cmd_rfm, "clv": cmd_clv}
