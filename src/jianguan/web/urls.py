from django.urls import path

from jianguan.web import views, views_custody

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/totp/", views.login_totp_view, name="login_totp"),
    path("logout/", views.logout_view, name="logout"),
    path("activity/", views.activity_feed, name="activity"),
    path("detainees/", views.detainee_list, name="detainees"),
    path("detainees/<str:detainee_id>/", views_custody.detainee_detail, name="detainee"),
    path("detainees/<str:detainee_id>/photo/", views_custody.detainee_photo, name="detainee_photo"),
    path("detainees/<str:detainee_id>/placement/", views_custody.placement, name="placement"),
    path("detainees/<str:detainee_id>/legal/", views_custody.legal_event_add, name="legal_add"),
    path("detainees/<str:detainee_id>/movements/", views_custody.movement_add, name="movement_add"),
    path(
        "detainees/<str:detainee_id>/interrogations/",
        views_custody.interrogation_add,
        name="interrogation_add",
    ),
    path(
        "interrogations/<str:interrogation_id>/end/",
        views_custody.interrogation_finish,
        name="interrogation_end",
    ),
    path("admissions/", views_custody.admission_list, name="admissions"),
    path("admissions/start/", views_custody.admission_begin, name="admission_start"),
    path(
        "admissions/<str:admission_id>/review/",
        views_custody.admission_review,
        name="admission_review",
    ),
    path(
        "admissions/<str:admission_id>/complete/",
        views_custody.admission_confirm,
        name="admission_complete",
    ),
    path(
        "admissions/<str:admission_id>/refuse/",
        views_custody.admission_reject,
        name="admission_refuse",
    ),
    path(
        "admissions/<str:admission_id>/files/<str:file_id>/",
        views_custody.admission_file,
        name="admission_file",
    ),
    path(
        "admissions/<str:admission_id>/<str:step>/",
        views_custody.admission_step,
        name="admission_step",
    ),
    path("deadlines/", views_custody.deadline_board_view, name="deadlines"),
    path("roll/", views_custody.roll_view, name="roll"),
    path("notices/", views_custody.notice_list, name="notices"),
    path("notices/<str:notice_id>/print/", views_custody.notice_print, name="notice_print"),
    path("notices/<str:notice_id>/handle/", views_custody.notice_handle_view, name="notice_handle"),
    path("overrides/", views_custody.override_list, name="overrides"),
    path(
        "overrides/<str:override_id>/review/",
        views_custody.override_decide,
        name="override_review",
    ),
    path("units/", views.units, name="units"),
    path("audit/", views.audit_log, name="audit"),
]
