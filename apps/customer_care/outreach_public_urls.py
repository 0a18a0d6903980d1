"""Public outreach pages (no login): the status page and feeds, survey and opt-out links."""

from django.urls import path

from . import outreach_views as views

app_name = "care_public"

urlpatterns = [
    path("status/", views.StatusPageView.as_view(), name="status"),
    path("status/feed.json", views.StatusJsonView.as_view(), name="status-json"),
    path("status/rss/", views.StatusRssView.as_view(), name="status-rss"),
    path("survey/<str:token>/", views.SurveyView.as_view(), name="survey"),
    path("opt-out/<str:token>/", views.OptOutView.as_view(), name="opt-out"),
]
