"""The pure ledger core: plain data and rules, no Flask and no database."""
