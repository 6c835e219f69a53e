import pytest


@pytest.mark.django_db
def test_city_supervisor_sees_facilities_below(make_user, tree):
    from jianguan.org.api import scope_units

    sup = make_user("sup", "SUPERVISOR", unit="gz")
    codes = sorted(scope_units(sup).values_list("code", flat=True))
    assert codes == ["440100", "440100J01", "440100K01"]
