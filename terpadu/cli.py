"""`terpadu` console script: `terpadu demo --region 13.71` == `manage.py demo --region 13.71`."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["terpadu", *sys.argv[1:]])
