"""Documents: the PDFs and spreadsheets people print, sign and file, each built from plain data (a view model)
by the domain's module here (coop/documents/<domain>.py). Older documents still live beside the services
(coop/*_pdf.py, coop/reports/) until they move here."""
