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

from pydantic import BaseModel, GetJsonSchemaHandler, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

# One character class, written with escapes that Python and ECMA-262 (JSON Schema) read alike.
_FORBIDDEN_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u202a-\u202e\u2066-\u2069\ufeff"
FORBIDDEN_CHARACTERS = re.compile(f"[{_FORBIDDEN_CLASS}]")
#: A request body's text as its JSON Schema states it: no forbidden character.
TEXT_PATTERN = f"^[^{_FORBIDDEN_CLASS}]*$"
#: Required text (stripped, then at least one character): something besides white space, too.
NON_BLANK_TEXT_PATTERN = f"^[^{_FORBIDDEN_CLASS}]*[^\\s\\x85{_FORBIDDEN_CLASS}][^{_FORBIDDEN_CLASS}]*$"


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


def _state_text_rules(schema: JsonSchemaValue) -> None:
    """Give every free-text string of `schema` the pattern its validation implies.

    A string that has a pattern, a format or an enum already admits no forbidden character
    (every such pattern here is narrower); `$ref`s are models that state their own."""
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & schema.keys():
        schema["pattern"] = NON_BLANK_TEXT_PATTERN if schema.get("minLength", 0) >= 1 else TEXT_PATTERN
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, ()):
            _state_text_rules(option)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _state_text_rules(schema[key])


class TextInput(BaseModel):
    """Base of every request body: no text field may hold a forbidden character."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The model's schema with the text rules stated, so clients generated from it send only what passes."""
        schema = handler(core_schema)
        for field in handler.resolve_ref_schema(schema).get("properties", {}).values():
            _state_text_rules(field)
        return schema

    @field_validator("*", mode="after")
    @classmethod
    def _no_forbidden_characters(cls, value: Any) -> Any:
        _check(value)
        return value
