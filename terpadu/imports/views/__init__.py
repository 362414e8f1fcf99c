"""Pages of the imports app: the import jobs (jobs.py) and the list exports (exports.py)."""
