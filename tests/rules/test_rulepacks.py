"""Rule packs: a refused pack names its line and leaves the live one in force, the most
specific unit's pack governs, and a new deadlines pack recomputes the clocks of the people
held under its unit."""

from __future__ import annotations

from typing import Any

import pytest

from jianguan.core.actor import Actor
from jianguan.core.errors import DomainError
from jianguan.custody.api import Deadline
from jianguan.outbox.api import deliver
from jianguan.rules.api import PackStatus, RulePack, pack_for, pack_kinds, pack_publish
from tests.custody.factories import search_step

pytestmark = pytest.mark.django_db

PUBLISHER = Actor(user_id=None, username="gd_admin", unit_code="440000", posts=("ADMINISTRATOR",))


def _builtin(kind: str) -> str:
    return pack_kinds()[kind].builtin_path.read_text(encoding="utf-8")


def _variant(kind: str, version: str, *replacements: tuple[str, str]) -> str:
    """The built-in pack of `kind` as a new version, with exact text replacements."""
    text = _builtin(kind)
    old = 'version: "2026.1"'
    assert text.count(old) == 1
    text = text.replace(old, f'version: "{version}"')
    for before, after in replacements:
        assert text.count(before) == 1, before
        text = text.replace(before, after)
    return text


def _line_of(text: str, needle: str) -> int:
    """The 1-based number of the only line containing `needle`."""
    (number,) = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return number


def _refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def _publish(kind: str, text: str, unit_code: str = "", **kw: Any) -> RulePack:
    return pack_publish(actor=PUBLISHER, kind=kind, text=text, unit_code=unit_code, **kw)


BROKEN_YAML = """kind: separation
version: "broken"
title: "缩进错误"
rules:
  - id: SEX
    label: "男女分押"
   article: "看守所条例第十四条"
    basis: law
"""


def test_broken_yaml_names_its_line_and_keeps_the_live_pack(tree):
    """Line 7 is indented one space short: RULEPACK_INVALID 「第 7 行：…」; the province's
    active pack stays active and still governs."""
    live = _publish("separation", _variant("separation", "gd-1"), "440000")
    error = _refused(lambda: _publish("separation", BROKEN_YAML, "440000"))
    assert error.code == "RULEPACK_INVALID"
    assert error.message.startswith("第 7 行：不是有效的 YAML")
    assert list(RulePack.objects.values_list("version", "status")) == [("gd-1", PackStatus.ACTIVE)]
    assert pack_for("separation", tree["gz_k"].path).origin == str(live.id)


def test_schema_error_names_the_line_of_the_bad_value(tree):
    """An unknown separation rule id is refused at the line of that id, naming the rule."""
    _publish("separation", _variant("separation", "gd-1"), "440000")
    text = _variant("separation", "gd-2", ("  - id: FOREIGN", "  - id: ALIEN"))
    error = _refused(lambda: _publish("separation", text, "440000"))
    assert error.code == "RULEPACK_INVALID"
    assert error.message.startswith(f"第 {_line_of(text, 'id: ALIEN')} 行：")
    assert "ALIEN" in error.message
    assert pack_for("separation", tree["gz_k"].path).version == "gd-1"


def test_parameter_error_names_the_line_of_the_parameter(tree):
    """A negative per-person area is refused at its own line."""
    text = _variant("separation", "gd-2", ("area_per_person_m2: 2", "area_per_person_m2: -2"))
    error = _refused(lambda: _publish("separation", text, "440000"))
    assert error.message.startswith(f"第 {_line_of(text, 'area_per_person_m2')} 行：")
    assert "正数" in error.message
    assert RulePack.objects.count() == 0


def test_admission_pack_error_names_its_line(tree):
    """An admission rule whose outcome is not one of REFUSE, APPROVAL, WARN."""
    text = _variant(
        "admission",
        "gd-2",
        ("    from_age: 70\n\n  # --- 拘留所", "    from_age: seventy\n\n  # --- 拘留所"),
    )
    error = _refused(lambda: _publish("admission", text, "440000"))
    assert error.message.startswith(f"第 {_line_of(text, 'from_age: seventy')} 行：")


def test_version_must_be_quoted_text(tree):
    text = _builtin("separation").replace('version: "2026.1"', "version: 2026")
    error = _refused(lambda: _publish("separation", text, "440000"))
    assert error.message.startswith(f"第 {_line_of(text, 'version: 2026')} 行：version")


def test_pack_of_another_kind_is_refused(tree):
    error = _refused(lambda: _publish("admission", _variant("separation", "x"), "440000"))
    assert error.code == "RULEPACK_INVALID"
    assert "kind 应为 admission" in error.message


def test_unknown_kind_is_refused(tree):
    error = _refused(lambda: _publish("patrol", "kind: patrol\n", "440000"))
    assert error.code == "UNKNOWN_RULEPACK_KIND"


def test_a_version_is_published_once_per_unit(tree):
    _publish("separation", _variant("separation", "gd-1"), "440000")
    error = _refused(lambda: _publish("separation", _variant("separation", "gd-1"), "440000"))
    assert (error.code, error.field) == ("RULEPACK_VERSION_EXISTS", "version")


def test_facility_pack_overrides_the_provinces(tree):
    """广州一看's own pack governs it; 广州拘留所 and 深圳一看 follow 广东's; with no pack
    above, a unit outside 广东 keeps the built-in default."""
    _publish("separation", _variant("separation", "gd-1"), "440000")
    _publish("separation", _variant("separation", "k01-1"), "440100K01")
    assert pack_for("separation", tree["gz_k"].path).version == "k01-1"
    assert pack_for("separation", tree["gz_j"].path).version == "gd-1"
    assert pack_for("separation", tree["sz_k"].path).version == "gd-1"
    assert pack_for("separation", "/000000/450000/").version == "2026.1"


def test_a_new_version_retires_the_previous_one(tree):
    _publish("separation", _variant("separation", "gd-1"), "440000")
    _publish("separation", _variant("separation", "gd-2"), "440000")
    assert dict(RulePack.objects.values_list("version", "status")) == {
        "gd-1": PackStatus.RETIRED,
        "gd-2": PackStatus.ACTIVE,
    }
    assert pack_for("separation", tree["gz_k"].path).version == "gd-2"


def test_shadow_pack_runs_beside_the_live_one(tree):
    """A trial pack does not govern; it is found only when asked for the shadow."""
    _publish("separation", _variant("separation", "gd-1"), "440000")
    _publish("separation", _variant("separation", "gd-try"), "440000", shadow=True)
    assert pack_for("separation", tree["gz_k"].path).version == "gd-1"
    assert pack_for("separation", tree["gz_k"].path, shadow=True).version == "gd-try"
    error = _refused(lambda: pack_for("separation", "/000000/450000/", shadow=True))
    assert error.code == "NO_SHADOW_PACK"


def test_changed_deadline_pack_recomputes_held_peoples_clocks(admit, make_user, tree):
    """广州's pack shortens the police 拘留 term from 3 to 2 days. Once the outbox delivers the
    publication, the 广州一看 person's 刑事拘留期限 ends one day earlier under the new version;
    the 深圳 person keeps the built-in clock."""
    gz_person = admit()
    sz_officer = make_user("sz_shouya", "ADMISSION", unit="sz_k", gender="1")
    sz_person = admit("sz_k", search=search_step(sz_officer))

    def clock(person: Any) -> Deadline:
        return Deadline.objects.get(detainee=person, clock="CRIMINAL_DETENTION")

    before_gz, before_sz = clock(gz_person), clock(sz_person)
    assert before_gz.pack_version == "2026.1"
    text = _variant(
        "deadlines",
        "gz-2d",
        (
            "      - key: POLICE\n        term: {days: 3}",
            "      - key: POLICE\n        term: {days: 2}",
        ),
    )
    _publish("deadlines", text, "440100")
    assert clock(gz_person).expires_at == before_gz.expires_at  # not yet delivered
    deliver()
    after_gz, after_sz = clock(gz_person), clock(sz_person)
    assert after_gz.pack_version == "gz-2d"
    assert after_gz.expires_at is not None
    assert before_gz.expires_at is not None
    assert (before_gz.expires_at - after_gz.expires_at).days == 1
    assert (after_sz.pack_version, after_sz.expires_at) == ("2026.1", before_sz.expires_at)


def test_shadow_deadline_pack_recomputes_nothing(admit):
    person = admit()
    before = Deadline.objects.get(detainee=person, clock="CRIMINAL_DETENTION")
    text = _variant(
        "deadlines",
        "gz-try",
        (
            "      - key: POLICE\n        term: {days: 3}",
            "      - key: POLICE\n        term: {days: 2}",
        ),
    )
    _publish("deadlines", text, "440100", shadow=True)
    deliver()
    after = Deadline.objects.get(detainee=person, clock="CRIMINAL_DETENTION")
    assert (after.pack_version, after.expires_at) == ("2026.1", before.expires_at)
