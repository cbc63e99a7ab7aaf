"""Customers: the generated book or an uploaded file; value concentration, stages, the table."""

import streamlit as st

from crmsim import charts
from crmsim.customers_io import read_customers_csv, to_csv_bytes, to_xlsx_bytes
from crmsim.errors import InputError
from crmsim.i18n import t
from crmsim.metrics import top_share
from crmsim.money import with_currency
from crmsim.reading import CUSTOMERS
from crmsim.ui import case_store, navigation, runs, state, uploads
from crmsim.ui import customers as customer_table

lang = navigation.bootstrap("customers")
st.title(t("cust.title", lang))
chosen = state.setup()
case = case_store.case(chosen["case_id"])

upload = uploads.file_upload(
    st,
    t("cust.upload", lang),
    ["csv", "txt"],
    "cust_upload",
    CUSTOMERS,
    t("cust.upload_help", lang, **uploads.limit_params(CUSTOMERS)),
)
if upload is not None and st.session_state.get("cust_file") != upload.file_id:
    st.session_state["cust_file"] = upload.file_id
    try:
        table, encoding = read_customers_csv(upload.getvalue(), t("cust.your_file", lang))
        st.session_state["cust_uploaded"] = table
        st.session_state["cust_encoding"] = encoding
    except InputError as exc:  # what was loaded before stays
        st.session_state["cust_error"] = exc  # shown below in the language of each rerun
    else:
        st.session_state.pop("cust_error", None)
if st.session_state.get("cust_error"):
    problem = st.session_state["cust_error"]
    problem.source = t("cust.your_file", lang)
    uploads.show_input_error(problem, lang)
    st.info(t("cust.kept", lang))

sources = ["generated", "uploaded"] if "cust_uploaded" in st.session_state else ["generated"]
source = st.radio(
    t("cust.source", lang),
    sources,
    horizontal=True,
    key="cust_source",
    format_func=lambda s: t(f"cust.source_{s}", lang),
)
if source == "uploaded":
    customers = st.session_state["cust_uploaded"]
    st.caption(
        t(
            "cust.uploaded_caption",
            lang,
            n=f"{len(customers):,}",
            encoding=st.session_state["cust_encoding"],
        )
    )
else:
    customers = runs.population(
        chosen["case_id"], chosen["customers"], chosen["seed"], lang
    ).customers
    st.caption(
        t(
            "sim.setup",
            lang,
            case=case.title.get(lang),
            n=f"{len(customers):,}",
            seed=chosen["seed"],
        )
    )

value_col = "revenue_12m" if "revenue_12m" in customers.columns else "monetary"
a, b, c = st.columns(3)
a.metric(t("home.metric_customers", lang), f"{len(customers):,}")
b.metric(t("home.metric_top20", lang), f"{top_share(customers[value_col].to_numpy()):.0%}")
c.metric(
    t("home.metric_monthly", lang),
    with_currency(f"{customers['monetary'].mean():,.0f}", case.currency, lang)
    if source == "generated"
    else f"{customers['monetary'].mean():,.0f}",  # an uploaded file says no currency
)

left, right = st.columns(2)
left.plotly_chart(charts.pareto_curve(customers[value_col].to_numpy(), lang), key="cust_pareto")
right.plotly_chart(
    charts.distribution(
        customers["monetary"].to_numpy(),
        t("cust.spend_title", lang),
        t("col.monetary", lang),
        lang,
        log=True,
    ),
    key="cust_hist",
)
if "stage" in customers.columns:
    st.plotly_chart(
        charts.stage_mix(customers["stage"].astype(str).value_counts().to_dict(), lang),
        key="cust_stages",
    )

query = st.text_input(t("cust.search", lang), max_chars=50, key="cust_search")
shown = customer_table.search_customers(customers, query)
st.caption(t("cust.matches", lang, n=f"{len(shown):,}"))
st.dataframe(customer_table.translated_customers(shown.head(1000), lang), hide_index=True)

# The files are written when a button is clicked, not on every rerun (a 10k-row workbook takes
# seconds to write); a download reruns nothing, so a second click never meets a rerun.
d1, d2 = st.columns(2)
d1.download_button(
    t("cust.download_csv", lang),
    lambda: to_csv_bytes(customer_table.rounded_csv_frame(shown)),
    file_name="customers.csv",
    mime="text/csv",
    key="cust_csv",
    on_click="ignore",
)
d2.download_button(
    t("cust.download_xlsx", lang),
    lambda: to_xlsx_bytes(
        customer_table.translated_customers(shown.head(100_000), lang), t("nav.customers", lang)
    ),
    file_name="customers.xlsx",
    key="cust_xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    on_click="ignore",
)
