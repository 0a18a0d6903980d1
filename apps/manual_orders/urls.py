from django.urls import path

from . import views

app_name = "manual_orders"

urlpatterns = [
    path("", views.OrderListView.as_view(), name="order-list"),
    path("new/", views.OrderEntryView.as_view(), name="order-new"),
    path("<int:pk>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("<int:pk>/confirm/", views.ConfirmOrderView.as_view(), name="order-confirm"),
    path("<int:pk>/cancel/", views.CancelOrderView.as_view(), name="order-cancel"),
    path("<int:pk>/allocate/", views.AllocateOrderView.as_view(), name="order-allocate"),
    path("<int:pk>/dispatch/", views.DispatchOrderView.as_view(), name="order-dispatch"),
    path("<int:pk>/deliver/", views.DeliverOrderView.as_view(), name="order-deliver"),
    path("customers/search/", views.CustomerSearchView.as_view(), name="customer-search"),
    path("products/search/", views.ProductSearchView.as_view(), name="product-search"),
    path("pick-lists/", views.PickListIndexView.as_view(), name="pick-list-index"),
    path("pick-lists/<int:pk>/", views.PickListView.as_view(), name="pick-list"),
    path("rules/", views.RuleListView.as_view(), name="rule-list"),
    path("rules/new/", views.RuleAddView.as_view(), name="rule-add"),
    path("hand-back/", views.ReconciliationView.as_view(), name="reconciliation"),
    path("hand-back/export/", views.ExportOrdersView.as_view(), name="order-export"),
    path("hand-back/push/", views.PushOrdersView.as_view(), name="order-push"),
    path("reference/", views.ReferenceUploadView.as_view(), name="reference-upload"),
    path("reference/<int:pk>/", views.ReferenceDetailView.as_view(), name="reference-detail"),
    path(
        "reference/<int:pk>/confirm/",
        views.ReferenceConfirmView.as_view(),
        name="reference-confirm",
    ),
    path("reference/load/", views.LoadReferenceView.as_view(), name="reference-load"),
]
