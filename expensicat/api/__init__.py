"""HTTP: routes, request parsing, responses, error mapping and middleware."""
