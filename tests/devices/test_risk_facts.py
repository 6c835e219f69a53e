"""Device alerts feed the risk model: a behaviour alert about a person is a fact `device.<TYPE>`
that raises their score; one the officer marks as a false alarm is taken back."""

from __future__ import annotations

import pytest

from tests.devices.conftest import T0

pytestmark = pytest.mark.django_db


def _score(detainee):
    from jianguan.risk.api import RiskScore

    return RiskScore.objects.get(detainee=detainee, track="LIVE").score


def test_a_behaviour_alert_is_a_fact_and_a_false_alarm_takes_it_back(
    register, message, held, staff
):
    from jianguan.devices.api import Alert, ingest
    from jianguan.duty.api import Task, task_accept, task_handle
    from jianguan.outbox.api import deliver
    from jianguan.risk.api import RiskFact, rescore_person

    rescore_person(held.id, cause="开始")
    before = _score(held)
    band = register("BAND-1", "WEARABLE", detainee=held)
    ingest([message(band, "REMOVED")], now=T0)
    deliver()
    fact = RiskFact.objects.get(detainee=held)
    assert fact.kind == "device.REMOVED"
    assert fact.label == "设备告警：手环被摘除"
    assert _score(held) > before

    task = Task.objects.get(id=Alert.objects.get().task_id)
    task = task_accept(user=staff["patrol"], task=task)
    task_handle(
        user=staff["patrol"], task=task, feedback="手环松脱，已重新佩戴", outcome="FALSE_ALARM"
    )
    deliver()
    assert not RiskFact.objects.filter(detainee=held).exists()
    assert _score(held) == before


def test_a_cell_camera_alert_is_a_cell_fact_and_maintenance_alerts_are_not_facts(
    register, message, cells
):
    from jianguan.devices.api import ingest, silent_check
    from jianguan.outbox.api import deliver
    from jianguan.risk.api import RiskFact

    camera = register("CAM-101", cell=cells["101"])
    ingest([message(camera, "CLIMB")], now=T0)
    silent_check(now=T0.replace(hour=23))
    deliver()
    fact = RiskFact.objects.get()
    assert (fact.kind, fact.cell_id, fact.detainee_id) == ("device.CLIMB", cells["101"].id, None)
