"""Outreach's staff pages, included from the app's ``urls`` (namespace ``customer_care``)."""

from django.urls import path

from . import outreach_views as views

urlpatterns = [
    path("", views.OutreachHomeView.as_view(), name="outreach-home"),
    path("compensation/grant/", views.GrantCompensationView.as_view(), name="compensation-grant"),
    path("compensation/bulk/", views.BulkGrantView.as_view(), name="compensation-bulk"),
    path("compensation/limit/", views.CompensationLimitView.as_view(), name="compensation-limit"),
    path("compensation/hand-over/", views.HandOverView.as_view(), name="compensation-hand-over"),
    path("customers/<int:pk>/ledger/", views.CustomerLedgerView.as_view(), name="customer-ledger"),
    path("notices/", views.NoticeListView.as_view(), name="notice-list"),
    path("notices/new/", views.NoticeCreateView.as_view(), name="notice-new"),
    path("notices/<int:pk>/", views.NoticeDetailView.as_view(), name="notice-detail"),
    path("notices/<int:pk>/send/", views.NoticeSendView.as_view(), name="notice-send"),
    path(
        "notices/<int:pk>/read-customers/",
        views.NoticeReadCustomersView.as_view(),
        name="notice-read-customers",
    ),
    path("notices/<int:pk>/pause/", views.NoticePauseView.as_view(), name="notice-pause"),
    path("status-page/", views.StatusEditView.as_view(), name="status-edit"),
    path("follow-ups/", views.FollowUpListView.as_view(), name="follow-ups"),
    path("follow-ups/<int:pk>/done/", views.FollowUpCloseView.as_view(), name="follow-up-close"),
    path("care-plan/", views.CarePlanView.as_view(), name="care-plan"),
    path("care-plan/<int:pk>/contacted/", views.ContactRecordView.as_view(), name="contact-record"),
    path("figures/", views.FiguresView.as_view(), name="outreach-figures"),
]
