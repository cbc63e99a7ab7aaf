"""Learn: a guided lesson — the idea, an experiment, what to notice in its numbers, a self-check."""

import streamlit as st

from crmsim import charts
from crmsim.i18n import t
from crmsim.lessons import (
    BY_KEY,
    LESSONS,
    experiment_text,
    months_of,
    notice,
    score_answers,
)
from crmsim.ui import case_store, lessons, navigation

lang = navigation.bootstrap("learn")
st.title(t("learn.title", lang))
st.caption(t("learn.intro", lang))
progress = st.empty()  # filled at the end, after this run's self-check

key = lessons.chosen_lesson(lang)
lesson = BY_KEY[key]
st.header(t(f"learn.{key}.title", lang))

st.subheader(t("learn.idea", lang))
st.markdown(t(f"learn.{key}.idea", lang))

st.subheader(t("learn.experiment", lang))
left, right = st.columns(2)
seed = left.number_input(
    t("learn.seed", lang), min_value=0, max_value=10_000, value=7, key=f"learn_seed_{key}"
)
value = lessons.knob_input(key, lang, right)
with st.spinner(t("learn.running", lang)):
    facts = lessons.lesson_facts(key, int(seed), value)
lines = notice(key, facts, lang)
case = case_store.case(lesson.case_id)
st.caption(
    t(
        "learn.case_used",
        lang,
        case=case.title.get(lang),
        customers=f"{lesson.customers:,}",
        months=months_of(key, facts),
    )
)
st.markdown(experiment_text(key, facts, lang))
st.plotly_chart(charts.lesson_chart(facts["chart"], lang), key=f"learn_chart_{key}")
st.markdown(f"**{t('learn.notice', lang)}**")
st.markdown("\n".join(f"- {line}" for line in lines))
if facts["claim_holds"]:
    st.success(t("learn.claim_ok", lang))
else:
    st.warning(t("learn.claim_bad", lang))

st.subheader(t("learn.check", lang))
answers = []
for i, q in enumerate(lesson.questions, 1):
    options = [t(f"learn.{key}.q{i}_{c}", lang) for c in "abc"[: q.options]]
    answers.append(
        st.radio(
            t(f"learn.{key}.q{i}", lang),
            range(q.options),
            index=None,
            format_func=lambda j, o=options: o[j],
            key=f"learn_{key}_q{i}",
        )
    )
if st.button(t("learn.submit", lang), key=f"learn_submit_{key}"):
    if any(a is None for a in answers):
        st.warning(t("learn.answer_all", lang))
    else:
        right = score_answers(key, answers)
        for i, ok in enumerate(right, 1):
            verdict = t("learn.right" if ok else "learn.wrong", lang)
            (st.success if ok else st.error)(f"{i}. {verdict} {t(f'learn.{key}.q{i}_why', lang)}")
        st.info(t("learn.score", lang, right=sum(right), total=len(right)))
        if all(right):
            lessons.mark_lesson_done(key)
            st.success(t("learn.all_right", lang))

st.markdown(f"**{t('learn.glossary_link', lang)}**")
st.markdown(" · ".join(t(f"glossary.{term}.name", lang) for term in lesson.terms))
navigation.page_link("pages/glossary.py", t("learn.to_glossary", lang))

done = lessons.lessons_done()
progress.progress(
    len(done) / len(LESSONS), text=t("learn.progress", lang, done=len(done), total=len(LESSONS))
)
