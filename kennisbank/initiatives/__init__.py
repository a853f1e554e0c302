"""Initiatives: their declared fields and validation, the list filters, the service that lists, reads
and changes them (`service`), and CSV/XLSX import and export."""
