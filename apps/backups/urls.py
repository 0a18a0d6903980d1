from django.urls import path

from . import views, views_full

app_name = "backups"

urlpatterns = [
    path("", views.BackupListView.as_view(), name="backup-list"),
    path("new/", views.StartBackupView.as_view(), name="backup-start"),
    path("<int:pk>/", views.BackupDetailView.as_view(), name="backup-detail"),
    path("<int:pk>/verify/", views.VerifyBackupView.as_view(), name="backup-verify"),
    path("<int:pk>/download/", views.DownloadBackupView.as_view(), name="backup-download"),
    path("all/", views_full.StartFullBackupView.as_view(), name="full-backup-start"),
    path("all/<int:pk>/", views_full.FullBackupDetailView.as_view(), name="full-backup-detail"),
    path("status/", views.ScopeStatusView.as_view(), name="scope-status"),
    path("restores/", views.RestoreListView.as_view(), name="restore-list"),
    path(
        "restores/point-in-time/",
        views_full.PointInTimeRestoreView.as_view(),
        name="restore-point-in-time",
    ),
    path("restores/new/", views.RestoreStartView.as_view(), name="restore-start"),
    path("restores/<int:pk>/", views.RestoreDetailView.as_view(), name="restore-detail"),
]
