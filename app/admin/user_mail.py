"""What the admin API borrows from the hosted flows: the password policy and the
password-reset mail (also sent as the invitation: its link lets the user choose a password)."""

from __future__ import annotations

from app.accounts.password_reset import start_password_reset
from app.accounts.policy import check_password
from app.admin.problems import validation_problem
from app.config import Settings
from app.extensions import frontdesk_state
from app.models import User


def check_new_password(settings: Settings, password: str, email: str) -> None:
    """Problem 422 listing the broken rules of the password policy."""
    violations = check_password(settings, password, email)
    if violations:
        rules = ", ".join(v.rule for v in violations)
        raise validation_problem({"password": f"breaks the password policy ({rules})"})


def send_password_reset(user: User) -> bool:
    """Start the hosted reset flow (code + link by mail); False for a disabled user, who
    gets no mail. The flow's per-address cool-down applies."""
    if not user.is_enabled:
        return False
    state = frontdesk_state()
    start_password_reset(state.settings, state.store, user.email)
    return True


def send_invitation(user: User) -> bool:
    """Invite the user to choose a password: the reset flow's mail and link."""
    return send_password_reset(user)
