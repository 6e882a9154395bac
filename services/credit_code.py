"""Unified social credit code (统一社会信用代码) validation, GB 32100-2015.

A code has 18 characters drawn from a 31-character alphabet (the digits and the
upper-case Latin letters without I, O, Z, S and V):

========  ======================================================
position  meaning
========  ======================================================
1         registration authority (登记管理部门代码), e.g. ``9`` 工商/市场监管
2         organisation type (机构类别代码), e.g. ``1`` 企业
3-8       administrative division code (登记管理机关行政区划码)
9-17      organisation code (主体标识码, the former GB 11714 code)
18        check character (校验码)
========  ======================================================

Validation here is deliberately limited to what GB 32100 makes checkable for
every code: exact length, the alphabet, upper case, and the check character.
The structure of positions 1-17 is *not* enforced (authority/type tables
change, and the organisation-code part of real codes does not always satisfy
the GB 11714 check digit), so :func:`make_credit_code` yields a valid code for
any 17 characters of the alphabet.

This module is pure: no I/O, no state.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "CREDIT_CODE_LENGTH",
    "CREDIT_CODE_SCHEMA",
    "CREDIT_CODE_WEIGHTS",
    "check_character",
    "is_valid_credit_code",
    "make_credit_code",
]

#: The 31 code characters; a character's value is its index in this string.
CREDIT_CODE_ALPHABET: Final[str] = "0123456789ABCDEFGHJKLMNPQRTUWXY"

#: Length of a complete code, check character included.
CREDIT_CODE_LENGTH: Final[int] = 18

#: Weights of positions 1-17 (3**i mod 31).
CREDIT_CODE_WEIGHTS: Final[tuple[int, ...]] = (
    1,
    3,
    9,
    27,
    19,
    26,
    16,
    17,
    20,
    29,
    25,
    13,
    8,
    24,
    10,
    30,
    28,
)

#: A code as JSON Schema states it: the pattern gives length and alphabet; the check character is
#: arithmetic no pattern states, so the format names the rule (`gb32100-credit-code`).
CREDIT_CODE_SCHEMA: Final[dict[str, str]] = {
    "pattern": "^[0-9A-HJ-NPQRTUWXY]{18}$",
    "format": "gb32100-credit-code",
}

_MODULUS: Final[int] = 31
_VALUES: Final[dict[str, int]] = {ch: i for i, ch in enumerate(CREDIT_CODE_ALPHABET)}


def check_character(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a code.

    Raises :class:`ValueError` if ``first17`` is not exactly 17 characters of
    :data:`CREDIT_CODE_ALPHABET` (upper case only).
    """
    if len(first17) != CREDIT_CODE_LENGTH - 1:
        raise ValueError(f"expected {CREDIT_CODE_LENGTH - 1} characters, got {len(first17)}")
    total = 0
    for position, (char, weight) in enumerate(zip(first17, CREDIT_CODE_WEIGHTS, strict=True), start=1):
        value = _VALUES.get(char)
        if value is None:
            raise ValueError(f"invalid character {char!r} at position {position}")
        total += value * weight
    check = _MODULUS - total % _MODULUS
    if check == _MODULUS:
        check = 0
    return CREDIT_CODE_ALPHABET[check]


def is_valid_credit_code(code: str) -> bool:
    """Whether ``code`` is a well-formed unified social credit code.

    Strict: exactly 18 characters, upper case, every character from
    :data:`CREDIT_CODE_ALPHABET`, and a correct check character. No trimming or
    case folding is done; normalise input before calling if that is wanted.
    """
    if not isinstance(code, str) or len(code) != CREDIT_CODE_LENGTH:
        return False
    if any(char not in _VALUES for char in code):
        return False
    return check_character(code[:-1]) == code[-1]


def make_credit_code(first17: str) -> str:
    """Append the check character to 17 code characters, giving a valid code.

    Raises :class:`ValueError` on the same inputs as :func:`check_character`.
    """
    return first17 + check_character(first17)
