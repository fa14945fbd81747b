"""Voting codes: 80 random bits, Crockford base32 with a mod-37 check symbol, forgiving entry,
stored only as a keyed HMAC."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pb.voting import codes
from pb.voting.codes import CodeFormatError, CodeTypo

SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}-[0-9A-HJKMNP-TV-Z*~$=U]$")
values = st.integers(min_value=0, max_value=(1 << 80) - 1)


def test_generated_codes_have_the_printed_shape_and_differ() -> None:
    made = {codes.generate() for _ in range(2000)}
    assert len(made) == 2000
    for code in made:
        assert SHAPE.match(code), code
        assert codes.pretty(code) == code


def test_known_check_symbols_follow_crockford() -> None:
    # Crockford: the check symbol is the value mod 37, symbols 32..36 are * ~ $ = U.
    assert codes.check_symbol(0) == "0"
    assert codes.check_symbol(31) == "Z"
    assert codes.check_symbol(32) == "*"
    assert codes.check_symbol(36) == "U"
    assert codes.check_symbol(37) == "0"
    assert codes.format_code(0) == "0000-0000-0000-0000-0"
    assert codes.format_code(36) == "0000-0000-0000-0014-U"


@given(values)
def test_round_trip(value: int) -> None:
    printed = codes.format_code(value)
    assert codes.decode(codes.normalize(printed)) == value


@given(values, st.data())
def test_entry_forgives_case_spaces_dashes_and_lookalikes(value: int, data: st.DataObject) -> None:
    printed = codes.format_code(value)
    sloppy = []
    for ch in printed:
        if ch == "-":
            sloppy.append(data.draw(st.sampled_from(["", " ", "-", "  ", " - "])))
            continue
        if ch == "0":
            ch = data.draw(st.sampled_from(["0", "O", "o"]))
        elif ch == "1":
            ch = data.draw(st.sampled_from(["1", "I", "i", "L", "l"]))
        elif data.draw(st.booleans()):
            ch = ch.lower()
        sloppy.append(ch)
    typed = " " + "".join(sloppy) + "\t"
    assert codes.normalize(typed) == codes.normalize(printed)
    assert codes.digest("k", typed) == codes.digest("k", printed)


@given(values, st.integers(min_value=0, max_value=15), st.integers(min_value=1, max_value=31))
def test_any_single_symbol_typo_is_caught(value: int, pos: int, delta: int) -> None:
    body = codes.encode(value)
    wrong = codes.ALPHABET[(codes.ALPHABET.index(body[pos]) + delta) % 32]
    typed = body[:pos] + wrong + body[pos + 1 :] + codes.check_symbol(value)
    with pytest.raises(CodeTypo):
        codes.normalize(typed)


@given(values, st.integers(min_value=0, max_value=14))
def test_swapping_two_neighbours_is_caught(value: int, pos: int) -> None:
    body = codes.encode(value)
    if body[pos] == body[pos + 1]:
        return
    typed = body[:pos] + body[pos + 1] + body[pos] + body[pos + 2 :] + codes.check_symbol(value)
    with pytest.raises(CodeTypo):
        codes.normalize(typed)


@pytest.mark.parametrize(
    "typed",
    ["", "K7QM", "K7QM-2XWD-9H4P-RT3B", "K7QM-2XWD-9H4P-RT3B-66", "K7QM-2XWD-9H4P-RT3U-6",
     "K7QM-2XWD-9H4P-RT3B-!", "<script>", "K7QM-2XWD-9H4P-RT3B-6" * 50, "ÅÄÖÅ-2XWD-9H4P-RT3B-6"],
)  # fmt: skip
def test_malformed_entries_are_refused(typed: str) -> None:
    with pytest.raises(CodeFormatError):
        codes.normalize(typed)


def test_digest_is_keyed_and_separates_purposes() -> None:
    code = codes.generate()
    a = codes.digest("pepper-a", code)
    assert len(a) == 64 and code.replace("-", "") not in a
    assert a != codes.digest("pepper-b", code)
    assert a != codes.digest("pepper-a", code, purpose="receipt")
    assert a == codes.digest_canonical("pepper-a", codes.normalize(code))
    assert codes.same(a, a) and not codes.same(a, codes.digest("pepper-b", code))


def test_full_width_letters_and_digits_are_read_as_plain_ones() -> None:
    """A phone's CJK keyboard types full-width forms (ＣＹＹ７－…): Unicode NFKC makes them
    the plain letters, digits and dash."""
    code = codes.generate()
    wide = "".join(chr(ord(c) + 0xFEE0) if c != "-" else "－" for c in code)
    assert wide != code and codes.normalize(wide) == codes.normalize(code)
    assert codes.digest("p", wide) == codes.digest("p", code)
    assert codes.pretty(wide.lower()) == code


def test_a_code_without_its_check_character_is_told_so() -> None:
    code = codes.generate()
    for typed in (code[:-2], code[:-1], code[:-2].replace("-", " "), code[:-2].replace("-", "")):
        with pytest.raises(codes.CodeCheckMissing, match=r"after the last dash\) is missing"):
            codes.normalize(typed)
    # A symbol dropped from a group is not a missing check character.
    body = code[:-2]
    for typed in (body[1:], body[:6] + body[7:] + "-" + code[-1]):
        with pytest.raises(CodeFormatError) as caught:
            codes.normalize(typed)
        assert not isinstance(caught.value, codes.CodeCheckMissing), typed
    assert issubclass(codes.CodeCheckMissing, CodeFormatError)  # refused like any bad shape


def test_a_bad_receipt_is_called_a_receipt() -> None:
    receipt = codes.generate()
    typo = receipt[:-1] + codes.CHECK_SYMBOLS[(codes.CHECK_SYMBOLS.index(receipt[-1]) + 1) % 37]
    cases = [("x", codes.ReceiptFormatError, "not a receipt"),
             (receipt[:-2], codes.ReceiptCheckMissing, "of the receipt"),
             (typo, codes.ReceiptTypo, "receipt you wrote down")]  # fmt: skip
    for typed, kind, words in cases:
        for call in (lambda t: codes.normalize(t, receipt=True),
                     lambda t: codes.digest("p", t, purpose="receipt")):  # fmt: skip
            with pytest.raises(kind) as caught:
                call(typed)
            assert words in str(caught.value) and "code" not in str(caught.value)
            assert "letter or card" not in str(caught.value)


def test_a_receipt_has_its_own_check_character() -> None:
    """A receipt never has a code's check character, so a code typed as a receipt is told by
    its shape; a receipt given before (a code's check character) is still read as one."""
    for _n in range(200):
        receipt = codes.generate(receipt=True)
        assert codes.normalize(receipt, receipt=True)
        assert not codes.looks_like_code(receipt)
        with pytest.raises(codes.CodeTypo):
            codes.normalize(receipt)  # not a code
        assert codes.pretty(receipt.lower(), receipt=True) == receipt
        code = codes.generate()
        assert codes.looks_like_code(code)
        assert codes.pretty(code, receipt=True) == code  # an older receipt keeps its shape
        assert codes.normalize(code, receipt=True) == codes.normalize(code)
    assert not codes.looks_like_code("x")
