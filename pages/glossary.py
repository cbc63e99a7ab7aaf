"""Glossary: the course's terms in Chinese and English, each linked to the lesson that shows it."""

import streamlit as st

from crmsim.i18n import t
from crmsim.lessons import GLOSSARY
from crmsim.ui import navigation

lang = navigation.bootstrap("glossary")
st.title(t("glossary.title", lang))
st.caption(t("glossary.intro", lang))
query = st.text_input(t("glossary.search", lang), max_chars=30, key="glossary_search").strip()

for term, lesson in GLOSSARY:
    zh, en = t(f"glossary.{term}.name", "zh"), t(f"glossary.{term}.name", "en")
    text = t(f"glossary.{term}.text", lang)
    if query and not any(query.lower() in s.lower() for s in (zh, en, text)):
        continue
    left, right = st.columns([3, 1])
    left.markdown(f"**{zh}** · {en}  \n{text}")
    if lesson:
        navigation.page_link(
            "pages/learn.py", t(f"learn.{lesson}.title", lang), where=right, lesson=lesson
        )
