"""The built-in OAuth2 authorization server: clients, consent, codes, tokens and keys."""
