"""Hardened XML parsing: bytes in, no DTD, no entities, no network."""

from __future__ import annotations

from lxml import etree

from .types import DefinitionError

MAX_FILE_BYTES = 5 * 1024 * 1024


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not thread-safe, and the global default is never touched.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, filename: str) -> etree._Element:
    """Parse a diagram from bytes (so its own encoding declaration is honoured)."""
    if not isinstance(data, bytes):
        raise TypeError("parse_xml takes bytes")
    if len(data) > MAX_FILE_BYTES:
        raise DefinitionError([{"file": filename, "message": f"file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB"}])
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise DefinitionError([{"file": filename, "message": "DTDs and entity declarations are not accepted"}])
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as err:
        raise DefinitionError([{"file": filename, "message": f"not well-formed XML: {err}"}]) from None
    if root.getroottree().docinfo.doctype:
        raise DefinitionError([{"file": filename, "message": "DTDs and entity declarations are not accepted"}])
    return root
