"""Services: the only code that writes. They flush; the caller (a view, the CLI) commits once.

Some domains add to registries of the modules below them when imported — closing preconditions and December steps
(services.closing), what follows a posting (services.vouchers), 三色预警 rules (services.warnings) — so a lower
module never imports a domain. They are imported here, so the registries are full whatever is imported first.
"""
from coop.services import cashier, closing, disclosure, distribution, sanzi  # noqa: F401  (they register)
