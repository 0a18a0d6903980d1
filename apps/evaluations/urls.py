from django.urls import path

from . import views

app_name = "evaluations"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("incidents/<int:pk>/", views.IncidentReportView.as_view(), name="incident-report"),
    path("incidents/<int:pk>/compute/", views.ComputeReportView.as_view(), name="report-compute"),
    path("reports/<int:pk>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<int:pk>/narrative/", views.NarrativeView.as_view(), name="report-narrative"),
    path("reports/<int:pk>/sign/", views.SignReportView.as_view(), name="report-sign"),
    path("reports/<int:pk>/pdf/", views.ReportPdfView.as_view(), name="report-pdf"),
    path("reports/<int:pk>/xlsx/", views.ReportXlsxView.as_view(), name="report-xlsx"),
    path("review/", views.ReviewView.as_view(), name="review"),
    path("actions/", views.ActionBoardView.as_view(), name="action-board"),
    path("actions/new/", views.ActionCreateView.as_view(), name="action-create"),
    path("actions/<int:pk>/state/", views.ActionStateView.as_view(), name="action-state"),
    path("targets/", views.TargetsView.as_view(), name="targets"),
    path("plan/", views.PlanView.as_view(), name="plan"),
    path("plan/propose/", views.PlanChangeView.as_view(), name="plan-propose"),
    path("plan/changes/<int:pk>/decide/", views.PlanDecideView.as_view(), name="plan-decide"),
    path("plan/compare/", views.PlanCompareView.as_view(), name="plan-compare"),
]
