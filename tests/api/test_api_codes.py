"""The code-table endpoints and the API's structured errors."""

from __future__ import annotations

import pytest

from jianguan.codes.idcard import check_digit

pytestmark = pytest.mark.django_db

BODY17 = "44010319900101123"  # 广州越秀, born 1990-01-01, odd sequence digit: male
VALID = BODY17 + check_digit(BODY17)
UNAUTHENTICATED = {"code": "UNAUTHENTICATED", "message": "未登录或令牌无效", "field": None}


@pytest.fixture
def officer_client(make_user, sign_in):
    return sign_in(make_user("gz_guanjiao", "CUSTODIAN"))


def test_resident_id_check_parses_a_valid_number(officer_client):
    """A valid number answers 200 with its region, birth date and gender code."""
    response = officer_client.post(
        "/api/v1/codes/resident-id/check", {"number": VALID}, content_type="application/json"
    )
    assert (response.status_code, response.json()) == (
        200,
        {"number": VALID, "region_code": "440103", "birth_date": "1990-01-01", "gender_code": "1"},
    )


def test_resident_id_check_normalises_a_lower_case_x(officer_client):
    """A number whose check character is X is accepted in lower case and answered upper case."""
    body = next(
        f"4401031990010100{n}" for n in range(10) if check_digit(f"4401031990010100{n}") == "X"
    )
    response = officer_client.post(
        "/api/v1/codes/resident-id/check",
        {"number": body + "x"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["number"] == body + "X"


def test_resident_id_check_refuses_a_bad_check_digit(officer_client):
    """A wrong check digit answers 400 ID_NUMBER_CHECK_DIGIT on field `number`."""
    wrong = "0" if VALID[-1] != "0" else "1"
    response = officer_client.post(
        "/api/v1/codes/resident-id/check",
        {"number": BODY17 + wrong},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("ID_NUMBER_CHECK_DIGIT", "number")
    assert body["message"] == "身份证号码校验位不符，号码可能录入有误，请逐位核对证件后重新输入"


def test_resident_id_check_refuses_an_unknown_province(officer_client):
    """A number whose first two digits are no loaded province answers ID_NUMBER_REGION."""
    body17 = "99010319900101123"
    response = officer_client.post(
        "/api/v1/codes/resident-id/check",
        {"number": body17 + check_digit(body17)},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("ID_NUMBER_REGION", "number")


def test_missing_field_is_a_structured_422(officer_client):
    """A pydantic validation error answers 422 with code INVALID and the field's name."""
    response = officer_client.post(
        "/api/v1/codes/resident-id/check", {}, content_type="application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["field"]) == ("INVALID", "number")
    assert body["message"].startswith("参数有误：")
    assert body["errors"][0]["type"] == "missing"


def test_wrong_query_type_is_a_structured_422(officer_client):
    """A non-integer page answers 422 INVALID naming `page`."""
    response = officer_client.get("/api/v1/detainees?page=abc")
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("INVALID", "page")


def test_gender_table_lists_four_entries(officer_client):
    """GET /api/v1/codes/GENDER lists the four GB/T 2261.1 codes in order."""
    response = officer_client.get("/api/v1/codes/GENDER")
    assert response.status_code == 200
    assert [(e["code"], e["name"]) for e in response.json()] == [
        ("0", "未知的性别"),
        ("1", "男"),
        ("2", "女"),
        ("9", "未说明的性别"),
    ]


def test_table_key_is_case_insensitive(officer_client):
    """gender and GENDER name the same table."""
    assert len(officer_client.get("/api/v1/codes/gender").json()) == 4


def test_unknown_table_is_not_found(officer_client):
    """An unknown table answers 404 NOT_FOUND."""
    response = officer_client.get("/api/v1/codes/NO_SUCH_TABLE")
    assert (response.status_code, response.json()) == (
        404,
        {"code": "NOT_FOUND", "message": "代码表不存在或无权访问", "field": None},
    )


def test_code_endpoints_need_authentication(codes, client):
    """Anonymous callers get 401 UNAUTHENTICATED from both code endpoints."""
    table = client.get("/api/v1/codes/GENDER")
    check = client.post(
        "/api/v1/codes/resident-id/check", {"number": VALID}, content_type="application/json"
    )
    assert (table.status_code, table.json()) == (401, UNAUTHENTICATED)
    assert (check.status_code, check.json()) == (401, UNAUTHENTICATED)
