"""Customer care's pages (namespace ``customer_care``); outreach lives under ``outreach/``."""

from django.urls import include, path

app_name = "customer_care"

urlpatterns = [
    path("outreach/", include("apps.customer_care.outreach_urls")),
]
