"""Documents to fax pages and back (SPEC S1-S3, R2).

``convert_to_fax`` turns PDF, PostScript, images, SVG, plain text and office
files into one fax-ready multi-page TIFF (1728 pixels wide, 1-bit, G4 or G3,
204x98/196/391 dpi, A4 or Letter) with the line's header on every page and an
optional cover page; ``tiff_to_pdf`` turns a received fax into a PDF without
touching its pixels.
"""

from faxcore.documents.convert import convert_to_fax, convert_to_fax_sync
from faxcore.documents.errors import (
    ConversionError,
    ConversionTimeoutError,
    CorruptDocumentError,
    DocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncryptedDocumentError,
    TiffFormatError,
    ToolMissingError,
    UnsupportedDocumentError,
)
from faxcore.documents.model import (
    Compression,
    CoverPage,
    DocumentLimits,
    FaxDocument,
    HeaderSpec,
    PageGeometry,
    Paper,
    Quality,
)
from faxcore.documents.pdf import tiff_to_pdf, tiff_to_pdf_sync

__all__ = [
    "Compression",
    "ConversionError",
    "ConversionTimeoutError",
    "CorruptDocumentError",
    "CoverPage",
    "DocumentError",
    "DocumentLimits",
    "DocumentTooLargeError",
    "EmptyDocumentError",
    "EncryptedDocumentError",
    "FaxDocument",
    "HeaderSpec",
    "PageGeometry",
    "Paper",
    "Quality",
    "TiffFormatError",
    "ToolMissingError",
    "UnsupportedDocumentError",
    "convert_to_fax",
    "convert_to_fax_sync",
    "tiff_to_pdf",
    "tiff_to_pdf_sync",
]
