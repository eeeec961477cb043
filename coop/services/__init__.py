"""Services: the only code that writes. They flush; the caller (a view, the CLI) commits once."""
