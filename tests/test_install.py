"""CRM Lab as a distribution: the wheel carries the app, its settings, the cases and catalogs,
and ``crmlab`` starts the app with its settings (a full ``pip install .`` into a fresh virtual
environment was run by hand; the README says how)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

from crmsim.ui import launch
from tests.conftest import ROOT

SHIPPED = ("pyproject.toml", "README.md", "app.py", "pages", "crmsim", "sample_data", ".streamlit")


def test_every_package_of_the_library_is_in_the_distribution():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "crmsim").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"


def test_crmlab_runs_the_app_with_its_settings():
    args = launch.command(["--server.port", "8600"])
    assert args[:2] == ["run", str(ROOT / "app.py")]
    assert "--client.showSidebarNavigation=false" in args  # the translated navigation only
    assert "--server.fileWatcherType=none" in args
    assert "--server.maxUploadSize=200" in args  # crmsim.reading.limits.SERVER_UPLOAD_MB
    assert args[-2:] == ["--server.port", "8600"]  # the user's own options come last and win


def test_config_options_read_every_section(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[a]\nflag = true\nsize = 5\n[b]\nname = "x y"\n')
    assert launch.config_options(config) == ["--a.flag=true", "--a.size=5", "--b.name=x y"]
    assert launch.config_options(tmp_path / "missing.toml") == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel")
    src = tmp_path_factory.mktemp("src")
    for name in SHIPPED:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            str(src),
            "-w",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return zipfile.ZipFile(next(out.glob("crmlab-*.whl")))


def test_the_wheel_carries_the_app_cases_catalogs_and_entry_point(wheel):
    names = set(wheel.namelist())
    app = "crmsim/_app/"
    assert {app + "app.py", app + ".streamlit/config.toml"} <= names
    for page in (ROOT / "pages").glob("*.py"):
        assert f"{app}pages/{page.name}" in names
    for case in (ROOT / "sample_data" / "cases").glob("*.toml"):
        assert f"{app}sample_data/cases/{case.name}" in names
    assert f"{app}sample_data/transactions/cdnow_sample.csv" in names
    assert {"crmsim/i18n/zh_CN.toml", "crmsim/i18n/en_US.toml", "crmsim/model/run.py"} <= names
    assert "crmsim/ui/widget_texts.js" in names  # Streamlit's own texts in Chinese
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "crmlab = crmsim.ui.launch:main" in wheel.read(meta).decode()
    from packaging.requirements import Requirement

    metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    shipped = {
        r.name: (r.extras, r.specifier)
        for r in (
            Requirement(line.split(":", 1)[1])
            for line in metadata.splitlines()
            if line.startswith("Requires-Dist:")
        )
    }
    pinned = {
        r.name: (r.extras, r.specifier)
        for r in (
            Requirement(line.split("#")[0])
            for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.split("#")[0].strip()
        )
    }
    assert shipped == pinned  # the same pins as the README's first command
