"""The Streamlit glue: the only package in ``crmsim`` that imports Streamlit (DESIGN §2).

One module per concern, each imported by the pages that need it:

- ``navigation``: page config, language, the sidebar's page links (``bootstrap``)
- ``state``: the setup (case, population size, seed) every page works on
- ``case_store``: built-in and uploaded cases, their labels
- ``runs``: populations and simulations shared by the sessions of one server
- ``segments``: the Segments page's widgets and the current segmentation
- ``plan_state``: the plan being edited, as the other pages read it
- ``plan_grid``: the Service plan page's grid, acquisition inputs and cost table
- ``customers``: the Customers page's table
- ``uploads``: problems with files users hand in, the home page's case upload
- ``purchase_logs``: the Real data page's purchase log
- ``lessons``: the Learn page's lesson choice and progress
- ``formatting``: money, KPI deltas and the run's story as the reader writes them
- ``classroom``: the Classroom page's store, seat and views
- ``dashboards``: the Simulate page's tabs
- ``problems``: plan and segmentation problems in the page's terms
- ``url_state``: sticky query parameters and tokens (state that survives a reload)
- ``launch``: ``crmlab``, the app with its own settings
"""
