"""The inbox: what waits for the signed-in user, per role, with the month's deadlines and
unread notifications. The home page shows the same panel (templatetags/proposals_inbox)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from terpadu.core.htmx import render_page
from terpadu.proposals import dashboards
from terpadu.proposals.models import Status

# Where each waiting status is worked on (URL name, query string).
QUEUE_FOR: dict[str, tuple[str, str]] = {
    Status.DIPERIKSA_DINSOS: ("proposals:review_queue", ""),
    Status.DIKEMBALIKAN_KE_KABKOTA: ("proposals:review_queue", "?tab=dikembalikan"),
    Status.FINAL_KABKOTA: ("proposals:batch_new", ""),
    Status.DISAHKAN: ("proposals:batch_list", f"?status={Status.DISAHKAN}"),
    Status.DIKIRIM_PROVINSI: ("proposals:province_home", ""),
    Status.DIKIRIM_PUSAT: ("proposals:pusat_home", ""),
    Status.PROSES_PUSAT: ("proposals:pusat_home", ""),
    Status.MENUNGGU_MUSDES: ("proposals:musdes_list", ""),
    Status.DISEPAKATI: ("proposals:verivali_assign", ""),
    Status.VERIVALI: ("proposals:verivali_qc", ""),
    Status.DRAFT: ("proposals:list", f"?status={Status.DRAFT}"),
}


def queue_link(status: str) -> str:
    """The page where items in `status` are worked on; the proposal list as a fallback."""
    name, query = QUEUE_FOR.get(status, ("proposals:list", f"?status={status}"))
    try:
        return reverse(name) + query
    except NoReverseMatch:
        return f"/usulan/?status={status}"


def inbox_context(user: Any) -> dict[str, Any]:
    box = dashboards.inbox_for(user)
    return {
        "box": box,
        "waiting": [(s, label, n, queue_link(s)) for s, label, n in box.waiting],
        "assignments_link": reverse("proposals:verivali_tasks"),
    }


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    return render_page(
        request,
        "proposals/inbox/inbox.html",
        "proposals/inbox/_inbox.html",
        inbox_context(request.user),
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``id``) or all of the user's unread ones as read."""
    unread = request.user.notifications.filter(read_at__isnull=True)
    pk = request.POST.get("id", "")
    if pk.isdigit():
        unread = unread.filter(pk=int(pk))
    unread.update(read_at=timezone.now())
    return redirect("proposals:inbox")


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link and mark it read on the way (own notifications only)."""
    notification = get_object_or_404(request.user.notifications, pk=pk)
    if notification.read_at is None:
        request.user.notifications.filter(pk=pk).update(read_at=timezone.now())
    # Links are written by our own code; still, only ever follow a local path.
    link = notification.link
    if not link.startswith("/") or link.startswith("//"):
        link = reverse("proposals:inbox")
    return redirect(link)


urlpatterns: list[URLPattern] = [
    path("kotak-masuk/", inbox, name="inbox"),
    path("kotak-masuk/dibaca/", notifications_read, name="notifications_read"),
    path("kotak-masuk/notifikasi/<int:pk>/", notification_open, name="notification_open"),
]
