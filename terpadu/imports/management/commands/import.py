"""``terpadu import FILE --region CODE [--dry-run] [--mode proposal|direct] [--user NAME]
[--template NAME] [--quarantine]``: the same engine as the imports pages, in the foreground.

Prints progress per batch and the rule summary; exits non-zero when the file is refused
(errors without --quarantine, duplicate, scope) or the apply fails.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from terpadu.imports import services
from terpadu.imports.models import ImportJob, JobStatus, Mode
from terpadu.regions.models import Region, to_digits


class Command(BaseCommand):
    help = "Impor berkas registri (xlsx/xls/csv): uji coba lalu terapkan."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--region", required=True, help="kode wilayah (mis. 13.71)")
        parser.add_argument("--dry-run", action="store_true", help="hanya periksa")
        parser.add_argument("--mode", choices=Mode.values, default=Mode.PROPOSAL)
        parser.add_argument("--user", default="", help="nama pengguna pelaku (default: superuser)")
        parser.add_argument("--template", default="", help="nama templat pemetaan")
        parser.add_argument("--quarantine", action="store_true", help="terapkan baris valid saja")
        parser.add_argument("--batch-size", type=int, default=50_000)

    def handle(self, *args: Any, **opts: Any) -> None:
        translation.activate("id")
        path: Path = opts["file"]
        if not path.exists():
            raise CommandError(f"Berkas tidak ada: {path}")
        region = Region.objects.current().filter(digits=to_digits(opts["region"])).first()
        if region is None:
            raise CommandError(f"Wilayah tidak dikenal: {opts['region']}")
        user = self._user(opts["user"])
        started = time.monotonic()
        try:
            with open(path, "rb") as fh:
                job = services.create_job(
                    by=user, fileobj=fh, original_name=path.name, region=region, mode=opts["mode"]
                )
            if job.status == JobStatus.DUPLICATE:
                self._fail(f"Berkas sama sudah diterapkan (impor #{job.duplicate_of_id}).")
            mapping = dict(job.mapping)
            if opts["template"]:
                # The templates the pages would offer this user for this region, no others.
                usable = services.templates_for(user, region)
                template = usable.filter(name=opts["template"]).first()
                if template is None:
                    raise CommandError(
                        f"Templat tidak ada atau di luar wilayah Anda: {opts['template']} "
                        f"(template unknown or outside your region)"
                    )
                mapping = services.apply_template(job, template).mapping
            self.stdout.write(f"Impor #{job.pk}: {path.name} ({job.fmt}, {job.size:,} byte)")
            for header, key in mapping.items():
                self.stdout.write(f"  {header!r:32} → {key or '-'}")
            services.save_mapping(job, mapping, by=user)
            services.start_validation(job, by=user, enqueue=False)
            job = services.validate(
                job, batch_size=opts["batch_size"], on_progress=self._progress(job, started)
            )
            self._report(job)
            if job.status != JobStatus.VALIDATED:
                self._fail(job.error or job.status)
            if opts["dry_run"]:
                self.stdout.write(self._rate(job.rows_total, started))
                sys.exit(1 if job.rows_invalid else 0)
            services.start_apply(job, by=user, quarantine=opts["quarantine"], enqueue=False)
            job = services.apply(
                job, batch_size=opts["batch_size"], on_progress=self._progress(job, started)
            )
        except services.ImportRefused as exc:
            self._fail("; ".join(i.message_id for i in exc.issues))
        except PermissionDenied:
            self._fail("Tidak berwenang mengimpor ke wilayah ini.")
        if job.status != JobStatus.APPLIED:
            self._fail(job.error or f"status {job.status}")
        self.stdout.write(
            f"Diterapkan: {job.rows_applied:,} baris, ruta baru {job.households_new:,}, "
            f"individu diperbarui {job.persons_updated:,}, usulan {job.proposals_created:,}, "
            f"karantina {job.rows_quarantined:,}; changeset {job.changeset_id or '-'}"
        )
        self.stdout.write(self._rate(job.rows_total, started))

    def _progress(self, job: ImportJob, started: float) -> Any:
        phases = {"validating": "diperiksa", "applying": "diterapkan"}

        def show(phase: str, rows: int) -> None:
            total = f"/{job.rows_total:,}" if job.rows_total else ""
            self.stdout.write(
                f"  … {rows:,}{total} baris {phases.get(phase, phase)} "
                f"({time.monotonic() - started:.1f} s)"
            )

        return show

    def _user(self, username: str) -> Any:
        from terpadu.accounts.models import User

        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"Pengguna tidak ada: {username}")
            return user
        user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("Tidak ada superuser; berikan --user.")
        return user

    def _report(self, job: ImportJob) -> None:
        self.stdout.write(
            f"Diperiksa {job.rows_total:,} baris: {job.rows_valid:,} valid, "
            f"{job.rows_invalid:,} bermasalah, {job.rows_warning:,} dengan peringatan"
        )
        for rule in services.rule_summary(job):
            rows = ", ".join(str(r["row_no"]) for r in rule["first_rows"][:5])
            self.stdout.write(
                f"  [{rule['severity']}] {rule['code']}: {rule['count']:,} "
                f"({rule['message_id']}) baris {rows}"
            )
            if rule["first_rows"]:
                self.stdout.write(f"      mis.: {rule['first_rows'][0]['message_id']}")

    def _rate(self, rows: int, started: float) -> str:
        seconds = time.monotonic() - started
        return f"{rows:,} baris dalam {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} baris/s)"

    def _fail(self, message: str) -> None:
        self.stderr.write(f"DITOLAK: {message}")
        sys.exit(2)
