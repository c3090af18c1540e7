"""URLs of the review API (v1): disputes and review outcomes."""

from django.urls import URLPattern, URLResolver, path

from . import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("checks/<int:pk>/disputes/", views.CheckDisputeView.as_view(), name="check-disputes"),
    path("checks/<int:pk>/review/", views.CheckReviewView.as_view(), name="check-review"),
    path(
        "conflicts/<int:pk>/disputes/",
        views.ConflictDisputeView.as_view(),
        name="conflict-disputes",
    ),
    path("disputes/", views.DisputeListView.as_view(), name="dispute-list"),
    path("disputes/<int:pk>/", views.DisputeDetailView.as_view(), name="dispute-detail"),
]
