"""Real data: a purchase log → RFM, BG/NBD + Gamma-Gamma CLV, segments, a population like it."""

import pandas as pd
import streamlit as st

from crmsim import charts
from crmsim.customers_io import to_csv_bytes
from crmsim.errors import InputError
from crmsim.i18n import t
from crmsim.segmentation import segment, tiers_by_value
from crmsim.transactions import UNITS, columns_text, segment_frame
from crmsim.ui import fit_report, formatting, like_panel, navigation, purchase_logs, uploads

lang = navigation.bootstrap("real_data")
st.title(t("real.title", lang))
st.caption(t("real.intro", lang))

log = purchase_logs.chosen_log(lang)  # a refused upload leaves the log analysed before
if log is None:
    st.info(t("real.waiting", lang))
    st.stop()
source, tx = log.source, log.tx
st.caption(columns_text(tx, lang))  # the guess (or the choice), editable above
for note in tx.notes:
    st.info(note.render(lang))
st.caption(
    t(
        "real.read",
        lang,
        rows=f"{len(tx.frame):,}",
        customers=f"{tx.frame['customer_id'].nunique():,}",
        first=f"{tx.first_date:%Y-%m-%d}",
        last=f"{tx.last_date:%Y-%m-%d}",
        encoding=tx.encoding,
    )
)

st.subheader(t("real.settings", lang))
span = tx.last_date - tx.first_date
first_day, last_day = (tx.first_date + pd.Timedelta(days=1)).date(), tx.last_date.date()
left, mid, right = st.columns(3)
cal_end = left.date_input(
    t("real.calibration_end", lang),
    value=(tx.first_date + span / 2).date(),
    min_value=first_day,
    max_value=last_day,
    key=f"real_cal_end_{log.digest}",  # each file's own range
    help=t("real.calibration_help", lang),
)
obs_end = mid.date_input(
    t("real.log.observation_end", lang),
    value=last_day,
    min_value=first_day,
    max_value=last_day,
    key=f"real_obs_end_{log.digest}",
    help=t("real.log.observation_help", lang),
)
unit = right.radio(
    t("real.unit", lang),
    list(UNITS),
    index=1,
    horizontal=True,
    format_func=lambda u: t(f"unit.{u}", lang),
    key="real_unit",
)
left, mid, right = st.columns(3)
months = left.number_input(t("real.log.months", lang), 1, 120, 12, key="real_months")
discount = mid.number_input(
    t("real.log.discount", lang), 0.0, 1.0, 0.10, 0.01, format="%.2f", key="real_discount"
)
margin = right.number_input(
    t("real.log.margin", lang), 0.0, 1.0, 1.0, 0.05, format="%.2f", key="real_margin"
)
settings = (pd.Timestamp(cal_end), pd.Timestamp(obs_end), unit, int(months), discount, margin)
try:
    found = purchase_logs.analyse_log(log, settings, lang)
except InputError as exc:
    exc.source = source
    uploads.show_input_error(exc, lang)
    st.stop()
bg, gg, summary, values = found.bgnbd, found.gamma_gamma, found.summary, found.values
a, b, c, d, e = st.columns(5)
a.metric(t("real.customers", lang), f"{len(summary):,}")
b.metric(t("real.repeat_share", lang), f"{(summary['frequency'] > 0).mean():.0%}")
c.metric(t("real.mean_alive", lang), f"{values['p_alive'].mean():.0%}")
d.metric(
    t("real.log.total_clv", lang, months=int(months)),
    formatting.money(float(values["clv"].sum()), lang),
)
e.metric(t("real.fit_time", lang), f"{found.seconds:.2f} s")

st.subheader(t("real.models", lang))
st.dataframe(
    fit_report.parameter_table(found, lang),
    hide_index=True,
    column_config={t("real.estimate", lang): st.column_config.NumberColumn(format="%.4f")},
)
st.caption(t("real.loglik", lang, bg=f"{bg.log_likelihood:,.2f}", gg=f"{gg.log_likelihood:,.2f}"))
fit_report.show_diagnostics(found, lang)
if found.holdout is not None:
    actual, predicted = found.holdout_totals
    st.plotly_chart(charts.holdout_check(found.holdout, lang), key="real_holdout")
    st.caption(
        t(
            "real.holdout_total",
            lang,
            actual=f"{actual:,.0f}",
            predicted=f"{predicted:,.0f}",
            start=f"{found.calibration_end:%Y-%m-%d}",
            end=f"{found.observation_end:%Y-%m-%d}",
        )
    )

st.subheader(t("real.per_customer", lang))
table = summary.join(values).sort_values("clv", ascending=False)
shown = table[["frequency", "recency", "T", "monetary", "p_alive", "expected_purchases", "clv"]]
st.dataframe(
    shown.head(1000)
    .rename(columns=lambda c: fit_report.column_title(c, int(months), lang))
    .rename_axis(t("col.customer_id", lang)),
    column_config={
        t("real.colname_p_alive", lang): st.column_config.ProgressColumn(
            min_value=0.0, max_value=1.0, format="percent"
        )
    },
)
st.download_button(
    t("real.download", lang),
    lambda: to_csv_bytes(table.reset_index()),  # written when clicked; formulas neutralised
    file_name="clv_per_customer.csv",
    mime="text/csv",
    key="real_dl",
    on_click="ignore",
)

st.subheader(t("real.segments", lang))
frame = segment_frame(summary, values, unit)
left, right = st.columns(2)
rfm = segment(frame, "rfm")
left.plotly_chart(charts.segment_chart(rfm.profile, "rfm", lang), key="real_rfm")
tiers = tiers_by_value(frame, frame["clv"].to_numpy())
right.plotly_chart(charts.pyramid(tiers.profile, lang), key="real_tiers")
st.plotly_chart(
    charts.distribution(
        values["p_alive"].to_numpy(), t("real.alive_title", lang), t("real.mean_alive", lang), lang
    ),
    key="real_alive",
)

like_panel.show(log, found, lang)  # a population like these customers, compared
