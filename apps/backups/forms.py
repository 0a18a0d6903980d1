from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .choices import BackupKind, RunState
from .models import BackupRun, BackupScope


class StartBackupForm(forms.Form):
    scope = forms.ModelChoiceField(label=_("Scope"), queryset=BackupScope.objects.all())
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("Policy default")), *BackupKind.choices],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_class = "row row-cols-lg-auto g-2 align-items-end"
        self.helper.add_input(Submit("submit", _("Back up now")))


class RestoreScopeForm(forms.Form):
    """Step 1: what to restore and where."""

    scopes = forms.ModelMultipleChoiceField(
        label=_("Scopes to restore"),
        queryset=BackupScope.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one scope to restore.")},
    )
    target = forms.ChoiceField(label=_("Target"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = [
            (services.ORDER_SYSTEM, _("The order system itself")),
            *[
                (name, _("Scratch database “%(name)s” (rehearsal)") % {"name": name})
                for name in services.scratch_targets()
            ],
        ]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.add_input(Submit("next", _("Next: review the proposal")))


class RestoreConfirmForm(forms.Form):
    """Step 2: the proposal, one backup per scope (staff may pick another), and a confirmation."""

    confirm = forms.BooleanField(
        label=_("I understand that the target's tables for these scopes will be replaced."),
    )

    def __init__(self, *args, scopes, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes = scopes
        kids = services.known_key_ids()
        for scope in scopes:
            proposal = services.propose_restore(scope=scope)
            field = forms.ModelChoiceField(
                label=scope.name,
                queryset=BackupRun.objects.filter(scope=scope, state=RunState.COMPLETE).order_by(
                    "-finished_at"
                ),
                initial=proposal.backup,
                help_text=proposal.reason,
                required=True,
            )
            field.label_from_instance = lambda run, kids=kids: (  # type: ignore[method-assign,misc]
                f"{run.file_name} · {run.get_kind_display()}"
                + (" ⚠" if run.last_verify_ok is False else "")
                + (
                    " · " + str(_("its master key is not configured here"))
                    if kids is not None and run.key_id and run.key_id not in kids
                    else ""
                )
            )
            self.fields[f"backup_{scope.slug}"] = field
        self.order_fields([f"backup_{s.slug}" for s in scopes] + ["confirm"])
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Start the restore"), css_class="btn-danger"))

    def chosen(self) -> dict[str, BackupRun]:
        return {s.slug: self.cleaned_data[f"backup_{s.slug}"] for s in self.scopes}
