"""Purchase logs as shops export them: columns guessed, rows cleaned and every cleaning reported.

The file itself (size cap, encoding, delimiter, field counts, numbers, dates) is read by
``crmsim.reading``; this module gives the rows their meaning. Columns are guessed from the
header for the common exports (UCI Online Retail and Online Retail II, Shopify and WooCommerce
order exports, Chinese headers such as 客户编号/订单日期/金额/数量/单价) or given by the user.
Then:

- rows without a customer id (guest checkouts; blank, ``0``, ``guest``, ``访客``) are left out
  with a count: about a quarter of the UCI Online Retail rows have none;
- ``amount = quantity × unit price`` when the log has those columns (invoice lines);
- cancellations (an invoice number such as ``C536379``, or a status such as cancelled,
  refunded, voided, 已取消, 已退款, carried to every line of its order) and returns (other
  negative amounts) are left out and reported with their totals;
- a few unreadable dates or amounts (≤ 1%) are left out with a note; more are refused by row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from crmsim.errors import InputError, Issue
from crmsim.reading import (
    TRANSACTIONS,
    check_date_format,
    header_key,
    match_header,
    normalise_ids,
    parse_dates,
    parse_numbers,
    read_table,
    rows_text,
)

MAX_BYTES = TRANSACTIONS.max_bytes
MAX_ROWS = TRANSACTIONS.max_rows
MAX_COLUMNS = TRANSACTIONS.max_columns
MAX_UNREADABLE = 0.01  # a share of rows with unreadable dates or amounts left out with a note
Progress = Callable[[float, str], None]
# Aliases by role, most specific first (the first one the header has wins).
GUESSES: dict[str, tuple[str, ...]] = {
    "customer": (
        "customer_id",
        "customer",
        "cust_id",
        "client_id",
        "member_id",
        "user_id",
        "customer_user",
        "customer_email",
        "billing_email",
        "email_(billing)",
        "email",
        "客户编号",
        "客户id",
        "客户号",
        "客户代码",
        "会员号",
        "会员编号",
        "会员id",
        "用户id",
        "买家id",
        "顾客编号",
        "客户",
        "id",
    ),
    "date": (
        "date",
        "invoice_date",
        "order_date",
        "purchase_date",
        "transaction_date",
        "created_at",
        "date_created",
        "paid_at",
        "日期",
        "交易日期",
        "购买日期",
        "下单日期",
        "订单日期",
        "下单时间",
        "创建时间",
        "付款时间",
        "交易时间",
    ),
    "amount": (
        "amount",
        "line_total",
        "item_total",
        "lineitem_total",
        "value",
        "sales",
        "net_sales",
        "revenue",
        "dollar_value",
        "total",
        "order_total",
        "order_total_amount",
        "金额",
        "消费金额",
        "交易金额",
        "订单金额",
        "实付金额",
        "销售额",
        "小计",
    ),
    "quantity": (
        "quantity",
        "qty",
        "lineitem_quantity",
        "item_quantity",
        "items_sold",
        "数量",
        "购买数量",
        "商品数量",
        "件数",
    ),
    "unit_price": (
        "unit_price",
        "price",
        "lineitem_price",
        "item_price",
        "单价",
        "商品单价",
        "价格",
    ),
    "invoice": (
        "invoice",
        "invoice_no",
        "invoice_number",
        "order_id",
        "order_number",
        "order_no",
        "order",
        "order_#",
        "订单号",
        "订单编号",
        "单号",
        "发票号",
        "交易号",
        "id",  # Shopify's order id (its "Name" #1001 is no safe guess: a name column)
    ),
    "status": (
        "status",
        "order_status",
        "financial_status",
        "订单状态",
        "交易状态",
        "状态",
    ),
}
ROLES = tuple(GUESSES)
REQUIRED = ("customer", "date")
OPTIONS = {
    "customer": "--customer-col",
    "date": "--date-col",
    "amount": "--amount-col",
    "quantity": "--quantity-col",
    "unit_price": "--price-col",
    "invoice": "--invoice-col",
    "status": "--status-col",
}
HEADER_WORDS = frozenset(header_key(n) for names in GUESSES.values() for n in names)
# Customer ids that mean "no customer" (guest checkouts; WooCommerce writes 0 for a guest).
GUEST_IDS = ("", "0", "-", "guest", "null", "none", "nan", "n/a", "na", "访客", "游客", "匿名")
# Order statuses of orders that did not happen (compared in lower case, whole value).
CANCELLED = (
    "cancelled",
    "canceled",
    "refunded",
    "voided",
    "failed",
    "已取消",
    "取消",
    "已退款",
    "退款",
    "交易关闭",
    "已关闭",
)
CANCEL_INVOICE = r"C[0-9]"  # UCI Online Retail: C536379 cancels an invoice


@dataclass
class Transactions:
    """Clean purchases (customer_id str, date datetime64, amount float) and what was cleaned.

    ``columns`` maps each role used to its column; ``amount_from`` says how amounts were read
    (``amount``, ``quantity×price`` or ``price``); ``counts`` the rows read and left out."""

    frame: pd.DataFrame
    notes: list[Issue] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str = ""
    encoding: str = "utf-8"
    amount_from: str = "amount"
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def first_date(self) -> pd.Timestamp:
        return self.frame["date"].min()

    @property
    def last_date(self) -> pd.Timestamp:
        return self.frame["date"].max()


def guess_columns(header: list[str]) -> dict[str, str | None]:
    """The most likely column of each role (None when none is found); case, spaces, ``_``
    and ``-`` do not matter (``CustomerID``, ``Customer ID``, ``Lineitem quantity``)."""
    out: dict[str, str | None] = {}
    for role, names in GUESSES.items():
        taken = {c for c in out.values() if c}
        found = match_header([c for c in header if c not in taken], {role: names})
        out[role] = found.get(role)  # a column serves one role: the first that claims it
    return out


def choose_columns(
    header: list[str], given: dict[str, str | None]
) -> tuple[dict[str, str], str, list[Issue]]:
    """The column of each role (given wins; ``""`` means "none" for an optional role), how
    amounts are read, and the problems (a named column the header lacks, a role not found).

    Amounts: quantity × unit price when both columns are there and no amount column was named;
    else the amount column; else the unit price column alone (one row per purchase)."""
    guess = guess_columns(header)
    chosen: dict[str, str] = {}
    issues: list[Issue] = []
    for role in ROLES:
        col = given.get(role)
        if col is None:
            col = guess[role]
        elif col != "" and col not in header:
            issues.append(
                Issue(role, "tx_column_missing", {"column": col, "known": ", ".join(header)})
            )
            continue
        if col:
            chosen[role] = col
    for role in REQUIRED:
        if role not in chosen and not any(i.field == role for i in issues):
            issues.append(_not_found(role, header))
    if "quantity" in chosen and "unit_price" in chosen and not given.get("amount"):
        source = "quantity×price"
    elif "amount" in chosen:
        source = "amount"
    elif "unit_price" in chosen:
        source = "price"
    else:
        source = ""
        if not any(i.field == "amount" for i in issues):
            issues.append(_not_found("amount", header))
    return chosen, source, issues


def _not_found(role: str, header: list[str]) -> Issue:
    return Issue(role, "tx_column_not_found", {"known": ", ".join(header), "option": OPTIONS[role]})


def read_transactions(
    raw: bytes,
    customer_col: str | None = None,
    date_col: str | None = None,
    amount_col: str | None = None,
    date_format: str | None = None,
    source: str = "transactions",
    today: date | None = None,
    drop_duplicates: bool = False,
    *,
    day_first: bool | None = None,
    quantity_col: str | None = None,
    price_col: str | None = None,
    invoice_col: str | None = None,
    status_col: str | None = None,
    progress: Progress | None = None,
) -> Transactions:
    """Parse, clean and check a purchase log (one row per purchase or invoice line).

    Columns are guessed when not given (``""`` for an optional column: do not use one).
    ``date_format`` forces a strftime format; ``day_first`` settles ``05/04/2024`` when both
    orders read every date (otherwise that is refused, not guessed). Rows repeating another
    exactly are reported and kept (in CDNOW they are real: two orders on one day), or left out
    with ``drop_duplicates``. Refused with a message naming the column and rows: missing
    columns, unreadable dates or amounts (> 1%), non-finite amounts, future dates, ids Excel
    turned into ``1.23E+11``, a log with no customer ids at all, oversized files.
    """
    tick = progress or (lambda _f, _k: None)
    if date_format:
        check_date_format(date_format)
    given = {
        "customer": customer_col,
        "date": date_col,
        "amount": amount_col,
        "quantity": quantity_col,
        "unit_price": price_col,
        "invoice": invoice_col,
        "status": status_col,
    }
    picked: dict = {}

    def choose(header: list[str]) -> list[str]:
        chosen, amount_from, issues = choose_columns(header, given)
        if issues:
            raise InputError(issues, source)
        picked.update(chosen=chosen, amount_from=amount_from)
        return list(dict.fromkeys(chosen.values()))

    tick(0.0, "read")
    table = read_table(
        raw, TRANSACTIONS, source, choose, HEADER_WORDS, ("tx_no_rows", "tx_too_many_rows")
    )
    chosen, amount_from = picked["chosen"], picked["amount_from"]
    df = table.frame
    tick(0.45, "dates")
    cust, scientific = normalise_ids(df[chosen["customer"]])
    guest = cust.str.lower().isin(GUEST_IDS)
    dates = _dates(df[chosen["date"]], chosen["date"], date_format, day_first, source)
    tick(0.75, "amounts")
    amounts, amount_field = _amounts(df, chosen, amount_from)
    tick(0.85, "clean")
    bad_dates = _refuse_bad_rows(
        chosen, amount_field, guest, scientific, dates, amounts, today, source
    )
    keep, cancelled, returns, blank, unreadable, notes = _rows_left_out(
        df, chosen, amount_field, guest, dates, amounts, bad_dates
    )
    frame = pd.DataFrame(
        {"customer_id": cust[keep], "date": dates.values[keep], "amount": amounts.values[keep]}
    )
    exact = [cust, df[chosen["date"]], amounts.values]
    if "invoice" in chosen:
        exact.append(df[chosen["invoice"]])
    dup = pd.concat(exact, axis=1)[keep].duplicated().to_numpy()
    if dup.any():
        key = "tx_duplicates_dropped" if drop_duplicates else "tx_duplicates_kept"
        notes.append(Issue("", key, {"count": int(dup.sum())}))
        if drop_duplicates:
            frame = frame[~dup]
    frame = frame.reset_index(drop=True)
    if frame.empty:
        raise InputError([Issue(amount_field, "column_empty")], source)
    counts = {
        "rows": len(df),
        "guests": int(guest.sum()),
        "cancelled": int(cancelled.sum()),
        "returns": int(returns.sum()),
        "unreadable": int((unreadable | bad_dates).sum()),
        "blank_amounts": int(blank.sum()),
        "duplicates": int(dup.sum()),
        "kept": len(frame),
    }
    tick(1.0, "clean")
    return Transactions(
        frame, notes, dict(chosen), dates.format, table.encoding, amount_from, counts
    )


def _refuse_bad_rows(chosen, amount_field, guest, scientific, dates, amounts, today, source):
    """Refuse the log (InputError naming columns and rows) when too much of it is unreadable:
    no customer ids, ids Excel turned into 1.23E+11, unreadable dates or amounts (> 1%),
    future dates, non-finite amounts, no amount at all. Returns the rows with an unreadable
    date (few enough to leave out)."""
    issues: list[Issue] = []
    if guest.all():
        issues.append(Issue(chosen["customer"], "column_blank", {"rows": rows_text(guest)}))
    if scientific.any():
        issues.append(
            Issue(chosen["customer"], "column_id_scientific", {"rows": rows_text(scientific)})
        )
    known = ~guest  # the guests' rows are left out whatever they hold
    bad_dates = dates.bad & known
    if bad_dates.any() and bad_dates.sum() > MAX_UNREADABLE * max(int(known.sum()), 1):
        issues.append(Issue(chosen["date"], "tx_bad_dates", {"rows": rows_text(bad_dates)}))
    today = pd.Timestamp(today or date.today())
    future = (dates.values > today) & known
    if future.any():
        issues.append(
            Issue(
                chosen["date"],
                "tx_future",
                {"rows": rows_text(future), "today": f"{today:%Y-%m-%d}"},
            )
        )
    not_finite = amounts.not_finite & known
    if not_finite.any():
        issues.append(Issue(amount_field, "column_not_finite", {"rows": rows_text(not_finite)}))
    unreadable = amounts.bad & known
    if unreadable.sum() > MAX_UNREADABLE * max(int(known.sum()), 1):
        issues.append(Issue(amount_field, "column_not_number", {"rows": rows_text(unreadable)}))
    if amounts.values[known].isna().all() and not issues:
        issues.append(Issue(amount_field, "column_empty"))
    if issues:
        raise InputError(issues, source)
    return bad_dates


def _rows_left_out(df, chosen, amount_field, guest, dates, amounts, bad_dates):
    """The rows a log keeps, and a note for each kind it leaves out: guests, unreadable
    dates and amounts, blank amounts, cancellations and returns. Returns the kept rows, the
    masks of those left out (cancelled, returns, blank, unreadable) and the notes."""
    notes: list[Issue] = []
    known = ~guest
    if bad_dates.any():
        notes.append(Issue(chosen["date"], "tx_dates_dropped", {"rows": rows_text(bad_dates)}))
    if guest.any():
        notes.append(
            Issue(
                chosen["customer"],
                "tx.guests",
                {"count": f"{int(guest.sum()):,}", "share": f"{guest.mean():.1%}"},
            )
        )
    unreadable = amounts.bad & known
    if unreadable.any():
        notes.append(Issue(amount_field, "tx_amounts_dropped", {"rows": rows_text(unreadable)}))
    blank = amounts.values.isna() & ~amounts.bad & known
    if blank.any():
        notes.append(Issue(amount_field, "tx_blank_amounts", {"rows": rows_text(blank)}))
    keep = known & amounts.values.notna() & dates.values.notna()
    cancelled = keep & _cancelled(df, chosen)
    if cancelled.any():
        notes.append(
            Issue(
                chosen.get("invoice", chosen.get("status", "")),
                "tx.cancelled",
                {
                    "count": f"{int(cancelled.sum()):,}",
                    "total": f"{amounts.values[cancelled].abs().sum():,.2f}",
                },
            )
        )
    returns = keep & ~cancelled & (amounts.values < 0)
    if returns.any():
        notes.append(
            Issue(
                amount_field,
                "tx_returns",
                {
                    "count": int(returns.sum()),
                    "total": f"{-amounts.values[returns].sum():,.2f}",
                },
            )
        )
    keep &= ~cancelled & ~returns
    return keep, cancelled, returns, blank, unreadable, notes


def _dates(col: pd.Series, name: str, fmt: str | None, day_first: bool | None, source: str):
    """Dates read once per distinct text (invoice lines repeat their invoice's time stamp:
    a million lines hold a few hundred thousand), then spread back to the rows."""
    codes, uniq = pd.factorize(col, use_na_sentinel=False)
    try:
        read = parse_dates(pd.Series(uniq, dtype=str), name, fmt, day_first)
    except InputError as exc:  # an ambiguous order: a problem of this file
        raise InputError(exc.issues, source) from None
    values = pd.Series(read.values.to_numpy()[codes], index=col.index)
    bad = pd.Series(read.bad.to_numpy()[codes], index=col.index)
    return type(read)(values, read.format, bad)


def _amounts(df: pd.DataFrame, chosen: dict[str, str], amount_from: str):
    """The amount of each row (quantity × unit price for invoice lines) and the field named
    in messages about it."""
    if amount_from != "quantity×price":
        col = chosen["amount"] if amount_from == "amount" else chosen["unit_price"]
        return parse_numbers(df[col]), col
    qty, price = parse_numbers(df[chosen["quantity"]]), parse_numbers(df[chosen["unit_price"]])
    values = qty.values * price.values
    bad = qty.bad | price.bad
    not_finite = (qty.not_finite | price.not_finite | np.isinf(values)) & ~bad
    both = f"{chosen['quantity']} × {chosen['unit_price']}"
    return type(qty)(values.where(~not_finite), bad, not_finite), both


def _cancelled(df: pd.DataFrame, chosen: dict[str, str]) -> pd.Series:
    """Lines of cancelled orders: an invoice number starting ``C`` and a digit, or a status
    of an order that did not happen, carried to the other lines of its order (Shopify writes
    order-level fields on the first line only)."""
    out = pd.Series(False, index=df.index)
    if "invoice" in chosen:
        out |= df[chosen["invoice"]].str.strip().str.match(CANCEL_INVOICE)
    if "status" in chosen:
        status = df[chosen["status"]].str.strip().str.lower()
        if "invoice" in chosen:
            order = df[chosen["invoice"]].str.strip()
            first = status.where(status.ne("")).groupby(order).transform("first")
            status = status.where(status.ne("") | order.eq(""), first.fillna(""))
        out |= status.isin(CANCELLED)
    return out


def columns_text(tx: Transactions, lang: str) -> str:
    """Which column plays which role (guessed or given) and the date format, as the CLI
    prints it and the Real data page shows it."""
    from crmsim.i18n import t

    cols = dict(tx.columns)
    if tx.amount_from == "quantity×price":
        cols["amount"] = f"{cols['quantity']} × {cols['unit_price']}"
    elif tx.amount_from == "price":
        cols["amount"] = cols["unit_price"]
    shown = [
        f"{t(f'cli.tx.role_{role}', lang)} = {cols[role]}"
        for role in ("customer", "date", "amount", "invoice", "status")
        if role in cols
    ]
    return t("cli.tx.columns", lang, columns=", ".join(shown), format=tx.date_format or "-")


def parse_day(text: str | None, field_name: str) -> pd.Timestamp | None:
    """A date typed by a user, read like a purchase log's dates (2024-03-31, 20240331,
    2024/3/31, 2024年3月31日), or an ``InputError``."""
    if text is None or str(text).strip() == "":
        return None
    try:
        read = parse_dates(pd.Series([str(text).strip()[:40]]), field_name)
    except InputError:
        read = None
    if read is None or read.bad.any():
        raise InputError([Issue(field_name, "tx_bad_day", {"value": str(text)[:30]})], field_name)
    return pd.Timestamp(read.values.iloc[0])
