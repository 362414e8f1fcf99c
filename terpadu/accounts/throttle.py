"""Login lockout: after 5 failed logins for one username from one IP within 15 minutes, that
pair is refused until the window has passed (domain.md §3.9: credential abuse is a known vector).

Why our own table and not django-axes: the rule is small, it needs no settings changes or
middleware, it behaves the same on SQLite and PostgreSQL, and it keeps the attempts next to
the other account audit rows. Keying on username + IP means an attacker elsewhere cannot lock
a real operator out of their own office PC, while guessing one account stays capped at
5 tries per 15 minutes per address. A successful login resets the count.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Max
from django.utils import timezone

from terpadu.accounts.models import LoginAttempt

MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)


def _normalise(username: str) -> str:
    # Usernames are matched case-insensitively here so "Admin" and "admin" share one counter.
    return username.strip().lower()[:150]


def _recent_failures(username: str, ip: str | None) -> list[dt.datetime]:
    """Times of failures since the window opened and since the last success, newest first."""
    since = timezone.now() - WINDOW
    attempts = LoginAttempt.objects.filter(username=_normalise(username), ip=ip, at__gte=since)
    last_ok = attempts.filter(succeeded=True).aggregate(last=Max("at"))["last"]
    failures = attempts.filter(succeeded=False)
    if last_ok:
        failures = failures.filter(at__gt=last_ok)
    return list(failures.order_by("-at").values_list("at", flat=True)[:MAX_FAILURES])


def locked_for(username: str, ip: str | None) -> dt.timedelta | None:
    """How long this username + IP stays locked, or None when a login may be tried."""
    failures = _recent_failures(username, ip)
    if len(failures) < MAX_FAILURES:
        return None
    # The lock lifts when the oldest of the last MAX_FAILURES failures leaves the window.
    return max(failures[-1] + WINDOW - timezone.now(), dt.timedelta(seconds=1))


def record_attempt(username: str, ip: str | None, *, succeeded: bool) -> None:
    """Remember one login attempt (the password itself is never stored)."""
    LoginAttempt.objects.create(username=_normalise(username), ip=ip, succeeded=succeeded)
