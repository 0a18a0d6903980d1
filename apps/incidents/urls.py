from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.IncidentListView.as_view(), name="incident-list"),
    path("declare/", views.DeclareIncidentView.as_view(), name="incident-declare"),
    path("live/", views.OpenIncidentLiveView.as_view(), name="open-incident-live"),
    path("<int:pk>/", views.IncidentDetailView.as_view(), name="incident-detail"),
    path("<int:pk>/live/", views.LiveBlockView.as_view(), name="incident-live"),
    path("<int:pk>/assessment/", views.AssessmentView.as_view(), name="incident-assessment"),
    path("<int:pk>/transition/", views.TransitionView.as_view(), name="incident-transition"),
    path("<int:pk>/team/", views.AssignMemberView.as_view(), name="team-assign"),
    path(
        "<int:pk>/team/<int:member_pk>/acknowledge/",
        views.AcknowledgeView.as_view(),
        name="team-acknowledge",
    ),
    path("<int:pk>/notes/", views.NoteView.as_view(), name="note-add"),
    path("<int:pk>/tasks/new/", views.AddTaskView.as_view(), name="task-add"),
    path("<int:pk>/resources/new/", views.RequestResourceView.as_view(), name="resource-request"),
    path("<int:pk>/meetings/new/", views.RecordMeetingView.as_view(), name="meeting-record"),
    path("tasks/<int:pk>/", views.TaskUpdateView.as_view(), name="task-edit"),
    path("tasks/<int:pk>/state/", views.TaskStateView.as_view(), name="task-state"),
    path("resources/<int:pk>/move/", views.ResourceActionView.as_view(), name="resource-move"),
    path("decisions/<int:pk>/task/", views.DecisionTaskView.as_view(), name="decision-task"),
    path("templates/", views.TemplateListView.as_view(), name="template-list"),
    path("templates/new/", views.TemplateEditView.as_view(), name="template-add"),
    path("templates/<int:pk>/", views.TemplateEditView.as_view(), name="template-edit"),
    path("readiness/", views.ReadinessListView.as_view(), name="readiness-list"),
    path("readiness/new/", views.StartReadinessView.as_view(), name="readiness-start"),
    path("readiness/<int:pk>/", views.ReadinessDetailView.as_view(), name="readiness-detail"),
    path("readiness/<int:pk>/act/", views.ReadinessActionView.as_view(), name="readiness-act"),
]
