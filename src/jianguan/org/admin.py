"""Administration of units, users and posts; every save goes through the org services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpRequest

from jianguan.core.errors import DomainError
from jianguan.core.http import client_address
from jianguan.org.api import (
    actor_for,
    post_update,
    unit_check_new,
    unit_create,
    unit_update,
    user_record_admin_change,
)
from jianguan.org.models import Post, Unit, User
from jianguan.org.permissions import Perm


def _actor(request: HttpRequest) -> Any:
    return actor_for(request.user, address=client_address(request))  # type: ignore[arg-type]


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["code", "name", "level", "facility_kind", "region_code", "parent", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance._state.adding:  # the UUIDv7 pk exists before the first save
            try:
                unit_check_new(
                    code=data.get("code", ""),
                    name=data.get("name", ""),
                    level=data.get("level", ""),
                    region_code=data.get("region_code", ""),
                    parent=data.get("parent"),
                    facility_kind=data.get("facility_kind", ""),
                )
            except DomainError as exc:
                raise forms.ValidationError({exc.field or "__all__": exc.message}) from None
        return data


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    form = UnitForm
    list_display = ["code", "name", "level", "facility_kind", "region_code", "parent", "is_active"]
    list_filter = ["level", "facility_kind", "is_active"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A unit's code and place in the tree are fixed once created.
        return ["code", "level", "facility_kind", "region_code", "parent"] if obj else []

    def save_model(self, request: HttpRequest, obj: Unit, form: Any, change: bool) -> None:
        if change:
            unit_update(actor=_actor(request), unit=obj, name=obj.name, is_active=obj.is_active)
        else:
            created = unit_create(
                actor=_actor(request),
                code=obj.code,
                name=obj.name,
                level=obj.level,
                region_code=obj.region_code,
                parent=obj.parent,
                facility_kind=obj.facility_kind,
            )
            obj.pk, obj.path = created.pk, created.path

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: records keep pointing at the unit


class PostForm(forms.ModelForm):
    permissions = forms.MultipleChoiceField(
        label="权限", choices=Perm.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Post
        fields = ["name", "permissions"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    form = PostForm
    list_display = ["kind", "name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the posts are fixed by the platform; their permissions are editable

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Post, form: Any, change: bool) -> None:
        obj.save(update_fields=["name"])
        post_update(actor=_actor(request), post=obj, permissions=form.cleaned_data["permissions"])


def _require_posts(form: forms.ModelForm) -> None:
    data = form.cleaned_data
    if not data.get("is_superuser") and "posts" in data and not data["posts"]:
        form.add_error("posts", "用户必须至少担任一个岗位")


class UserAddForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]
        model = User
        fields = ("username",)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _require_posts(self)
        return data


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):  # type: ignore[name-defined]
        model = User
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        _require_posts(self)
        return data


class JianguanUserAdmin(UserAdmin):
    add_form = UserAddForm
    form = UserEditForm
    list_display = ["username", "full_name", "unit", "police_number", "is_active"]
    list_filter = ["is_active", "posts", "unit__level"]
    search_fields = ["username", "full_name", "police_number"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("人员信息", {"fields": ("full_name", "police_number", "unit", "posts")}),
        ("状态", {"fields": ("is_active", "is_staff", "is_superuser", "last_login")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "fields": (
                    "username",
                    "password1",
                    "password2",
                    "full_name",
                    "police_number",
                    "unit",
                    "posts",
                )
            },
        ),
    )
    readonly_fields = ["last_login"]
    filter_horizontal = ["posts"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # The form already requires a post; a DomainError here rolls the whole save back.
        user_record_admin_change(actor=_actor(request), user=form.instance, created=not change)


admin.site.register(User, JianguanUserAdmin)
