from django.urls import path

import jianguan.web.views_risk as views_risk
import jianguan.web.views_risk_person as views_risk_person
from jianguan.web import (
    views,
    views_admission,
    views_assessment,
    views_command,
    views_duty,
    views_live,
    views_oversight,
    views_placement,
    views_record,
    views_rules,
)
from jianguan.web.views_risk_measures import compliance_view as risk_compliance_view

# --- devices: h2 ---
from jianguan.web import views_patrol  # isort: skip

# --- end ---
# --- devices: h3 ---
from jianguan.web import views_prevention

# --- end ---
# --- devices: h4 ---
from jianguan.web import views_devices  # isort: skip

# --- end ---

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/totp/", views.login_totp_view, name="login_totp"),
    path("logout/", views.logout_view, name="logout"),
    path("activity/", views.activity_feed, name="activity"),
    path("detainees/", views.detainee_list, name="detainees"),
    path("detainees/<str:detainee_id>/", views_record.detainee_detail, name="detainee"),
    path("detainees/<str:detainee_id>/photo/", views_record.detainee_photo, name="detainee_photo"),
    path("detainees/<str:detainee_id>/placement/", views_placement.placement, name="placement"),
    path("detainees/<str:detainee_id>/legal/", views_record.legal_event_add, name="legal_add"),
    path("detainees/<str:detainee_id>/movements/", views_record.movement_add, name="movement_add"),
    path(
        "detainees/<str:detainee_id>/interrogations/",
        views_record.interrogation_add,
        name="interrogation_add",
    ),
    path(
        "interrogations/<str:interrogation_id>/end/",
        views_record.interrogation_finish,
        name="interrogation_end",
    ),
    path("admissions/", views_admission.admission_list, name="admissions"),
    path("admissions/start/", views_admission.admission_begin, name="admission_start"),
    path(
        "admissions/<str:admission_id>/review/",
        views_admission.admission_review,
        name="admission_review",
    ),
    path(
        "admissions/<str:admission_id>/complete/",
        views_admission.admission_confirm,
        name="admission_complete",
    ),
    path(
        "admissions/<str:admission_id>/refuse/",
        views_admission.admission_reject,
        name="admission_refuse",
    ),
    path(
        "admissions/<str:admission_id>/files/<str:file_id>/",
        views_admission.admission_file,
        name="admission_file",
    ),
    path(
        "admissions/<str:admission_id>/<str:step>/",
        views_admission.admission_step,
        name="admission_step",
    ),
    path("deadlines/", views_oversight.deadline_board_view, name="deadlines"),
    path("roll/", views_oversight.roll_view, name="roll"),
    path("notices/", views_oversight.notice_list, name="notices"),
    path("notices/<str:notice_id>/print/", views_oversight.notice_print, name="notice_print"),
    path(
        "notices/<str:notice_id>/handle/", views_oversight.notice_handle_view, name="notice_handle"
    ),
    path("overrides/", views_oversight.override_list, name="overrides"),
    path(
        "overrides/<str:override_id>/review/",
        views_oversight.override_decide,
        name="override_review",
    ),
    path("live/events/", views_live.live_events, name="live_events"),
    path("duty/", views_duty.mine, name="duty"),
    path("duty/mine/", views_duty.mine_panel, name="duty_mine_panel"),
    path("duty/record/", views_duty.record, name="duty_record"),
    path("duty/record/recent/", views_duty.record_recent, name="duty_record_recent"),
    path("duty/board/", views_duty.board, name="duty_board"),
    path("duty/board/panel/", views_duty.board_panel, name="duty_board_panel"),
    path("duty/roster/", views_duty.roster, name="duty_roster"),
    path("duty/tasks/<str:task_id>/", views_duty.task_detail, name="duty_task"),
    path("duty/tasks/<str:task_id>/panel/", views_duty.task_panel, name="duty_task_panel"),
    path("duty/tasks/<str:task_id>/<str:action>/", views_duty.task_act, name="duty_task_act"),
    path("duty/steps/<str:step_id>/photo/", views_duty.step_photo, name="duty_step_photo"),
    path("assessment/", views_assessment.assessment_view, name="assessment"),
    path("assessment/monthly/", views_assessment.assessment_monthly, name="assessment_monthly"),
    path("assessment/ledger.xlsx", views_assessment.assessment_ledger, name="assessment_ledger"),
    path("command/", views_command.command_screen, name="command"),
    path("command/panels/<str:panel>/", views_command.command_panel, name="command_panel"),
    path("rules/duty/", views_rules.duty_catalogue, name="rules_duty"),
    path("risk/", views_risk.overview, name="risk"),
    path("risk/panel/", views_risk.overview_panel, name="risk_panel"),
    path("risk/board/", views_risk.board, name="risk_board"),
    path("risk/board/panel/", views_risk.board_panel, name="risk_board_panel"),
    path("risk/cells/<str:cell_id>/", views_risk.cell_detail, name="risk_cell"),
    path("risk/cells/<str:cell_id>/panel/", views_risk.cell_panel, name="risk_cell_panel"),
    path("risk/people/<str:detainee_id>/", views_risk_person.person, name="risk_person"),
    path(
        "risk/people/<str:detainee_id>/panel/",
        views_risk_person.person_panel,
        name="risk_person_panel",
    ),
    path(
        "risk/people/<str:detainee_id>/facts/",
        views_risk_person.fact_add,
        name="risk_fact_add",
    ),
    path(
        "risk/people/<str:detainee_id>/override/",
        views_risk_person.override_add,
        name="risk_override_add",
    ),
    path(
        "risk/people/<str:detainee_id>/override/review/",
        views_risk_person.override_decide,
        name="risk_override_review",
    ),
    path("risk/compliance/", risk_compliance_view, name="risk_compliance"),
    # --- devices: h2 ---
    path("patrol/", views_patrol.board, name="patrol"),
    path("patrol/panel/", views_patrol.board_panel, name="patrol_panel"),
    path("patrol/cells/<str:cell_id>/checkin/", views_patrol.check_in, name="patrol_check_in"),
    path("patrol/lapses/", views_patrol.lapses, name="patrol_lapses"),
    path("patrol/lapses/panel/", views_patrol.lapses_panel, name="patrol_lapses_panel"),
    path(
        "patrol/lapses/<str:lapse_id>/reason/",
        views_patrol.lapse_reason,
        name="patrol_lapse_reason",
    ),
    path("patrol/duty/", views_patrol.duty, name="patrol_duty"),
    path("patrol/duty/panel/", views_patrol.duty_panel, name="patrol_duty_panel"),
    path("patrol/duty/<str:cell_id>/", views_patrol.duty_edit, name="patrol_duty_edit"),
    # --- end ---
    # --- devices: h3 ---
    path("prevention/talks/", views_prevention.talks, name="prevention_talks"),
    path(
        "prevention/talks/<uuid:id>/",
        views_prevention.talk_person,
        name="prevention_talk_person",
    ),
    path("prevention/exits/", views_prevention.exits, name="prevention_exits"),
    path("prevention/outings/", views_prevention.outings, name="prevention_outings"),
    # --- end ---
    # --- devices: h4 ---
    path("devices/", views_devices.registry, name="devices"),
    path("devices/alerts/", views_devices.alerts, name="device_alerts"),
    path("devices/alerts/panel/", views_devices.alerts_panel, name="device_alerts_panel"),
    path("devices/rejected/", views_devices.rejected, name="devices_rejected"),
    path("devices/<str:device_id>/rotate/", views_devices.device_rotate, name="device_rotate"),
    path("devices/<str:device_id>/status/", views_devices.device_status, name="device_status"),
    # --- end ---
    path("units/", views.units, name="units"),
    path("audit/", views.audit_log, name="audit"),
]
