"""Real purchase logs: reading them as shops export them (``logs``), the buy-till-you-die
summary (``summary``), BG/NBD and Gamma-Gamma (``models``), a fit with its diagnostics
(``analysis``), a synthetic population like the data (``like``), and logs in the UCI Online
Retail shape for the shipped sample, tests and benchmarks (``synthetic``). Modules import
downwards only, in that order."""
