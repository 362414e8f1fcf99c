"""Login, own profile/password, and account management for admins (thin views, style.md §4)."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from terpadu.accounts import services
from terpadu.accounts.access import (
    ROLE_ACTIONS,
    Action,
    can_edit_user,
    role_allows,
    users_in_scope,
)
from terpadu.accounts.forms import LoginForm, UserCreateForm, UserForm, UserSearchForm
from terpadu.accounts.models import User, UserEvent
from terpadu.regions.models import Region, to_digits

CODE_QUERY = re.compile(r"[\d.]+")


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form: Form) -> HttpResponse:
        response = super().form_valid(form)
        services.record_own_password_change(user=self.request.user)  # type: ignore[arg-type]
        return response


def _region_chain(region: Region | None) -> list[Region]:
    """The region and its ancestors, top first (at most 4 queries; the tree is 4 deep)."""
    chain: list[Region] = []
    while region is not None:
        chain.append(region)
        region = region.parent
    return chain[::-1]


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.is_superuser:
        actions = list(Action)
    else:
        actions = [a for a in Action if a in ROLE_ACTIONS.get(user.role, frozenset())]
    context = {
        "region_chain": _region_chain(user.region),
        "actions": actions,
        "events": user.events.select_related("actor")[:10],
    }
    return render(request, "accounts/profile.html", context)


def _require_manager(request: HttpRequest) -> User:
    """The acting admin; everyone else gets 403 (the page's existence is no secret)."""
    if not role_allows(request.user, Action.MANAGE_USERS):
        raise PermissionDenied
    return request.user  # type: ignore[return-value]


def _user_for_manager(actor: User, pk: int) -> User:
    """An account the actor may see; outside its scope answers 404 (access.py convention)."""
    return get_object_or_404(users_in_scope(actor).select_related("region", "created_by"), pk=pk)


def _filter_users(actor: User, form: UserSearchForm) -> QuerySet[User]:
    qs = users_in_scope(actor).select_related("region")
    if not form.is_valid():
        return qs.order_by("username")
    q = form.cleaned_data["q"].strip()
    if q:
        cond = Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
        cond |= Q(region__name__icontains=q)
        if CODE_QUERY.fullmatch(q):
            # A typed region code (13.71.01) finds everyone bound inside that subtree.
            cond |= Q(scope__startswith=to_digits(q))
        qs = qs.filter(cond)
    if form.cleaned_data["role"]:
        qs = qs.filter(role=form.cleaned_data["role"])
    if form.cleaned_data["status"]:
        qs = qs.filter(is_active=form.cleaned_data["status"] == "active")
    return qs.order_by("scope", "username")


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    actor = _require_manager(request)
    form = UserSearchForm(request.GET)
    paginator = Paginator(_filter_users(actor, form), settings.TERPADU_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "accounts/user_list.html", context)


def _apply_errors(form: Form, exc: ValidationError) -> None:
    """Put a service error next to the field it concerns (role/region) or on top."""
    field = {"region_level": "region", "username_taken": "username"}.get(exc.code or "")
    form.add_error(field if field in form.fields else None, exc)


def _show_password(request: HttpRequest, user: User, password: str, *, new: bool) -> HttpResponse:
    # Rendered straight from the POST, never stored: the password is shown exactly once.
    response = render(
        request, "accounts/user_password.html", {"account": user, "password": password, "new": new}
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    actor = _require_manager(request)
    form = UserCreateForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, password = services.create_user(
                by=actor,
                username=data["username"],
                role=data["role"],
                region=data["region"],
                full_name=data["full_name"],
                email=data["email"],
                phone=data["phone"],
                psks_number=data["psks_number"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _show_password(request, user, password, new=True)
    return render(request, "accounts/user_form.html", {"form": form, "account": None})


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _require_manager(request)
    account = _user_for_manager(actor, pk)
    events = UserEvent.objects.filter(user=account).select_related("actor")[:50]
    context = {
        "account": account,
        "events": events,
        "can_edit": can_edit_user(actor, account),
        "region_chain": _region_chain(account.region),
    }
    return render(request, "accounts/user_detail.html", context)


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _require_manager(request)
    account = _user_for_manager(actor, pk)
    if not can_edit_user(actor, account):
        raise PermissionDenied
    initial = {
        "full_name": account.get_full_name(),
        "email": account.email,
        "phone": account.phone,
        "role": account.role,
        "region": account.region.code if account.region else "",
        "psks_number": account.psks_number,
    }
    form = UserForm(request.POST or None, actor=actor, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(by=actor, user=account, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Perubahan akun disimpan."))
            return redirect("accounts:user_detail", pk=account.pk)
    return render(request, "accounts/user_form.html", {"form": form, "account": account})


@require_POST
@login_required
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _require_manager(request)
    account = _user_for_manager(actor, pk)
    active = request.POST.get("active") == "1"
    try:
        services.set_user_active(
            by=actor, user=account, active=active, note=request.POST.get("note", "")[:255]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Akun diaktifkan kembali.") if active else _("Akun dinonaktifkan.")
        )
    return redirect("accounts:user_detail", pk=account.pk)


@never_cache
@require_POST
@login_required
def user_reset_password(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _require_manager(request)
    account = _user_for_manager(actor, pk)
    try:
        password = services.reset_password(by=actor, user=account)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:user_detail", pk=account.pk)
    return _show_password(request, account, password, new=False)
