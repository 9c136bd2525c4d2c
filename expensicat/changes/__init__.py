"""The changes feed: every change to a customer, in order, for integrations to follow."""
