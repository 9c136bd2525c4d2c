"""Expensicat Customers: the customer book of an expense and invoicing product."""
