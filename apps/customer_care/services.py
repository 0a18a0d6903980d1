"""Use cases of the care desk (filled in below)."""


def start_mailbox_poll() -> None:  # replaced shortly
    raise NotImplementedError


def check_response_targets() -> None:  # replaced shortly
    raise NotImplementedError
