"""Facebook Login as a plain OAuth 2.0 upstream (no ID token in the code flow).

The user is read from the Graph API (`/me?fields=id,name,email`). Every Graph call carries
`appsecret_proof`, HMAC-SHA256 of the access token keyed with the app secret, so a leaked
access token alone cannot be replayed against the app's Graph API settings.

Facebook returns `email` only when the account has a confirmed one, but the Graph API gives
no `verified` flag for it, and an address confirmed once may since have changed hands. So
Frontdesk treats Facebook's e-mail as unverified: it never links to an existing account on
its own (the user proves the account with its password once), and a new account made
through Facebook starts with an unverified e-mail.
"""

from __future__ import annotations

import hashlib
import hmac

NAME = "facebook"
LABEL = "Facebook"
GRAPH = "https://graph.facebook.com/v19.0"
AUTHORIZE_URL = "https://www.facebook.com/v19.0/dialog/oauth"
TOKEN_URL = GRAPH + "/oauth/access_token"
USERINFO_URL = GRAPH + "/me?fields=id,name,email"
SCOPES = "email public_profile"
DEFAULT_MAPPING = {"name": "name"}


def appsecret_proof(app_secret: str, access_token: str) -> str:
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()
