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


# The database setup README.md recommends for production: byte-order collation (text
# b-trees compare with memcmp, not strcoll), Unicode character classes (upper/lower).
RECOMMENDED_LOCALE = "LC_COLLATE 'C' LC_CTYPE 'C.UTF-8' TEMPLATE template0"


def prepare_database(url: str, tmp: Path, name: str, *, locale: str = "") -> tuple[str, str]:
    """Return (DATABASE_URL for the run, vendor); PostgreSQL gets a fresh database `name`,
    created with `locale` options (e.g. RECOMMENDED_LOCALE; "" = the server's default)."""
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name} {locale}".strip())
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path=f"/{name}")), "postgresql"
    return f"sqlite:///{tmp / 'bench.sqlite3'}", "sqlite"


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def setup_django(url: str, name: str, *, locale: str = "") -> tuple[str, Path]:
    """Prepare the database, point Django at it and call django.setup(); returns
    (vendor, temporary directory)."""
    tmp = Path(tempfile.mkdtemp(prefix="terpadu-bench-"))
    run_url, vendor = prepare_database(url, tmp, name, locale=locale)
    os.environ["DATABASE_URL"] = run_url
    os.environ["TERPADU_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return vendor, tmp
