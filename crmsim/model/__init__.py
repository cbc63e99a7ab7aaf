"""The customer model (docs/model.md), in reading order from the bottom up:

``plan`` and ``case`` (the schema: what a student and an instructor write), then the model's
dynamics. Nothing in this package imports Streamlit, Plotly or the analysis modules above it.
"""
