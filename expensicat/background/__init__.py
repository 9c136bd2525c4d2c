"""Work that runs beside the API in one process of a host rather than in every worker:
housekeeping today, webhook delivery next. Each `serve` worker offers to run it, and the one
holding the host's lease does (another takes over if it dies); `expensicat worker` runs it
alone, under the same lease."""
