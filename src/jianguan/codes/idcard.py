"""公民身份号码（GB 11643-1999）的校验与解析。

Citizen identity numbers of the People's Republic of China (GB 11643-1999):
17 digits (6-digit address code, 8-digit birth date YYYYMMDD, 3-digit sequence
code) followed by one check character computed with ISO 7064 MOD 11-2.

This module is pure Python (no Django) so that it can be used from forms,
API schemas, import scripts and tests alike. ``today`` is always passed in by
the caller so that results never depend on the wall clock or time zone.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

__all__ = [
    "BIRTH_DATE",
    "CHARACTERS",
    "CHECK_DIGIT",
    "LENGTH",
    "REGION",
    "InvalidResidentId",
    "ResidentId",
    "check_digit",
    "parse_resident_id",
]

# Error codes carried by InvalidResidentId.code.
LENGTH: Final = "LENGTH"
CHARACTERS: Final = "CHARACTERS"
CHECK_DIGIT: Final = "CHECK_DIGIT"
BIRTH_DATE: Final = "BIRTH_DATE"
REGION: Final = "REGION"

# ISO 7064 MOD 11-2: weight of position i (1-based from the left, 17 positions)
# is 2**(18 - i) mod 11.
_WEIGHTS: Final[tuple[int, ...]] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character indexed by (weighted sum mod 11).
_CHECK_CHARS: Final = "10X98765432"
_DIGITS: Final = frozenset("0123456789")

_LENGTH_18: Final = 18
_LENGTH_15: Final = 15
_EARLIEST_BIRTH: Final = datetime.date(1900, 1, 1)


class InvalidResidentId(ValueError):
    """The number is not a valid 18-digit citizen identity number.

    ``code`` is one of the module constants LENGTH, CHARACTERS, CHECK_DIGIT,
    BIRTH_DATE, REGION; ``message`` is a Chinese sentence suitable for showing
    to the officer entering the number.
    """

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type[InvalidResidentId], tuple[str, str]]:
        # Keep the two-argument constructor working through pickle/copy.
        return (type(self), (self.code, self.message))


@dataclass(frozen=True)
class ResidentId:
    """A validated 18-digit citizen identity number and the facts it encodes."""

    number: str
    """Normalised number: 18 characters, check character ``X`` upper-case."""
    region_code: str
    """Address code: the first six digits (GB/T 2260 county-level code at issue)."""
    birth_date: datetime.date
    gender_code: str
    """GB/T 2261.1 gender code: ``"1"`` male (odd sequence), ``"2"`` female (even)."""


def check_digit(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for 17 digits.

    Raises ValueError if ``first17`` is not exactly 17 ASCII digits.
    """
    if len(first17) != len(_WEIGHTS) or not _DIGITS.issuperset(first17):
        raise ValueError("first17 must be exactly 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_resident_id(
    number: str,
    *,
    today: datetime.date,
    known_province_codes: Collection[str] | None = None,
) -> ResidentId:
    """Validate and parse an 18-digit citizen identity number.

    ``today`` is the reference date for rejecting future birth dates.
    ``known_province_codes``, if given, is a collection of two-digit province
    prefixes (e.g. ``{"11", "44"}``); the number's first two digits must be one
    of them. Note that numbers on residence permits for Hong Kong, Macao and
    Taiwan residents begin with 81, 82 and 83 respectively; 83 is not a GB/T
    2260 province code (Taiwan is 71), so add it when such permits are accepted.

    Raises InvalidResidentId. Checks run in this order: LENGTH, CHARACTERS,
    REGION, BIRTH_DATE, CHECK_DIGIT.
    """
    if isinstance(known_province_codes, str):
        # A bare string would be searched for substrings ("1144" contains "14").
        raise TypeError("known_province_codes must be a collection of two-digit strings")
    value = number.strip()

    if len(value) != _LENGTH_18:
        if len(value) == _LENGTH_15 and _DIGITS.issuperset(value):
            raise InvalidResidentId(
                LENGTH,
                "这是15位旧身份证号码，系统只接受18位号码，请换用18位号码"
                "（可查看居民身份证或户口簿）",
            )
        raise InvalidResidentId(
            LENGTH,
            f"身份证号码应为18位（15位旧号码请换用18位号码），当前输入为{len(value)}位",
        )

    body, last = value[:17], value[17].upper()
    if not _DIGITS.issuperset(body) or not (last in _DIGITS or last == "X"):
        raise InvalidResidentId(
            CHARACTERS,
            "身份证号码前17位只能是数字，最后一位只能是数字或字母X，请检查是否混入了空格、"
            "全角字符或其他字母",
        )

    if known_province_codes is not None and body[:2] not in known_province_codes:
        raise InvalidResidentId(
            REGION,
            f"身份证号码前两位“{body[:2]}”不是有效的省级行政区划代码，请核对号码是否录入有误",
        )

    birth = _birth_date(body[6:14])
    if birth is None:
        raise InvalidResidentId(
            BIRTH_DATE,
            f"身份证号码第7至14位“{body[6:14]}”不是有效的出生日期，请核对号码",
        )
    if birth < _EARLIEST_BIRTH:
        raise InvalidResidentId(
            BIRTH_DATE,
            "身份证号码中的出生日期早于1900年1月1日，请核对号码",
        )
    if birth > today:
        raise InvalidResidentId(
            BIRTH_DATE,
            "身份证号码中的出生日期晚于今天，请核对号码",
        )

    if check_digit(body) != last:
        raise InvalidResidentId(
            CHECK_DIGIT,
            "身份证号码校验位不符，号码可能录入有误，请逐位核对证件后重新输入",
        )

    sequence_last = int(body[16])
    return ResidentId(
        number=body + last,
        region_code=body[:6],
        birth_date=birth,
        gender_code="1" if sequence_last % 2 == 1 else "2",
    )


def _birth_date(yyyymmdd: str) -> datetime.date | None:
    """Parse 8 ASCII digits as a calendar date, or None if no such date."""
    try:
        return datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return None
