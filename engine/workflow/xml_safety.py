"""Reading XML that came from outside (uploads, other modellers) without letting it read files or the network.

A DOCTYPE is refused outright: BPMN never needs one, and it is the carrier of both external-entity attacks
(``<!ENTITY x SYSTEM "file:///etc/passwd">``) and entity-expansion bombs ("billion laughs"). The parser is
also configured so that, should a DOCTYPE slip past the byte scan (say in a UTF-16 file), no entity is
expanded, no DTD is loaded and nothing is fetched.
"""

from __future__ import annotations

import re

from lxml import etree

from engine.errors import Problem

DOCTYPE_REFUSED = "DOCTYPE declarations are not allowed (they can be used to read files or reach the network)"

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def safe_xml_parser() -> etree.XMLParser:
    """A parser that resolves no entities, loads no DTD and never touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_untrusted_xml(filename: str, data: bytes) -> tuple[etree._ElementTree | None, list[Problem]]:
    """Parse ``data`` safely. Returns the tree, or None and the problems that stopped it being read."""
    found = _DOCTYPE.search(data)
    if found:
        return None, [Problem(filename, DOCTYPE_REFUSED, line=data.count(b"\n", 0, found.start()) + 1)]
    try:
        root = etree.fromstring(data, safe_xml_parser())
    except etree.XMLSyntaxError as error:
        reason = f"the file is not well-formed XML: {error.msg}"
        return None, [Problem(filename, reason, line=error.lineno or None)]
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        return None, [Problem(filename, DOCTYPE_REFUSED)]
    return tree, []
