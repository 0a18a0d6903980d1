"""The monitoring app's use cases, split by subject and re-exported here."""

from .alarms import (
    acknowledge_alarm,
    breaches,
    declare_incident_from_alarm,
    escalate_alarms,
    evaluate_alarms,
    evidence_text,
    incident_description,
    save_rule,
)
from .probes import (
    Measurement,
    ensure_builtin_probes,
    journal_slot_lag,
    measure_all,
    run_probes,
    run_probes_task,
    save_http_probe,
)
from .problems import check_screenshot, report_problem, solve_problem, triage_problem
from .roster import add_duty_shift, check_duty_shift, remove_duty_shift

__all__ = [
    "Measurement",
    "acknowledge_alarm",
    "add_duty_shift",
    "breaches",
    "check_duty_shift",
    "check_screenshot",
    "declare_incident_from_alarm",
    "ensure_builtin_probes",
    "escalate_alarms",
    "evaluate_alarms",
    "evidence_text",
    "incident_description",
    "journal_slot_lag",
    "measure_all",
    "remove_duty_shift",
    "report_problem",
    "run_probes",
    "run_probes_task",
    "save_http_probe",
    "save_rule",
    "solve_problem",
    "triage_problem",
]
