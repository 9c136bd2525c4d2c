"""Bearer token verification: session JWTs and OAuth2 access tokens."""
