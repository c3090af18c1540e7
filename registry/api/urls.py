"""URLs of the registry API (v1)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.register("parties", views.PartyViewSet, basename="party")
router.register("works", views.WorkViewSet, basename="work")
router.register("recordings", views.RecordingViewSet, basename="recording")
router.register("releases", views.ReleaseViewSet, basename="release")
router.register("conflicts", views.ConflictViewSet, basename="conflict")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("me/", views.MeView.as_view(), name="me"),
    *router.urls,
]
