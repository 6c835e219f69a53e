from django.urls import path

from jianguan.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/totp/", views.login_totp_view, name="login_totp"),
    path("logout/", views.logout_view, name="logout"),
    path("activity/", views.activity_feed, name="activity"),
    path("detainees/", views.detainee_list, name="detainees"),
    path("detainees/<str:detainee_id>/", views.detainee_detail, name="detainee"),
    path("units/", views.units, name="units"),
    path("audit/", views.audit_log, name="audit"),
]
