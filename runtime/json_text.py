"""JSON as nqa prints and writes it: UTF-8 text in which nothing can act on a terminal.

In: records (dicts and lists) or a pydantic model. Out: indented JSON text
whose DEL, C1 controls and bidirectional controls are written as `\\u` escapes
(JSON itself escapes only the C0 controls): the same data for a program that
reads it, and nothing a terminal or an editor acts on for a person who looks.
A class label or a CSV header can carry any of them.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

_RAW = {code: f"\\u{code:04x}" for code in [*range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def json_text(value: Any) -> str:
    """`value` (a pydantic model, or plain data) as indented JSON, ending in a newline."""
    text = value.model_dump_json(indent=2) if isinstance(value, BaseModel) else json.dumps(
        value, indent=2, ensure_ascii=False)
    return text.translate(_RAW) + "\n"
