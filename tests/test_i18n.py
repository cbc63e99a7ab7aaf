from crmsim.i18n import LANGS, catalog, normalize_lang, placeholders, t


def test_catalogs_have_the_same_keys():
    zh, en = catalog("zh"), catalog("en")
    assert set(zh) == set(en), set(zh) ^ set(en)


def test_catalogs_have_the_same_placeholders():
    zh, en = catalog("zh"), catalog("en")
    bad = {k for k in zh if placeholders(zh[k]) != placeholders(en[k])}
    assert not bad


def test_no_empty_texts():
    for lang in LANGS:
        assert all(v.strip() for v in catalog(lang).values())


def test_t_fills_placeholders_in_both_languages():
    assert t("err.too_small", "en", limit=3) == "value too small; the minimum is 3"
    assert "3" in t("err.too_small", "zh", limit=3)
    assert t("stage.exploration", "zh") == "考察期"
    assert t("seg.key", "zh") == "重点客户"


def test_unknown_key_is_visible_not_a_crash():
    assert t("no.such.key", "zh") == "no.such.key"


def test_normalize_lang():
    assert normalize_lang("zh-CN") == "zh"
    assert normalize_lang("zh_TW.UTF-8") == "zh"
    assert normalize_lang("en-GB") == "en"
    assert normalize_lang(None) == "zh"
    assert normalize_lang("fr", default="en") == "en"
