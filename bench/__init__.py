"""Benchmarks: scripts run as ``python bench/<name>.py``. Each takes its own folder off ``sys.path`` first
(``bench/http.py`` would hide the standard library's ``http``) and imports its neighbours as ``bench.*``."""
