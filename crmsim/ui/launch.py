"""``crmlab``: start the app with its own settings, from a checkout or an installed copy.

An installed CRM Lab carries the Streamlit app (``app.py``, ``pages/``, ``.streamlit/config.toml``)
and the sample data inside the package as ``crmsim/_app/``; a checkout has them at the top of
the repository. Streamlit reads ``.streamlit/config.toml`` only from the working folder, so the
app's settings are handed to it as command-line options instead (your own options after
``crmlab`` win: ``crmlab --server.port 8600``).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # crmsim/


def app_folder() -> Path:
    """The folder holding ``app.py`` and ``pages/``: the installed copy, else the checkout."""
    for folder in (PACKAGE / "_app", PACKAGE.parent):
        if (folder / "app.py").is_file() and (folder / "pages").is_dir():
            return folder
    raise FileNotFoundError("CRM Lab's app.py was not found next to the crmsim package")


def config_options(config: Path) -> list[str]:
    """A Streamlit config file as ``--section.option=value`` arguments."""
    if not config.is_file():
        return []
    with config.open("rb") as fh:
        settings = tomllib.load(fh)
    out = []
    for section, options in settings.items():
        for name, value in options.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            out.append(f"--{section}.{name}={text}")
    return out


def command(args: list[str]) -> list[str]:
    """The ``streamlit`` arguments that run the app with its settings, then ``args``."""
    folder = app_folder()
    return [
        "run",
        str(folder / "app.py"),
        *config_options(folder / ".streamlit" / "config.toml"),
        *args,
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the app (blocks until the server stops)."""
    from streamlit.web import cli

    sys.argv = ["streamlit", *command(sys.argv[1:] if argv is None else argv)]
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main())
