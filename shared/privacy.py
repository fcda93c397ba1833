"""Residents' phone numbers and names never travel where they are not needed: in notifications,
in the public Open311 listing, in logs. Numbers are masked wherever they appear in free text
(138****0001, 0591-****4321); a name is masked where it is known (王**)."""
import logging
import re
from collections.abc import Iterable

# Mobiles as residents write them: 13800000001, 138-0000-0001, 138 0000 0001, +86 13800000001.
MOBILE = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?(1\d{2})[\s-]?\d{4}[\s-]?(\d{4})(?!\d)")
# Fixed lines with their area code: 0591-87654321, 010 1234 5678.
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?\d{3,4}[\s-]?(\d{4})(?!\d)")


# Where a raw JSON body names someone or where they live: the value of a "name" (a beneficiary,
# a party, a volunteer) or "address" key, found in text too broken or cut short to parse (a
# value cut short runs to the end of the text).
NAME_FIELD = re.compile(r'"(?:name|address)"\s*:\s*"((?:[^"\\]|\\.)*)(?:"|$)')
EMAIL = re.compile(r"(?<![\w.+-])([\w.+-])[\w.+-]*@([\w-]+(?:\.[\w-]+)+)")


# An id (a request's, a case's): its digits can read as a phone ("f0807453-9306" as a landline).
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def mask_phone_numbers(text: str) -> str:
    """Every phone number in `text` masked; the ids in it left whole."""
    pieces, ids = UUID.split(text), UUID.findall(text)
    masked = [LANDLINE.sub(r"\1-****\2", MOBILE.sub(r"\1****\2", piece)) for piece in pieces]
    return "".join(part for pair in zip(masked, ids + [""]) for part in pair)


def mask_name(name: str) -> str:
    """王秀英 -> 王**, Li Na -> L****: the first character tells staff whom it is about."""
    return name[:1] + "*" * (len(name) - 1)


def mask_names(text: str, names: Iterable[str]) -> str:
    for name in sorted(names, key=len, reverse=True):  # 王秀英 before 王秀
        if name and len(name) > 1:
            text = text.replace(name, mask_name(name))
    return text


def mask_raw_body(text: str) -> str:
    """A submission's raw text as it may be stored for operators (a rejection): phone numbers,
    emails (a***@host) and every name and address it gives masked, wherever they appear."""
    names = [match.group(1) for match in NAME_FIELD.finditer(text)]
    return mask_names(EMAIL.sub(r"\1***@\2", mask_phone_numbers(text)), names)


class MaskingFormatter(logging.Formatter):
    """Masks phone numbers in whole log lines, tracebacks included (a database error can quote
    a row)."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_phone_numbers(super().format(record))
