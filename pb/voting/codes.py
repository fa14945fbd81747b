"""Voting codes and receipts: generation, forgiving parsing, and the keyed digest we store.

A code is 80 random bits from ``secrets`` written as 16 Crockford base32 symbols in groups
of four, followed by a check symbol (Crockford's mod-37 scheme):

    K7QM-2XWD-9H4P-RT3B-6

Entry forgives case, spaces and dashes, reads O as 0 and I or L as 1, and takes full-width
and other compatibility forms of letters and digits (a phone's Japanese or Chinese
keyboard) as the plain ones (Unicode NFKC). A typo in one
symbol (and most swaps) changes the value mod 37, so the check symbol catches it before
any database look-up. The plain code exists only when it is issued; the database keeps
``digest(pepper, code)``, a keyed HMAC-SHA256 whose key (``VOTING_CODE_PEPPER``) lives
outside the database. Pure: no Flask, no database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from flask_babel import lazy_gettext as _l

from pb.errors import Invalid

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32 symbols (no I, L, O, U)."""
CHECK_SYMBOLS = ALPHABET + "*~$=U"
"""The 37 check symbols: the 32 above and five more, for values 32..36."""
BITS = 80
LENGTH = BITS // 5  # 16 symbols
GROUP = 4

_VALUE = {ch: i for i, ch in enumerate(CHECK_SYMBOLS)}
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CodeFormatError(Invalid):
    message = _l(
        "This is not a voting code. A code has 16 letters and digits and a check character, "
        "like K7QM-2XWD-9H4P-RT3B-6."
    )


class CodeCheckMissing(CodeFormatError):
    message = _l(
        "The last character of the code (after the last dash) is missing. A code ends with a "
        "check character: a letter, a digit or one of * ~ $ =, like the 6 in "
        "K7QM-2XWD-9H4P-RT3B-6."
    )


class CodeTypo(Invalid):
    message = _l(
        "The code has a typing error: its last character does not match the rest. "
        "Please compare it with your letter or card."
    )


# A receipt has the shape of a code; what is wrong with a typed one is said in its words.
class ReceiptFormatError(CodeFormatError):
    message = _l(
        "This is not a receipt. A receipt has 16 letters and digits and a check character, "
        "like K7QM-2XWD-9H4P-RT3B-6, and was shown after you voted."
    )


class ReceiptCheckMissing(ReceiptFormatError):
    message = _l(
        "The last character of the receipt (after the last dash) is missing. A receipt ends "
        "with a check character: a letter, a digit or one of * ~ $ =."
    )


class ReceiptTypo(CodeTypo):
    message = _l(
        "The receipt has a typing error: its last character does not match the rest. "
        "Please compare it with the receipt you wrote down, printed or were mailed."
    )


def check_symbol(value: int) -> str:
    """Crockford's check symbol of a number: its value mod 37 as one of 37 symbols."""
    return CHECK_SYMBOLS[value % 37]


RECEIPT_SHIFT = 18
"""A receipt's check symbol is that of its value plus this (mod 37): a receipt has the shape
of a code but never a code's check symbol, so a voting code typed where a receipt is asked
for is told by its shape alone, looking nothing up. A typo is caught as well as in a code
(the shift does not change the differences mod 37)."""


def receipt_check_symbol(value: int) -> str:
    return CHECK_SYMBOLS[(value + RECEIPT_SHIFT) % 37]


def encode(value: int) -> str:
    """The 16 symbols of an 80-bit number (most significant first), without check."""
    if not 0 <= value < 1 << BITS:
        raise ValueError("a code is an 80-bit number")
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def decode(symbols: str) -> int:
    value = 0
    for ch in symbols:
        value = value * 32 + ALPHABET.index(ch)
    return value


def format_code(value: int) -> str:
    """The printed form: four groups of four and the check symbol, joined by dashes."""
    return format_body(encode(value), value)


def format_body(body: str, value: int, *, receipt: bool = False) -> str:
    """``format_code`` given the 16 symbols already encoded from ``value``."""
    groups = [body[i : i + GROUP] for i in range(0, LENGTH, GROUP)]
    return "-".join([*groups, (receipt_check_symbol if receipt else check_symbol)(value)])


def generate(*, receipt: bool = False) -> str:
    """A new random code (or ``receipt``) in its printed form (80 bits from ``secrets``)."""
    value = secrets.randbits(BITS)
    return format_body(encode(value), value, receipt=receipt)


_SEPARATORS = "-‐‑–—_."
_GROUPS = re.compile(r"[\s" + re.escape(_SEPARATORS) + "]+")


def normalize(text: str, *, receipt: bool = False) -> str:
    """The canonical 16 symbols of what someone typed; ``CodeFormatError`` if it cannot be
    a code (``CodeCheckMissing`` if 16 symbols, in four groups of four or in one run, came
    without the check character),
    ``CodeTypo`` if the check symbol does not match. ``receipt``: the text is a receipt,
    and the errors (``Receipt…``, subclasses of those) say so."""
    typed = unicodedata.normalize("NFKC", str(text))
    cleaned = "".join(ch for ch in typed if not ch.isspace() and ch not in _SEPARATORS)
    cleaned = cleaned.upper().translate(_LOOKALIKES)
    malformed = ReceiptFormatError if receipt else CodeFormatError
    if len(cleaned) != LENGTH + 1:
        groups = [g for g in _GROUPS.split(typed.strip()) if g]
        if (
            len(cleaned) == LENGTH
            and all(ch in ALPHABET for ch in cleaned)
            and ([len(g) for g in groups] in ([GROUP] * (LENGTH // GROUP), [LENGTH]))
        ):
            raise ReceiptCheckMissing() if receipt else CodeCheckMissing()
        raise malformed()
    body, check = cleaned[:LENGTH], cleaned[LENGTH]
    if any(ch not in ALPHABET for ch in body) or check not in _VALUE:
        raise malformed()
    value = decode(body)
    # A receipt takes a code's check symbol too: receipts given before they had their own.
    if check_symbol(value) != check and not (receipt and receipt_check_symbol(value) == check):
        raise ReceiptTypo() if receipt else CodeTypo()
    return body


def looks_like_code(text: str) -> bool:
    """Has this text the shape of a voting code (its check symbol), not of a receipt? By
    its shape only: nothing is looked up."""
    try:
        normalize(text)  # a code's check symbol, never a receipt's (RECEIPT_SHIFT)
    except Invalid:
        return False
    return True


def pretty(text: str, *, receipt: bool = False) -> str:
    """The printed form of a typed code or receipt (which must be valid); a receipt keeps
    the check symbol it was given with."""
    value = decode(normalize(text, receipt=receipt))
    return format_body(encode(value), value, receipt=receipt and not looks_like_code(text))


def digest(pepper: str | bytes, code: str, *, purpose: str = "code") -> str:
    """The keyed HMAC-SHA256 (hex) of a code's canonical form under the pepper.

    ``purpose`` separates uses of one pepper: a voting code and a receipt with the same
    symbols get unrelated digests."""
    key = pepper.encode() if isinstance(pepper, str) else pepper
    message = f"{purpose}:{normalize(code, receipt=purpose == 'receipt')}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def digest_canonical(pepper: str | bytes, canonical: str, *, purpose: str = "code") -> str:
    """``digest`` of a code already in canonical form (16 symbols), for bulk issuing."""
    key = pepper.encode() if isinstance(pepper, str) else pepper
    return hmac.new(key, f"{purpose}:{canonical}".encode(), hashlib.sha256).hexdigest()


def keyed(pepper: str | bytes, *parts: str) -> str:
    """A keyed HMAC-SHA256 (hex) of several parts, e.g. binding a code to its receipt."""
    key = pepper.encode() if isinstance(pepper, str) else pepper
    message = "\x1f".join(parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode(), b.encode())
