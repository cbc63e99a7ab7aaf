"""Translation catalogs (zh_CN, en_US) and ``t()``, the one door every visible string passes.

Catalogs are flat TOML tables; a dotted key such as ``err.missing`` names one message. Both
catalogs must hold the same keys with the same ``{placeholders}`` (a test checks).
"""

from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
_FILES = {"zh": "zh_CN.toml", "en": "en_US.toml"}
_DIR = Path(__file__).parent


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, full + "."))
        else:
            out[full] = str(value)
    return out


@cache
def catalog(lang: Lang) -> dict[str, str]:
    """The flat key → text catalog of one language."""
    with open(_DIR / _FILES[lang], "rb") as fh:
        return _flatten(tomllib.load(fh))


def placeholders(text: str) -> set[str]:
    """Names of the ``{placeholders}`` a message expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def normalize_lang(value: str | None, default: Lang = "zh") -> Lang:
    """Map a locale such as ``zh-CN``, ``zh_TW`` or ``en-GB`` to a catalog language."""
    if value and value.lower().startswith("zh"):
        return "zh"
    if value and value.lower().startswith("en"):
        return "en"
    return default


def t(key: str, lang: Lang = "zh", **params: object) -> str:
    """Translate ``key`` into ``lang`` and fill its placeholders.

    An unknown key returns the key itself so a missing translation is visible, never a crash.
    """
    text = catalog(lang).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    try:  # also without params: "{{" in a message is a literal brace
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text
