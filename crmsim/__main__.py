"""``python -m crmsim``: see ``crmsim.cli``."""

from crmsim.cli import main

raise SystemExit(main())
