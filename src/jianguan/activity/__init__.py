"""Recent activity (最新动态): a live feed per unit, built by an outbox consumer."""
