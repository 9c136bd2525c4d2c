"""The customers domain: field rules, search folding, pagination cursors and the service."""
