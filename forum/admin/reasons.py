"""The intermediate page every moderation action goes through to ask for its reason."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin import ActionLocation
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

EVERYWHERE = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]
REASON_PAGE = "admin/forum/action_reason.html"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Recorded in the moderation log with your name."),
    )

    def __init__(self, *args, reason_required: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required


def reason_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    form: forms.Form,
) -> TemplateResponse:
    """Ask for the reason, then post the same action back to the page it came from."""
    change_form_field = f"{ActionLocation.CHANGE_FORM.value}-action"
    objects = list(queryset)
    return TemplateResponse(
        request,
        REASON_PAGE,
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "opts": modeladmin.opts,
            "objects": objects[:100],
            "count": len(objects),
            "pks": [obj.pk for obj in objects],
            "form": form,
            "action": action,
            "action_field": change_form_field if change_form_field in request.POST else "action",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "back_url": request.get_full_path(),
        },
    )


def confirmed(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    form_class: type[ReasonForm] = ReasonForm,
    reason_required: bool = False,
) -> ReasonForm | TemplateResponse:
    """The valid form once the moderator has confirmed, else the page that asks."""
    if request.POST.get("post") == "yes":
        form = form_class(request.POST, reason_required=reason_required)
        if form.is_valid():
            return form
    else:
        form = form_class(reason_required=reason_required)
    return reason_page(modeladmin, request, queryset, action=action, title=title, form=form)
