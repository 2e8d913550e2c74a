"""Tables: reading, writing and reconciling spreadsheets (the engine behind excel.* and reconcile.*).

Heavy libraries (python-calamine, openpyxl) are imported inside functions so that
importing this package costs nothing at `robo` start-up.
"""
