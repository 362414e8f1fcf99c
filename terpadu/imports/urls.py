"""URLs of the imports app (mounted at /impor/): import jobs and list exports."""

from __future__ import annotations

from django.urls import path

from terpadu.imports.views import exports, jobs

app_name = "imports"
urlpatterns = [
    path("", jobs.home, name="home"),
    path("<int:pk>/", jobs.job_detail, name="job"),
    path("<int:pk>/pemetaan/", jobs.mapping, name="mapping"),
    path("<int:pk>/pemetaan/templat/", jobs.use_template, name="use_template"),
    path("<int:pk>/kemajuan/", jobs.progress, name="progress"),
    path("<int:pk>/periksa/", jobs.start_validation, name="validate"),
    path("<int:pk>/batal/", jobs.cancel, name="cancel"),
    path("<int:pk>/terapkan/", jobs.apply, name="apply"),
    path("<int:pk>/laporan-kesalahan.xlsx", jobs.error_report, name="error_report"),
    path("<int:pk>/karantina/", jobs.quarantine, name="quarantine"),
    path("<int:pk>/karantina.xlsx", jobs.quarantine_download, name="quarantine_download"),
    path("ekspor/individu.<str:fmt>", exports.persons, name="export_persons"),
    path("ekspor/bnba/", exports.bnba, name="export_bnba"),
    path("ekspor/usulan.<str:fmt>", exports.proposals, name="export_proposals"),
]
