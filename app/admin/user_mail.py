"""What the admin API borrows from the hosted flows: the password policy and the
password-reset mail (also used as the invitation: "choose your password")."""

from __future__ import annotations

from app.admin.problems import validation_problem
from app.config import Settings
from app.models import User


def check_new_password(settings: Settings, password: str, email: str) -> None:
    """Problem 422 listing the broken rules of the password policy."""
    from app.accounts.policy import check_password

    violations = check_password(settings, password, email)
    if violations:
        rules = ", ".join(v.rule for v in violations)
        raise validation_problem({"password": f"breaks the password policy ({rules})"})


def send_password_reset(user: User) -> bool:
    """Mail the user a reset code through the hosted flow; False when it cannot."""
    return False


def send_invitation(user: User) -> bool:
    """Invite the user to choose a password (the reset flow's mail); False when it cannot."""
    return send_password_reset(user)
