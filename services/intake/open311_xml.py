"""Open311 GeoReport v2 answers as XML: the JSON payloads under the spec's element names, built
with ElementTree so that every value is escaped."""
import re
from xml.etree import ElementTree

# The spec names the elements of a list after what they hold: <services><service>…
ITEM_TAGS = {"services": "service", "service_requests": "request", "errors": "error",
             "attributes": "attribute", "values": "value"}

# Characters XML 1.0 cannot carry at all, even escaped; free text may hold them.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def to_xml(root: str, payload: list | dict) -> bytes:
    """`payload` as a UTF-8 document whose root element is `root`."""
    element = ElementTree.Element(root)
    _fill(element, payload)
    return ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)


def _fill(element: ElementTree.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), item)
    elif isinstance(value, list):
        for item in value:
            _fill(ElementTree.SubElement(element, ITEM_TAGS[element.tag]), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:  # None stays an empty element, as in the spec's <account_id/>
        element.text = NOT_XML.sub("\ufffd", str(value))
