"""Text that clients send is stored and shown as sent, so characters that a reader cannot see,
or that reorder what they see, are refused where the text comes in.

Refused anywhere in a request body's text: NUL and the other C0 controls but tab, line feed and
carriage return (so long texts keep their lines), DEL, the zero-width characters U+200B–U+200D
and U+FEFF, and the bidirectional embeddings, overrides and isolates U+202A–U+202E and
U+2066–U+2069, with which "exe.txt" can be made to read as "txt.exe". Request bodies derive
from `TextInput`, which checks every text field once, however nested in lists and mappings,
and names the field in the 422.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import BaseModel, field_validator
from pydantic_core import PydanticCustomError

FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u202a-\u202e\u2066-\u2069\ufeff]")


def _describe(character: str) -> str:
    return f"U+{ord(character):04X} {unicodedata.name(character, 'control character')}"


def reject_forbidden_characters(value: str) -> str:
    """`value` unchanged, or a validation error naming the first forbidden character."""
    found = FORBIDDEN_CHARACTERS.search(value)
    if found is not None:
        raise PydanticCustomError(
            "forbidden_character",
            "Text may not contain {character} (invisible or reordering characters are refused).",
            {"character": _describe(found.group())},
        )
    return value


def _check(value: Any) -> None:
    if isinstance(value, str):
        reject_forbidden_characters(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for element in value:
            _check(element)
    elif isinstance(value, dict):
        for key, element in value.items():
            _check(key)
            _check(element)


class TextInput(BaseModel):
    """Base of every request body: no text field may hold a forbidden character."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_forbidden_characters(cls, value: Any) -> Any:
        _check(value)
        return value
