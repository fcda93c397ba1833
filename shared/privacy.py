"""Residents' phone numbers never travel where they are not needed: in notifications, in the
public Open311 listing. They are masked in free text: 138****0001, 0591-****4321."""
import re

# Mobiles as residents write them: 13800000001, 138-0000-0001, 138 0000 0001, +86 13800000001.
MOBILE = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?(1\d{2})[\s-]?\d{4}[\s-]?(\d{4})(?!\d)")
# Fixed lines with their area code: 0591-87654321, 010 1234 5678.
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?\d{3,4}[\s-]?(\d{4})(?!\d)")


def mask_phone_numbers(text: str) -> str:
    return LANDLINE.sub(r"\1-****\2", MOBILE.sub(r"\1****\2", text))
