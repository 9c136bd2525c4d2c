"""An A/B benchmark of two commits of the service in one sitting: `python -m bench.ab`."""
