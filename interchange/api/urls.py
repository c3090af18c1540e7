"""URLs of the interchange API (v1)."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("ddex/ern/", views.ErnImportView.as_view(), name="ddex-ern-import"),
    # Beside the registry's release routes, which leave releases/<id>/ern/ unmatched.
    path("releases/<int:pk>/ern/", views.ReleaseErnView.as_view(), name="release-ern"),
]
