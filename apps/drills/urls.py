from django.urls import path

from . import views

app_name = "drills"

urlpatterns = [
    path("", views.PlanListView.as_view(), name="plan-list"),
    path("plans/new/", views.PlanDrillView.as_view(), name="plan-add"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan-detail"),
    path("plans/<int:pk>/start/", views.StartDrillView.as_view(), name="drill-start"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run-detail"),
    path("runs/<int:pk>/phase/", views.RecordPhaseView.as_view(), name="phase-record"),
    path("runs/<int:pk>/inject/", views.InjectView.as_view(), name="inject"),
    path("runs/<int:pk>/actions/new/", views.AddActionView.as_view(), name="action-add"),
    path("runs/<int:pk>/close/", views.CloseDrillView.as_view(), name="run-close"),
    path("rehearsals/", views.RehearsalListView.as_view(), name="rehearsal-list"),
    path("rehearsals/start/", views.StartRehearsalView.as_view(), name="rehearsal-start"),
    path("rehearsals/<int:pk>/", views.RehearsalDetailView.as_view(), name="rehearsal-detail"),
    path("training/", views.TrainingView.as_view(), name="training"),
    path("training/sessions/new/", views.PlanSessionView.as_view(), name="session-add"),
    path("training/sessions/<int:pk>/", views.SessionDetailView.as_view(), name="session-detail"),
    path(
        "training/sessions/<int:pk>/attendance/",
        views.RecordAttendanceView.as_view(),
        name="attendance-record",
    ),
    path("training/matrix/", views.MatrixView.as_view(), name="matrix"),
    path("training/matrix.xlsx", views.MatrixExportView.as_view(), name="matrix-export"),
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    path("calendar/<str:token>.ics", views.CalendarFeedView.as_view(), name="calendar-feed"),
]
