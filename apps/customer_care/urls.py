"""Customer care's pages (namespace ``customer_care``); outreach lives under ``outreach/``."""

from django.urls import include, path

from . import views

app_name = "customer_care"

urlpatterns = [
    path("", views.QueueView.as_view(), name="queue"),
    path("new/", views.CaseNewView.as_view(), name="case-new"),
    path("lookup/", views.LookupView.as_view(), name="lookup"),
    path("lookup/backup/", views.LookupBackupView.as_view(), name="lookup-backup"),
    path("team/", views.TeamView.as_view(), name="team"),
    path("team/reassign/", views.ReassignView.as_view(), name="reassign"),
    path("targets/", views.TargetsView.as_view(), name="targets"),
    path("mail/", views.MailLogView.as_view(), name="mail-log"),
    path("<int:pk>/", views.CaseDetailView.as_view(), name="case-detail"),
    path("<int:pk>/message/", views.CaseMessageView.as_view(), name="case-message"),
    path("<int:pk>/state/", views.CaseStateView.as_view(), name="case-state"),
    path("<int:pk>/assign/", views.CaseAssignView.as_view(), name="case-assign"),
    path("<int:pk>/orders/", views.CaseLinkOrderView.as_view(), name="case-link-order"),
    path("<int:pk>/orders/change/", views.CaseOrderChangeView.as_view(), name="case-order-change"),
    path("<int:pk>/orders/cancel/", views.CaseCancelOrderView.as_view(), name="case-order-cancel"),
    path("<int:pk>/requests/", views.CaseRequestView.as_view(), name="case-request"),
    path("<int:pk>/refunds/", views.CaseRefundView.as_view(), name="case-refund"),
    path("<int:pk>/returns/", views.CaseRmaView.as_view(), name="case-rma"),
    path("<int:pk>/returns/receive/", views.CaseReceiveRmaView.as_view(), name="case-rma-receive"),
    path("outreach/", include("apps.customer_care.outreach_urls")),
]
