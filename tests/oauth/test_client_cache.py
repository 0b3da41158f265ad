"""The per-process client cache (app.oauth.client_cache): clients are read from the
database once, and every change takes effect at the next request in this process, and in
another one sharing the database and the store as soon as the announcement reaches it
(with Redis: pub/sub, app/store_mirror.py; the tests wait for that, a few milliseconds)."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app import create_app
from app.extensions import db, frontdesk_state
from app.models import Client
from app.oauth.client_cache import VERSION_KEY, ClientSnapshot
from app.oauth.clients import client_changed
from app.store import RedisStore
from tests.conftest import STORE_REDIS_URL, base_config
from tests.oauth.conftest import add_client, close_app
from tests.oauth.helpers import assert_error_page, basic_auth


@pytest.fixture
def machine(app):
    return add_client(app, name="Reporter", grant_types=["client_credentials"],
                      redirect_uris=[], scopes=["reports:read"])


@pytest.fixture
def other_app(tmp_path):
    """A second app on the same database and store: another worker process."""
    other = create_app(base_config(tmp_path))
    other.config["TESTING"] = True
    yield other
    close_app(other)


def _mirror_of(app):
    with app.app_context():
        store = frontdesk_state().store
        return store, store.mirror(VERSION_KEY)


def mirror_live(app) -> None:
    """With Redis, wait until the app's mirror of the clients' version is subscribed."""
    _, mirror = _mirror_of(app)
    assert mirror is None or mirror.wait_live(5), "the mirror did not subscribe"


def announced_to(app) -> None:
    """With Redis, wait until the app's mirror holds the store's latest clients' version:
    what another process sees once the announcement arrives."""
    store, mirror = _mirror_of(app)
    if mirror is None:
        return
    deadline = time.monotonic() + 5
    while mirror.current() != (True, store.get(VERSION_KEY)):
        assert time.monotonic() < deadline, "the announcement did not arrive"
        time.sleep(0.005)


def client_credentials(test_client, machine, secret=None):
    return test_client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                            headers=basic_auth(machine["client_id"],
                                               secret or machine["client_secret"]))


@contextmanager
def counting_client_selects(app):
    found = []

    def count(_conn, _cursor, statement, *_args):
        if "FROM clients" in statement:
            found.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", count)


def edit_client(app, client_id, change) -> None:
    with app.app_context():
        change(db.session.get(Client, client_id))
        db.session.commit()


def test_a_client_is_read_from_the_database_once(app, client, machine):
    mirror_live(app)  # going live starts a new version: one reload
    with counting_client_selects(app) as selects:
        for _ in range(3):
            assert client_credentials(client, machine).status_code == 200
    assert len(selects) == 1


def test_deleted_client_is_refused_at_once(app, client, machine):
    assert client_credentials(client, machine).status_code == 200
    edit_client(app, machine["client_id"], db.session.delete)
    response = client_credentials(client, machine)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_rotated_secret_is_refused_at_once(app, client, machine):
    assert client_credentials(client, machine).status_code == 200
    edit_client(app, machine["client_id"], lambda c: c.set_secret("a-new-secret-" + "y" * 30))
    assert client_credentials(client, machine).status_code == 401
    assert client_credentials(client, machine, "a-new-secret-" + "y" * 30).status_code == 200


def test_another_process_sees_a_deletion_at_once(app, client, machine, other_app):
    other = other_app.test_client()
    assert client_credentials(other, machine).status_code == 200
    assert client_credentials(other, machine).status_code == 200  # now from its cache
    edit_client(app, machine["client_id"], db.session.delete)
    announced_to(other_app)
    assert client_credentials(other, machine).status_code == 401


def test_another_process_sees_a_rotated_secret_and_new_redirect_uri(app, oauth_client,
                                                                    other_app):
    other = other_app.test_client()
    params = {"client_id": oauth_client["client_id"], "response_type": "code",
              "redirect_uri": "https://new.example/cb", "scope": "openid",
              "code_challenge": "x" * 43, "code_challenge_method": "S256"}
    assert_error_page(other.get("/oauth2/authorize", query_string=params))

    def change(c):
        c.redirect_uris = [*c.redirect_uris, "https://new.example/cb"]
        c.set_secret("rotated-" + "z" * 40)

    edit_client(app, oauth_client["client_id"], change)
    announced_to(other_app)
    assert other.get("/oauth2/authorize", query_string=params).status_code in (302, 303)
    old = other.post("/oauth2/revoke", data={"token": "whatever"},
                     headers=basic_auth(oauth_client["client_id"],
                                        oauth_client["client_secret"]))
    assert old.status_code == 401
    new = other.post("/oauth2/revoke", data={"token": "whatever"},
                     headers=basic_auth(oauth_client["client_id"], "rotated-" + "z" * 40))
    assert new.status_code == 200


def test_cli_delete_reaches_running_processes(app, machine, other_app):
    from app.cli import main

    other = other_app.test_client()
    assert client_credentials(other, machine).status_code == 200
    result = app.test_cli_runner().invoke(main, ["clients", "delete", machine["client_id"],
                                                 "--json"])
    assert result.exit_code == 0, result.output
    announced_to(other_app)
    assert client_credentials(other, machine).status_code == 401


def test_client_changed_covers_changes_made_without_the_orm(app, client, machine, other_app):
    other = other_app.test_client()
    assert client_credentials(other, machine).status_code == 200
    with app.app_context():
        db.session.execute(db.update(Client).where(Client.client_id == machine["client_id"])
                           .values(grant_types=["authorization_code"]))
        db.session.commit()
        client_changed(machine["client_id"])
    announced_to(other_app)
    response = client_credentials(other, machine)
    assert response.status_code == 400 and response.get_json()["error"] == "unauthorized_client"


def test_a_lost_version_key_does_not_keep_an_old_entry(app, client, machine):
    from app.extensions import frontdesk_state

    assert client_credentials(client, machine).status_code == 200
    with app.app_context():
        frontdesk_state().store.delete(VERSION_KEY)
        db.session.delete(db.session.get(Client, machine["client_id"]))
        db.session.commit()
        frontdesk_state().store.delete(VERSION_KEY)  # as if the bump was evicted
    assert client_credentials(client, machine).status_code == 401


def test_a_rolled_back_change_keeps_the_cache(app, client, machine):
    mirror_live(app)
    assert client_credentials(client, machine).status_code == 200
    with app.app_context():
        db.session.get(Client, machine["client_id"]).name = "Renamed"
        db.session.flush()
        db.session.rollback()
    with counting_client_selects(app) as selects:
        assert client_credentials(client, machine).status_code == 200
    assert selects == []


def test_snapshots_are_immutable_and_answer_like_clients(app, oauth_client):
    with app.app_context():
        row = db.session.get(Client, oauth_client["client_id"])
        snap = ClientSnapshot.of(row)
        with pytest.raises(AttributeError):
            snap.redirect_uris = ()  # frozen
        assert snap.check_redirect_uri(oauth_client["redirect_uri"])
        assert snap.check_client_secret(oauth_client["client_secret"])
        assert not snap.check_client_secret("wrong")
        assert snap.get_allowed_scope("openid nope") == row.get_allowed_scope("openid nope")
        assert snap.client_metadata == row.client_metadata
        assert snap.check_grant_type("authorization_code") == \
            row.check_grant_type("authorization_code")


def test_token_requests_read_no_version_while_the_mirror_is_live(app, client):
    """The point of the mirror: with Redis, a token request makes no store round trip for
    the clients' version (here: any read of it fails the request). Both test modes run it
    on Redis: the app's store is swapped for one (client_credentials uses no other key)."""
    machine = add_client(app, name="Reporter", grant_types=["client_credentials"],
                         redirect_uris=[], scopes=["reports:read"])
    state = frontdesk_state(app)
    original, store = state.store, RedisStore(STORE_REDIS_URL, f"fdcachetest:{uuid.uuid4().hex}:")
    state.store = store
    try:
        assert store.mirror(VERSION_KEY).wait_live(5)
        reads = []
        store.get = lambda key: reads.append(key) or pytest.fail(f"store read {key}")
        for _ in range(3):
            response = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                                   headers=basic_auth(machine["client_id"],
                                                      machine["client_secret"]))
            assert response.status_code == 200
        assert reads == []
    finally:
        state.store = original
        store.close()
