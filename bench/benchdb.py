"""What every benchmark script does first: a throw-away database and Django set up on it.

PostgreSQL: a dedicated database (named per script) is created next to the one in the URL
and dropped afterwards. SQLite: a file in a temporary directory.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def prepare_database(url: str, tmp: Path, name: str) -> tuple[str, str]:
    """Return (DATABASE_URL for the run, vendor); PostgreSQL gets a fresh database `name`."""
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path=f"/{name}")), "postgresql"
    return f"sqlite:///{tmp / 'bench.sqlite3'}", "sqlite"


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def setup_django(url: str, name: str) -> tuple[str, Path]:
    """Prepare the database, point Django at it and call django.setup(); returns
    (vendor, temporary directory)."""
    tmp = Path(tempfile.mkdtemp(prefix="terpadu-bench-"))
    run_url, vendor = prepare_database(url, tmp, name)
    os.environ["DATABASE_URL"] = run_url
    os.environ["TERPADU_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return vendor, tmp
