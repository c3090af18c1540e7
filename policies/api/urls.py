"""URLs of the policies API (v1)."""

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from . import views

# SimpleRouter: the registry's router already serves the API root at /api/v1/.
router = SimpleRouter(trailing_slash=True)
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("decisions", views.DecisionViewSet, basename="decision")

Versions = views.PolicyVersionViewSet
VERSION = "policies/<int:policy_pk>/versions/<int:number>/"

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "policies/<int:policy_pk>/versions/",
        Versions.as_view({"get": "list", "post": "create"}),
        name="policy-version-list",
    ),
    path(VERSION, Versions.as_view({"get": "retrieve", "put": "update"}), name="policy-version"),
    path(
        f"{VERSION}publish/", Versions.as_view({"post": "publish"}), name="policy-version-publish"
    ),
    path(f"{VERSION}retire/", Versions.as_view({"post": "retire"}), name="policy-version-retire"),
    path(
        f"{VERSION}simulate/",
        Versions.as_view({"post": "simulate"}),
        name="policy-version-simulate",
    ),
    path(
        f"{VERSION}evaluate/",
        Versions.as_view({"post": "evaluate"}),
        name="policy-version-evaluate",
    ),
    *router.urls,
]
