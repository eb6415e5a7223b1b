"""Fax reception (R1-R3): fax lines' calls received through spandsp, kept as TIFF and PDF.

``handler.FaxReceptionHandler`` is the call handler of fax-mode lines;
``store.FaxStore`` keeps each reception durable from its first moment: a
record when the fax starts, updated per page, settled at the end, and
settled at the next start of ``faxcore serve`` if faxcore died meanwhile.
"""
