from django.urls import path

from . import views

app_name = "monitoring"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("alarms/<int:pk>/", views.AlarmDetailView.as_view(), name="alarm-detail"),
    path(
        "alarms/<int:pk>/acknowledge/",
        views.AcknowledgeAlarmView.as_view(),
        name="alarm-acknowledge",
    ),
    path("alarms/<int:pk>/declare/", views.DeclareFromAlarmView.as_view(), name="alarm-declare"),
    path("rules/", views.RuleListView.as_view(), name="rule-list"),
    path("rules/<int:pk>/", views.RuleEditView.as_view(), name="rule-edit"),
    path("probes/new/", views.HttpProbeView.as_view(), name="probe-add"),
    path("probes/<int:pk>/", views.HttpProbeEditView.as_view(), name="probe-edit"),
    path("roster/", views.RosterView.as_view(), name="roster"),
    path("roster/add/", views.AddDutyShiftView.as_view(), name="shift-add"),
    path("roster/<int:pk>/remove/", views.RemoveDutyShiftView.as_view(), name="shift-remove"),
    path("figures/", views.FiguresView.as_view(), name="figures"),
    path("problems/", views.ProblemListView.as_view(), name="problem-list"),
    path("problems/new/", views.ReportProblemView.as_view(), name="problem-report"),
    path("problems/<int:pk>/", views.ProblemDetailView.as_view(), name="problem-detail"),
    path(
        "problems/<int:pk>/screenshot/",
        views.ProblemScreenshotView.as_view(),
        name="problem-screenshot",
    ),
    path("problems/<int:pk>/triage/", views.TriageProblemView.as_view(), name="problem-triage"),
    path("problems/<int:pk>/solve/", views.SolveProblemView.as_view(), name="problem-solve"),
]

# /health/ and /metrics are outside the staff namespace (no sign-in; see the README).
endpoint_patterns = [
    path("health/", views.health, name="health"),
    path("metrics", views.metrics, name="metrics"),
]
