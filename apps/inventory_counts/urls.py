from django.urls import path

from . import views

app_name = "inventory_counts"

urlpatterns = [
    path("", views.SessionListView.as_view(), name="session-list"),
    path("new/", views.SessionCreateView.as_view(), name="session-create"),
    path("<int:pk>/", views.SessionDetailView.as_view(), name="session-detail"),
    path("<int:pk>/start/", views.SessionStartView.as_view(), name="session-start"),
    path("<int:pk>/close/", views.SessionCloseView.as_view(), name="session-close"),
    path("<int:pk>/approve/", views.SessionApproveView.as_view(), name="session-approve"),
    path("<int:pk>/cancel/", views.SessionCancelView.as_view(), name="session-cancel"),
    path("<int:pk>/count/", views.CountEntryPageView.as_view(), name="count-entry"),
    path("<int:pk>/count/scan/", views.ScanCodeView.as_view(), name="count-scan"),
    path("<int:pk>/count/entries/", views.RecordEntryView.as_view(), name="count-record"),
    path("<int:pk>/sheet/", views.SheetExportView.as_view(), name="sheet-export"),
    path("<int:pk>/sheet/import/", views.SheetUploadView.as_view(), name="sheet-upload"),
    path("sheets/<int:pk>/", views.SheetDetailView.as_view(), name="sheet-detail"),
    path("sheets/<int:pk>/confirm/", views.SheetConfirmView.as_view(), name="sheet-confirm"),
    path("sheets/<int:pk>/recheck/", views.SheetRecheckView.as_view(), name="sheet-recheck"),
    path("<int:pk>/report/", views.VarianceReportView.as_view(), name="variance-report"),
    path("<int:pk>/report/export/", views.VarianceExportView.as_view(), name="variance-export"),
    path("stock/", views.StockListView.as_view(), name="stock-list"),
]
