"""URLs of the checks API (v1)."""

from django.urls import path

from . import views

urlpatterns = [
    path("checks/", views.CheckListView.as_view(), name="check-list"),
    path("checks/<int:pk>/", views.CheckDetailView.as_view(), name="check-detail"),
    path("webhook/", views.WebhookView.as_view(), name="webhook"),
]
