"""Errors of the document pipeline, each worded for the subscriber who sent the file.

Tool output (Ghostscript, LibreOffice stderr) goes to the log, never into these
messages: the subscriber sees what to do, the operator sees why.
"""

from __future__ import annotations

from faxcore.errors import FaxcoreError


class DocumentError(FaxcoreError):
    """Base of every error raised while turning documents into fax pages."""


class UnsupportedDocumentError(DocumentError):
    """The file's content is not a format that can be faxed."""


class EmptyDocumentError(DocumentError):
    """The file is empty, has no pages or only blank text."""


class EncryptedDocumentError(DocumentError):
    """The PDF needs a password to be opened."""


class CorruptDocumentError(DocumentError):
    """The file claims a format but cannot be read (truncated, damaged)."""


class DocumentTooLargeError(DocumentError):
    """The document exceeds the configured page or byte limit."""


class ConversionError(DocumentError):
    """A converter (gs, soffice, rsvg-convert) failed on a file it should handle."""


class ConversionTimeoutError(ConversionError):
    """A converter ran longer than its time limit and was killed."""


class ToolMissingError(ConversionError):
    """A converter program is not installed (see deploy/setup.sh)."""


class TiffFormatError(DocumentError):
    """A TIFF file is not a readable bilevel fax image."""
