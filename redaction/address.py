"""Street addresses and PO boxes: a house number, a capitalised street name, a street type.

``1234 Maple Street``, ``twelve thirty four Maple Street``, ``350 Fifth Ave``, ``221B Baker
Street, apartment 5``, ``twelve B Elm Street``, ``forty two-B Elm Lane``, ``P.O. Box 4471``.
Common words that are also street types (Way, Court, Place, Square...) count only capitalised,
so "5 square meters" is no address.
"""

from __future__ import annotations

import re

_NUMBER_WORD = (
    r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred)"
)
_SPOKEN_NUMBER = rf"(?i:{_NUMBER_WORD}(?:[ -]{_NUMBER_WORD}){{0,3}})"
# 12, 221B, 12-B, twelve, twelve-B; then maybe a lower-case letter (12 b, twelve b): a capital
# letter (twelve B) is read as the first word of the name
_HOUSE = rf"(?:(?:\d{{1,6}}(?:-?[A-Za-z])?|{_SPOKEN_NUMBER}(?:-[A-Za-z])?)(?:\s+[a-z](?=\s))?)"
_NAME = r"(?:[A-Z][A-Za-z'’-]*|\d{1,3}(?:st|nd|rd|th))"  # Maple, O'Neil, 4th
_TYPE = (
    r"(?:(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|highway|hwy|parkway|"
    r"pkwy)|Court|Ct|Way|Place|Pl|Terrace|Circle|Cir|Square|Sq|Trail|Close|Row|Crescent|Loop|"
    r"Plaza|Alley)"
)
_UNIT = r"(?:,?\s+(?i:apartment|apt\.?|unit|suite|#)\s*\w+)"
ADDRESS = re.compile(
    rf"\b{_HOUSE}\s+(?:{_NAME}\s+){{1,3}}?{_TYPE}\b(?:\s+(?:NE|NW|SE|SW)\b)?{_UNIT}?"
    rf"|\b(?i:p\.?\s?o\.?|post\s+office)\s*(?i:box)\s+(?:\d+|{_SPOKEN_NUMBER})\b"
)


def find_addresses(text: str) -> list[tuple[int, int]]:
    """Spans of the street addresses and PO boxes in ``text``."""
    return [match.span() for match in ADDRESS.finditer(text)]
