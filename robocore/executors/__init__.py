"""Executors run queued runs: `local` (worker processes on this machine) and `celery`."""
