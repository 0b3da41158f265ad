"""/logout (hosted): confirm, then end this browser's session. RP-initiated logout is the
protocol's /oauth2/logout."""

from __future__ import annotations

from flask import url_for

from app.extensions import db
from app.hosted.blueprint import bp
from app.hosted.forms import LogoutForm
from app.hosted.pages import client_ip, render_page, see_other
from app.models import record_event
from app.sessions import current_login, end_login_session


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    login = current_login()
    form = LogoutForm()
    if login is not None and form.validate_on_submit():
        end_login_session()
        record_event("logout", user_id=login.user_id, ip=client_ip())
        db.session.commit()
        return see_other(url_for("hosted.logout"))
    if login is None:
        return render_page("hosted/signed_out.html")
    return render_page("hosted/logout.html", form=form)
