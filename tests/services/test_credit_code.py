"""Tests for services.credit_code (GB 32100-2015 unified social credit code)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.credit_code import (
    CREDIT_CODE_ALPHABET,
    check_character,
    is_valid_credit_code,
    make_credit_code,
)

# Real-world-format codes: 9 = market regulation, 1 = enterprise, then the
# administrative division, a 9-character organisation code and the check char.
VALID_CODES = [
    "91350100M000100Y43",  # the worked example of GB 32100-2015
    "91321191608263458Y",  # 镇江新区, foreign-funded style organisation code
    "913211127287031630",  # 丹徒区; check character 0 (sum ≡ 0 mod 31)
    "91321191MA1MEXR232",  # post-2015 "MA" style organisation code
    "91110000100000000R",
    "12100000400000000W",  # 1 = 机构编制, 2 = 事业单位
    "Y1320000000000000A",  # Y = other authorities
]


def _gb11714_check(org8: str) -> str:
    """GB 11714 organisation-code check character (for the test only)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - ord("A") + 10) * w for c, w in zip(org8, weights, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def test_alphabet() -> None:
    assert len(CREDIT_CODE_ALPHABET) == 31
    assert len(set(CREDIT_CODE_ALPHABET)) == 31
    for forbidden in "IOZSV":
        assert forbidden not in CREDIT_CODE_ALPHABET


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_codes(code: str) -> None:
    assert is_valid_credit_code(code)
    assert check_character(code[:17]) == code[17]
    assert make_credit_code(code[:17]) == code


def test_check_character_zero_case() -> None:
    # A weighted sum that is a multiple of 31 gives 31 -> "0".
    assert check_character("0" * 17) == "0"
    assert is_valid_credit_code("0" * 18)


def test_check_character_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        check_character("9132119160826345")  # 16 chars
    with pytest.raises(ValueError):
        check_character("913211916082634580")  # 18 chars
    with pytest.raises(ValueError):
        check_character("9132119160826345I")  # forbidden letter
    with pytest.raises(ValueError):
        check_character("91321191ma1mexr23")  # lowercase
    with pytest.raises(ValueError):
        make_credit_code("")


@pytest.mark.parametrize("code", VALID_CODES)
def test_every_single_character_mutation_is_invalid(code: str) -> None:
    for position in range(len(code)):
        for char in CREDIT_CODE_ALPHABET:
            if char == code[position]:
                continue
            mutated = code[:position] + char + code[position + 1 :]
            assert not is_valid_credit_code(mutated), (position, char, mutated)


@pytest.mark.parametrize("code", VALID_CODES)
def test_transposition_of_adjacent_distinct_characters_is_invalid(code: str) -> None:
    for i in range(len(code) - 1):
        if code[i] == code[i + 1]:
            continue
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        assert not is_valid_credit_code(swapped), (i, swapped)


@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 19, 20, 36])
def test_wrong_lengths(length: int) -> None:
    base = (VALID_CODES[1] * 3)[:length]
    assert not is_valid_credit_code(base)


def test_truncated_and_extended_valid_code() -> None:
    code = VALID_CODES[1]
    assert not is_valid_credit_code(code[:-1])
    assert not is_valid_credit_code(code + "0")
    assert not is_valid_credit_code("9" + code)


def test_lowercase_is_rejected() -> None:
    code = "91321191MA1MEXR232"
    assert is_valid_credit_code(code)
    assert not is_valid_credit_code(code.lower())
    assert not is_valid_credit_code(code[:9] + code[9].lower() + code[10:])
    assert not is_valid_credit_code("91321191608263458y")


@pytest.mark.parametrize("forbidden", list("IOZSV"))
def test_forbidden_letters(forbidden: str) -> None:
    first16 = "9132119160826345"
    # Whatever the check character, a forbidden letter makes the code invalid.
    for check in CREDIT_CODE_ALPHABET:
        assert not is_valid_credit_code(first16 + forbidden + check)
    assert not is_valid_credit_code("91321191608263458" + forbidden)


def test_whitespace_punctuation_and_fullwidth_are_rejected() -> None:
    code = VALID_CODES[1]
    assert not is_valid_credit_code(" " + code[1:])
    assert not is_valid_credit_code(code[:17] + " ")
    assert not is_valid_credit_code(code + "\n")
    assert not is_valid_credit_code(code[:8] + "-" + code[9:])
    # Full-width digit nine (U+FF19) looks like "9" but is not in the alphabet.
    assert not is_valid_credit_code("\uff19" + code[1:])


def test_non_string_is_rejected() -> None:
    assert not is_valid_credit_code(None)  # type: ignore[arg-type]
    assert not is_valid_credit_code(913211916082634580)  # type: ignore[arg-type]


def test_organisation_code_part_need_not_satisfy_gb11714() -> None:
    # The organisation-code part of these codes does satisfy GB 11714 ...
    assert _gb11714_check("60826345") == "8"
    assert _gb11714_check("M000100Y") == "4"
    # ... but validation only applies the GB 32100 check character, so a code
    # whose positions 9-17 fail GB 11714 is still valid.
    org = "608263450"
    assert _gb11714_check(org[:8]) != org[8]
    code = make_credit_code("91321191" + org)
    assert is_valid_credit_code(code)


alphabet_17 = st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17)


@given(alphabet_17)
def test_make_credit_code_is_always_valid(first17: str) -> None:
    code = make_credit_code(first17)
    assert len(code) == 18
    assert code.startswith(first17)
    assert is_valid_credit_code(code)


@given(alphabet_17, st.sampled_from(CREDIT_CODE_ALPHABET))
def test_only_the_computed_check_character_is_valid(first17: str, check: str) -> None:
    assert is_valid_credit_code(first17 + check) == (check == check_character(first17))
