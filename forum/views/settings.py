"""The member's settings page: their profile and avatar, their language and how notifications
reach them."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from forum import profiles, services
from forum.avatars import avatar_remove, avatar_set
from forum.models import Member
from forum.notifications.member_settings import member_settings_save
from forum.notifications.preferences import Delivery, Kind, deliveries
from forum.views.common import member_required
from forum.views.language import language_cookie_set


class SettingsForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"), required=False, max_length=profiles.DISPLAY_NAME_MAX_LENGTH
    )
    # The length is checked by profile_save, on the text with its line breaks made one
    # character each (a browser sends two).
    bio = forms.CharField(
        label=_("Bio"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": profiles.BIO_MAX_LENGTH}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in Kind.choices:
            self.fields[kind] = forms.ChoiceField(label=label, choices=Delivery.choices)

    def delivery_fields(self) -> list[forms.BoundField]:
        return [self[kind] for kind in Kind.values]


@require_http_methods(["GET", "POST"])
@member_required
def settings_page(request: HttpRequest) -> HttpResponse:
    member = services.member_for(request.user)
    if request.method == "GET":
        form = SettingsForm(initial=_initial(member))
        return render(request, "forum/settings.html", {"form": form})
    form = SettingsForm(request.POST)
    if form.is_valid():
        language = form.cleaned_data["language"]
        try:
            # The profile first: a name refused there leaves everything as it was.
            profiles.profile_save(
                member=member,
                display_name=form.cleaned_data["display_name"],
                bio=form.cleaned_data["bio"],
            )
            member_settings_save(
                member=member,
                language=language,
                deliveries={kind: form.cleaned_data[kind] for kind in Kind.values},
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _saved(request, language)
    return render(request, "forum/settings.html", {"form": form}, status=400)


def profile_initial(member: Member) -> dict[str, str]:
    """The profile fields as the form shows them: a display name that is the user name shows
    blank (the field's placeholder says so)."""
    same = member.user_id is not None and member.display_name == member.user.get_username()
    return {"display_name": "" if same else member.display_name, "bio": member.bio}


def _initial(member: Member) -> dict:
    return {
        **profile_initial(member),
        "language": member.language or translation.get_language(),
        **deliveries(member),
    }


class AvatarForm(forms.Form):
    avatar = forms.FileField(label=_("New avatar"))


@require_POST
@member_required
def avatar_upload(request: HttpRequest) -> HttpResponse:
    """The avatar has its own form (a file upload), beside the settings' one."""
    member = services.member_for(request.user)
    avatar_form = AvatarForm(request.POST, request.FILES)
    if avatar_form.is_valid():
        try:
            avatar_set(member=member, upload=avatar_form.cleaned_data["avatar"])
        except ValidationError as error:
            avatar_form.add_error("avatar", error)
        else:
            messages.success(request, _("Your avatar was saved."))
            return redirect("forum:settings")
    context = {"form": SettingsForm(initial=_initial(member)), "avatar_form": avatar_form}
    return render(request, "forum/settings.html", context, status=400)


@require_POST
@member_required
def avatar_delete(request: HttpRequest) -> HttpResponse:
    avatar_remove(member=services.member_for(request.user))
    messages.success(request, _("Your avatar was removed."))
    return redirect("forum:settings")


def _saved(request: HttpRequest, language: str) -> HttpResponse:
    """Post/Redirect/Get, in the language just chosen, which the cookie keeps for the pages."""
    translation.activate(language)
    messages.success(request, _("Your settings were saved."))
    response = redirect("forum:settings")
    language_cookie_set(response, language)
    return response
