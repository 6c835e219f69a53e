"""Tests for jianguan.codes.idcard (GB 11643-1999 citizen identity numbers).

Pure Python: no database, no Django.
"""

from __future__ import annotations

import copy
import datetime
import importlib.util
import pickle
import sys
from pathlib import Path

import pytest

if importlib.util.find_spec("jianguan") is None:  # not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from jianguan.codes import idcard
from jianguan.codes.idcard import (
    BIRTH_DATE,
    CHARACTERS,
    CHECK_DIGIT,
    LENGTH,
    REGION,
    InvalidResidentId,
    ResidentId,
    check_digit,
    parse_resident_id,
)

TODAY = datetime.date(2024, 6, 1)

# The example number printed in GB 11643-1999 (Beijing Chaoyang, 1949-12-31, female).
GB_EXAMPLE = "11010519491231002X"


def _error(number: str, **kwargs: object) -> InvalidResidentId:
    with pytest.raises(InvalidResidentId) as excinfo:
        parse_resident_id(number, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return excinfo.value


# --- check_digit -------------------------------------------------------------


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        ("11010519491231002", "X"),  # GB 11643-1999 example
        ("44052418800101001", "4"),  # second GB 11643-1999 example
        ("11010520000229001", "3"),
        ("11010520000229002", "1"),
        ("11010520000229003", "X"),
        ("44030619851015123", "2"),
        ("32010219900307456", "0"),
        ("51010720101231000", "8"),
        ("65010219751201888", "X"),
    ],
)
def test_check_digit_known_values(first17: str, expected: str) -> None:
    assert check_digit(first17) == expected


def test_check_digit_matches_iso_7064_definition() -> None:
    # MOD 11-2: the full 18 characters (X = 10) weighted by 2**(17-i) sum to 1 mod 11.
    for first17 in ("11010519491231002", "44030619851015123", "00000000000000000"):
        full = first17 + check_digit(first17)
        values = [10 if ch == "X" else int(ch) for ch in full]
        assert sum(v * 2 ** (17 - i) for i, v in enumerate(values)) % 11 == 1


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "1101051949123100",
        "110105194912310021",
        "1101051949123100A",
        "１１０１０５１９４９１２３１００２",
    ],
)
def test_check_digit_rejects_non_17_digit_input(bad: str) -> None:
    with pytest.raises(ValueError, match="17"):
        check_digit(bad)


# --- valid numbers -----------------------------------------------------------


def test_gb_published_example() -> None:
    rid = parse_resident_id(GB_EXAMPLE, today=TODAY)
    assert rid == ResidentId(
        number="11010519491231002X",
        region_code="110105",
        birth_date=datetime.date(1949, 12, 31),
        gender_code="2",
    )


def test_male_odd_sequence() -> None:
    rid = parse_resident_id("110105200002290013", today=TODAY)
    assert rid.gender_code == "1"
    assert rid.birth_date == datetime.date(2000, 2, 29)
    assert rid.region_code == "110105"


def test_female_even_sequence() -> None:
    rid = parse_resident_id("110105200002290021", today=TODAY)
    assert rid.gender_code == "2"


def test_x_check_digit_male() -> None:
    rid = parse_resident_id("11010520000229003X", today=TODAY)
    assert rid.number == "11010520000229003X"
    assert rid.gender_code == "1"


def test_other_valid_numbers() -> None:
    assert parse_resident_id("440306198510151232", today=TODAY).birth_date == datetime.date(
        1985, 10, 15
    )
    assert parse_resident_id("320102199003074560", today=TODAY).gender_code == "2"
    assert parse_resident_id("65010219751201888X", today=TODAY).gender_code == "2"


def test_lower_case_x_and_whitespace_normalised() -> None:
    rid = parse_resident_id("  11010519491231002x\n", today=TODAY)
    assert rid.number == GB_EXAMPLE
    rid = parse_resident_id("\u300011010520000229003x\t", today=TODAY)  # full-width space
    assert rid.number == "11010520000229003X"


def test_result_is_frozen() -> None:
    rid = parse_resident_id(GB_EXAMPLE, today=TODAY)
    with pytest.raises(AttributeError):
        rid.number = "x"  # type: ignore[misc]


def test_birth_on_reference_day_is_valid() -> None:
    rid = parse_resident_id("110105202406010013", today=TODAY)
    assert rid.birth_date == TODAY


def test_birth_on_1900_01_01_is_valid() -> None:
    rid = parse_resident_id("11010519000101001X", today=TODAY)
    assert rid.birth_date == datetime.date(1900, 1, 1)


# --- LENGTH ------------------------------------------------------------------


def test_fifteen_digit_old_number_rejected_with_length() -> None:
    err = _error("110105491231002")
    assert err.code == LENGTH
    assert "15位" in err.message
    assert "18位" in err.message


@pytest.mark.parametrize(
    "number", ["", "   ", "11010519491231002", "11010519491231002X1", "1101051949123100"]
)
def test_wrong_length(number: str) -> None:
    err = _error(number)
    assert err.code == LENGTH
    assert "18位" in err.message


# --- CHARACTERS --------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231O02X",  # letter O instead of zero
        "1101051949123100X2",  # X not in the last position
        "11010519491231002Y",
        "110105 9491231002X",  # inner space
        "１１０１０５１９４９１２３１００２X",  # full-width digits
        "11010519491231002-",
    ],
)
def test_bad_characters(number: str) -> None:
    err = _error(number)
    assert err.code == CHARACTERS
    assert "X" in err.message


# --- CHECK_DIGIT -------------------------------------------------------------


def test_wrong_check_digit() -> None:
    err = _error("110105194912310021")
    assert err.code == CHECK_DIGIT
    assert "校验" in err.message


def test_check_digit_message_does_not_reveal_expected_digit() -> None:
    for number in ("110105194912310021", "440306198510151239", "11010520000229001X"):
        err = _error(number)
        assert err.code == CHECK_DIGIT
        assert not any(ch.isascii() and ch.isalnum() for ch in err.message)


def test_adjacent_transposition_detected() -> None:
    # 440306198510151232 is valid; swap two digits of the sequence code.
    err = _error("440306198510152132")
    assert err.code == CHECK_DIGIT


# --- BIRTH_DATE --------------------------------------------------------------


def test_leap_day_1900_is_not_a_date() -> None:
    # Correct check digit, so only the date is at fault (1900 is not a leap year).
    assert check_digit("11010519000229001") == "7"
    err = _error("110105190002290017")
    assert err.code == BIRTH_DATE


def test_leap_day_2001_is_not_a_date() -> None:
    assert check_digit("11010520010229001") == "0"
    err = _error("110105200102290010")
    assert err.code == BIRTH_DATE


@pytest.mark.parametrize("number", ["110105199013010018", "110105199004310019"])
def test_impossible_month_or_day(number: str) -> None:
    assert check_digit(number[:17]) == number[17]
    assert _error(number).code == BIRTH_DATE


def test_future_birth_date() -> None:
    err = _error("110105202406020019")  # one day after TODAY, correct check digit
    assert err.code == BIRTH_DATE
    assert "今天" in err.message


def test_birth_before_1900() -> None:
    # Second example from GB 11643-1999 (born 1880): well-formed but outside our range.
    err = _error("440524188001010014")
    assert err.code == BIRTH_DATE
    assert "1900" in err.message
    assert _error("110105189912310015").code == BIRTH_DATE


def test_birth_date_reported_before_check_digit() -> None:
    # Bad date and bad check digit: the date is the more useful thing to report.
    assert _error("110105200102290011").code == BIRTH_DATE


# --- REGION ------------------------------------------------------------------


def test_region_accepted_when_known() -> None:
    rid = parse_resident_id(GB_EXAMPLE, today=TODAY, known_province_codes={"11", "44"})
    assert rid.region_code == "110105"


def test_region_rejected_when_unknown() -> None:
    err = _error(GB_EXAMPLE, known_province_codes={"44"})
    assert err.code == REGION
    assert "11" in err.message


def test_region_check_skipped_when_none() -> None:
    # "00" is not a province, but no province list was given.
    number = "000000199001010018"
    assert check_digit(number[:17]) == number[17]
    assert parse_resident_id(number, today=TODAY).region_code == "000000"
    assert _error(number, known_province_codes=["11"]).code == REGION


def test_region_accepts_any_collection() -> None:
    assert parse_resident_id(GB_EXAMPLE, today=TODAY, known_province_codes=("11",))
    assert parse_resident_id(GB_EXAMPLE, today=TODAY, known_province_codes=frozenset({"11"}))


def test_region_codes_must_not_be_a_bare_string() -> None:
    with pytest.raises(TypeError):
        parse_resident_id(GB_EXAMPLE, today=TODAY, known_province_codes="1144")


def test_residence_permit_numbers() -> None:
    # Sample numbers published for Hong Kong/Macao (81) and Taiwan (83) residence permits.
    hk = parse_resident_id("810000199408230021", today=TODAY, known_province_codes={"81"})
    assert hk.gender_code == "2"
    taiwan = "830000199201300022"
    assert _error(taiwan, known_province_codes={"11", "71", "81", "82"}).code == REGION
    assert parse_resident_id(taiwan, today=TODAY, known_province_codes={"83"}).region_code == (
        "830000"
    )


# --- exception ---------------------------------------------------------------


def test_exception_shape() -> None:
    err = InvalidResidentId(LENGTH, "身份证号码应为18位")
    assert isinstance(err, ValueError)
    assert err.code == LENGTH
    assert err.message == "身份证号码应为18位"
    assert str(err) == "身份证号码应为18位"


def test_exception_survives_pickle_and_copy() -> None:
    err = _error("110105194912310021")
    for clone in (pickle.loads(pickle.dumps(err)), copy.copy(err)):  # noqa: S301
        assert isinstance(clone, InvalidResidentId)
        assert clone.code == err.code
        assert clone.message == err.message


def test_error_code_constants() -> None:
    codes = [idcard.LENGTH, idcard.CHARACTERS, idcard.CHECK_DIGIT, idcard.BIRTH_DATE, idcard.REGION]
    assert codes == ["LENGTH", "CHARACTERS", "CHECK_DIGIT", "BIRTH_DATE", "REGION"]


def test_messages_are_chinese() -> None:
    samples = [
        "110105491231002",
        "11010519491231O02X",
        "110105194912310021",
        "110105200102290010",
    ]
    for number in samples:
        message = _error(number).message
        assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    message = _error(GB_EXAMPLE, known_province_codes={"44"}).message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
