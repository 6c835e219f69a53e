from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from jianguan.api_site import api

admin.site.site_header = "jianguan 智慧监管平台 · 系统管理"
admin.site.site_title = "系统管理"
admin.site.index_title = "单位、用户、岗位与代码表"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("jianguan.web.urls")),
]
