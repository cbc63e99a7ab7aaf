"""Streamlit's and Plotly's own words in Chinese: the uploader ("Drag and drop file here",
"5MB per file", "File must be 5.0MB or smaller"), the select boxes ("Choose an option",
"Select all"), the chart toolbar ("Zoom", "Download plot as a PNG"), the tables' and
widgets' tooltips.

Neither library has a way to translate them (their texts are written into their JavaScript),
so on a Chinese page a small script translates them in the browser as they appear: exact
texts from ``ZH``, texts with a number or file type from ``ZH_PATTERNS``, in text and in the
``placeholder``, ``title``, ``aria-label`` and ``data-title`` attributes (tooltips and screen
readers). Switching to English puts the originals back.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from crmsim.i18n import Lang

ZH = {
    # file uploader
    "Drag and drop file here": "将文件拖到这里",
    "Drag and drop files here": "将文件拖到这里",
    "Drag and drop a file here": "将文件拖到这里",
    "Upload": "上传文件",
    "Browse files": "选择文件",
    "file upload": "上传文件",
    "Remove file": "移除文件",
    "Delete": "删除",
    # select boxes, multiselects, dates, text
    "Choose an option": "请选择",
    "Choose options": "请选择",
    "Select all": "全选",
    "Select": "选择",
    "No results": "没有匹配项",
    "No options to select": "没有可选项",
    "Clear all": "全部清除",
    "Clear": "清除",
    "Selected values": "已选项",
    "Open": "展开",
    "Close": "关闭",
    "Choose date": "选择日期",
    "Previous month.": "上个月",
    "Next month.": "下个月",
    "Press Enter to apply": "按回车确认",
    "Press ⌘+Enter to apply": "按 ⌘+回车确认",
    "Press Ctrl+Enter to apply": "按 Ctrl+回车确认",
    "Show password": "显示密码",
    "Hide password": "隐藏密码",
    "Decrement": "减少",
    "Increment": "增加",
    "progress": "进度",
    # page frame and element toolbars
    "Skip to main content": "跳到主要内容",
    "Sidebar": "侧边栏",
    "Collapse sidebar": "收起侧边栏",
    "Expand sidebar": "展开侧边栏",
    "Link to heading": "链接到此标题",
    "Fullscreen": "全屏",
    "Close fullscreen": "退出全屏",
    "Exit fullscreen": "退出全屏",
    "Download as CSV": "下载为 CSV",
    "Search": "搜索",
    "Show/hide columns": "显示或隐藏列",
    "Running...": "运行中……",
    "Stop": "停止",
    "Rerun": "重新运行",
    "Copy to clipboard": "复制",
    # Plotly's chart toolbar
    "Download plot as a PNG": "下载为 PNG 图片",
    "Download plot as a png": "下载为 PNG 图片",
    "Zoom": "缩放",
    "Pan": "平移",
    "Box Select": "框选",
    "Lasso Select": "套索选择",
    "Zoom in": "放大",
    "Zoom out": "缩小",
    "Autoscale": "自动缩放",
    "Reset axes": "重置坐标轴",
    "Reset view": "重置视图",
    "Toggle Spike Lines": "显示或隐藏辅助线",
    "Show closest data on hover": "悬停时显示最近的数据",
    "Compare data on hover": "悬停时比较数据",
    "Produced with Plotly.js": "由 Plotly.js 绘制",
    "Double-click to zoom back out": "双击恢复原来的缩放",
    "Click to enter Colorscale title": "",
    # screen-reader announcements of an open select box (react-aria, in the browser's locale)
    "Show suggestions": "显示建议",
    "Dismiss": "关闭",
    "Suggestions": "建议",
}
for month, name in enumerate(
    (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    1,
):
    ZH[name] = f"{month}月"
for day, name in zip(("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"), "一二三四五六日", strict=True):
    ZH[day] = name

# (JavaScript regular expression, replacement) for texts with a size, a count or a file type
ZH_PATTERNS = (
    (r"^(\d+(?:\.\d+)?\s?[KMG]?B) per file$", "每个文件不超过 $1"),
    (r"^Limit (\d+(?:\.\d+)?\s?[KMG]?B) per file(.*)$", "每个文件不超过 $1$2"),
    (r"^File must be (.+) or smaller\.?$", "文件不能超过 $1"),
    (r"^(.*) files are not allowed\.?$", "不接受这种类型的文件（$1）"),
    (r"^• (.+)$", "· $1"),
    (r"^(\d+) selected$", "已选 $1 项"),
    (r"^(\d+) options? available\.$", "共 $1 个选项"),
    (r"^(.+), selected$", "$1，已选"),
)

_SCRIPT = (Path(__file__).parent / "widget_texts.js").read_text(encoding="utf-8")


def translate_widgets(lang: Lang) -> None:
    """Have the browser put Streamlit's and Plotly's own texts into ``lang`` (Chinese: from
    ``ZH``; English: back to the originals)."""
    script = (
        _SCRIPT.replace("__LANG__", json.dumps(lang))
        .replace("__EXACT__", json.dumps(ZH, ensure_ascii=False))
        .replace("__PATTERNS__", json.dumps(ZH_PATTERNS, ensure_ascii=False))
    )
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)
