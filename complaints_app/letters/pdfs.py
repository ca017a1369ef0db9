"""PDF files as a whole: checking an uploaded enclosure, joining a print run (pypdf, no rendering)."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

from . import LetterError


def page_count(data: bytes) -> int:
    """The pages of a PDF; LetterError when ``data`` is not a readable, unencrypted PDF with pages."""
    if not data.startswith(b"%PDF-"):
        raise LetterError("the file is not a PDF")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise LetterError("the PDF is encrypted: upload one that opens without a password")
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as err:
        raise LetterError(f"the PDF cannot be read: {type(err).__name__}") from None
    if pages == 0:
        raise LetterError("the PDF has no pages")
    return pages


def join(parts: list[bytes], duplex: bool = True) -> tuple[bytes, int]:
    """One PDF of ``parts`` in order, and its page count. With ``duplex`` each part starts on a front side
    (a blank page after a part with an odd number of pages), so that printed on both sides no letter
    begins on the back of another customer's."""
    writer = PdfWriter()
    for data in parts:
        reader = PdfReader(io.BytesIO(data), strict=False)
        for page in reader.pages:
            writer.add_page(page)
        if duplex and len(reader.pages) % 2:
            last = reader.pages[-1]
            writer.add_blank_page(width=last.mediabox.width, height=last.mediabox.height)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), len(writer.pages)
