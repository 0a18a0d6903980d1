"""The drills app's refusals, as codes; the sentence is rendered in the reader's language."""

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ErrorCode


class DrillsError(ErrorCode):
    OVERLAP = (
        "overlap",
        _(
            "This drill overlaps another drill for the same people (%(others)s). "
            "Tick “plan it anyway” to keep both."
        ),
    )
    NO_PARTICIPANTS = "no_participants", _("Choose at least one participant.")
    ENDS_BEFORE_START = "ends_before_start", _("The repetition ends before the first drill.")
    DRILL_ALREADY_RUNNING = (
        "drill_already_running",
        _("A drill of this plan is already running (#%(id)s); close it first."),
    )
    RUN_CLOSED = "run_closed", _("This drill is closed.")
    PHASE_TIMES_MISSING = (
        "phase_times_missing",
        _("A drill cannot be closed without its phase times. Missing: %(phases)s."),
    )
    TIME_IN_FUTURE = "time_in_future", _("That time is in the future: record what has happened.")
    BEFORE_DRILL_START = "before_drill_start", _("That time is before the drill started.")
    EMPTY_TEXT = "empty_text", _("Write something first.")
    ACTION_INCOMPLETE = (
        "action_incomplete",
        _("An improvement action needs what to do, an owner and a due date."),
    )
    NOT_SCRATCH = (
        "not_scratch",
        _(
            "Refused: %(target)s is not a scratch database. A rehearsal restores only into a "
            "configured scratch target, never into the order system or any other database."
        ),
    )
    UNKNOWN_TARGET = "unknown_target", _("Unknown rehearsal target: %(target)s.")
    NO_SCRATCH_TARGET = (
        "no_scratch_target",
        _("No scratch database is configured (BACKUP_SCRATCH_TARGETS): nothing to rehearse on."),
    )
    UNKNOWN_SCOPE = "unknown_scope", _("Unknown backup scope: %(scope)s.")
    REHEARSAL_RUNNING = (
        "rehearsal_running",
        _("Rehearsal #%(id)s is still under way; wait for it to finish."),
    )
    SESSION_IN_FUTURE = (
        "session_in_future",
        _("This session has not taken place yet: attendance can be recorded once it has started."),
    )
    CERTIFICATE_BEFORE_SESSION = (
        "certificate_before_session",
        _("A certificate cannot predate its session (%(session)s)."),
    )
    SCORE_OUT_OF_RANGE = "score_out_of_range", _("A score is between 0 and 100.")
    NOT_ATTENDED = "not_attended", _("%(person)s did not attend: no score can be recorded.")
