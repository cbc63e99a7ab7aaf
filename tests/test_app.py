"""The Streamlit home page in both languages (AppTest, no browser)."""

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_data.clear()
    yield


@pytest.mark.parametrize(("lang", "title"), [("zh", "客户关系管理实验室"), ("en", "CRM Lab")])
def test_home_renders_in_each_language(lang, title):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    assert at.title[0].value == title
    assert len(at.metric) == 3
    assert at.selectbox(key="case_id").value == "telecom"


def test_switching_case_and_language():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lang"] = "en"
    at.run()
    at.selectbox(key="case_id").select("b2b_it").run()
    assert not at.exception
    assert any("IT solutions" in s.value for s in at.subheader)
    at.radio(key="lang_radio").set_value("zh").run()
    assert not at.exception
    assert at.title[0].value == "客户关系管理实验室"
