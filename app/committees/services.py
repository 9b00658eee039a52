from __future__ import annotations

import re
import unicodedata


def slugify(name: str) -> str:
    """'Children, Young People and Families Partnership' ->
    'children-young-people-and-families-partnership'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = ascii_name.replace("&", " and ").replace("'", "").replace("\u2019", "")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:200] or "committee"
