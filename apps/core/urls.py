from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("jobs/", views.JobListView.as_view(), name="job-list"),
    path("jobs/<uuid:pk>/", views.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<uuid:pk>/progress/", views.JobProgressView.as_view(), name="job-progress"),
    path("schedules/", views.ScheduleListView.as_view(), name="schedule-list"),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path(
        "notifications/<int:pk>/resend/",
        views.ResendNotificationView.as_view(),
        name="notification-resend",
    ),
    path("language/", views.switch_language, name="switch-language"),
]
