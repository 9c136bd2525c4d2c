"""Real servers and helpers the tests (and the benchmark) start for themselves."""
