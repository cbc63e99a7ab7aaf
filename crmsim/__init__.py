"""CRM Lab core library: synthetic customers, segmentation, service plans and the engine.

The core never imports Streamlit or Plotly (DESIGN §2), so it is usable from the CLI, tests and
notebooks alike.
"""

__version__ = "0.1.0"
