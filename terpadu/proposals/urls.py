"""URLs of the proposals app, one module per area (mounted at /usulan/)."""

from __future__ import annotations

from terpadu.proposals.views import desa, inbox, kabkota, musdes, provinsi, pusat, verivali

app_name = "proposals"
urlpatterns = [
    *inbox.urlpatterns,
    *desa.urlpatterns,
    *musdes.urlpatterns,
    *verivali.urlpatterns,
    *kabkota.urlpatterns,
    *provinsi.urlpatterns,
    *pusat.urlpatterns,
]
