"""Google as an upstream: plain OIDC through its discovery document.

Google's ID token already carries `email`, `email_verified` (true for Gmail and Workspace
addresses Google has checked), `name`, `picture` and, for Workspace accounts, `hd`.
"""

from __future__ import annotations

NAME = "google"
LABEL = "Google"  # the login page shows "Continue with Google"
DEFAULT_MAPPING = {
    "name": "name",
    "given_name": "given_name",
    "family_name": "family_name",
    "picture": "picture",
    "locale": "locale",
}
