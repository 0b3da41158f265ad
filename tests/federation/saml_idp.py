"""A SAML 2.0 identity provider on 127.0.0.1 for the federation tests: pysaml2's own IdP side
(saml2.server.Server) behind a small WSGI app served in a thread on a free port, with a key
and certificate generated at test time.

- GET /metadata: its IdP metadata (entity id, HTTP-Redirect SSO endpoint, signing cert);
- GET /sso/redirect: reads the SP's AuthnRequest (HTTP-Redirect binding) and answers with
  pysaml2's auto-submitting HTML form that POSTs the SAMLResponse and RelayState to the
  SP's ACS (HTTP-POST binding);
- GET /sso/unsolicited: an IdP-initiated response (no AuthnRequest) to the trusted SP.
Tests steer it through `behaviour`: what is signed, the audience, the lifetime, the user,
and `rotate_key()` for a new signing key published in its metadata.
"""

from __future__ import annotations

import html
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.federation.saml_keys import generate

OTHER_SP = "https://another-sp.example/metadata"
AUTHN = {"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}
FORM_ACTION_RE = re.compile(r'<form[^>]*action="([^"]+)"', re.I)
INPUT_RE = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', re.I)


@dataclass
class Behaviour:
    uid: str = "sam-0001"
    identity: dict[str, list[str]] = field(default_factory=lambda: {
        "mail": ["sam@example.com"], "givenName": ["Sam"], "sn": ["Ldap"],
        "displayName": ["Sam Ldap"]})
    sign_response: bool = True
    sign_assertion: bool = False
    audience: str | None = None  # None: the SP that asked
    lifetime_minutes: int = 5  # negative: an assertion that expired before it arrived
    sign_alg: str = SIG_RSA_SHA256
    digest_alg: str = DIGEST_SHA256


class SamlIdp:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.behaviour = Behaviour()
        self.sp_metadata: list[str] = []
        self.responses: list[str] = []  # every SAMLResponse it issued (base64)
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.generation = 0
        self.rotate_key()

    def start(self) -> SamlIdp:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def metadata_url(self) -> str:
        return self.url + "/metadata"

    def rotate_key(self) -> None:
        """A new signing key pair; the metadata publishes only the new certificate."""
        self.generation += 1
        key, cert = generate("idp.test")
        self.key_file = self.folder / f"idp-key-{self.generation}.pem"
        self.cert_file = self.folder / f"idp-cert-{self.generation}.pem"
        self.key_file.write_bytes(key)
        self.cert_file.write_bytes(cert)

    def trust_sp(self, metadata_xml: str, entity_id: str) -> None:
        """Trust the SP, and a second SP at the same ACS under another entity id (so that
        `behaviour.audience` can name it)."""
        other = metadata_xml.replace(f'entityID="{entity_id}"', f'entityID="{OTHER_SP}"')
        self.sp_metadata = [metadata_xml, other]

    def idp(self) -> Server:
        conf = {
            "entityid": self.metadata_url,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [
                    (self.url + "/sso/redirect", BINDING_HTTP_REDIRECT)]},
                "policy": {"default": {
                    "lifetime": {"minutes": self.behaviour.lifetime_minutes},
                    "attribute_restrictions": None, "name_form": NAME_FORMAT_URI}},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT]}},
            "key_file": str(self.key_file), "cert_file": str(self.cert_file),
            "xmlsec_binary": shutil.which("xmlsec1"),
            "metadata": {"inline": self.sp_metadata} if self.sp_metadata else {},
        }
        return Server(config=IdPConfig().load(conf))

    # --- WSGI ----------------------------------------------------------------------------
    def wsgi(self, environ, start_response):
        request = Request(environ)
        if request.path == "/metadata":
            xml = create_metadata_string(None, config=self.idp().config)
            response = Response(xml, content_type="application/samlmetadata+xml")
        elif request.path == "/sso/redirect":
            response = self.sso(request)
        elif request.path == "/sso/unsolicited":
            response = self.unsolicited(request)
        else:
            response = Response("not found", 404)
        return response(environ, start_response)

    def sso(self, request: Request) -> Response:
        idp = self.idp()
        parsed = idp.parse_authn_request(request.args["SAMLRequest"], BINDING_HTTP_REDIRECT)
        args = idp.response_args(parsed.message, [BINDING_HTTP_POST])
        return self._answer(idp, args, request.args.get("RelayState", ""))

    def unsolicited(self, request: Request) -> Response:
        idp = self.idp()
        sp_entity_id = request.args["sp"]
        [acs] = idp.metadata.assertion_consumer_service(sp_entity_id, BINDING_HTTP_POST)
        args = {"in_response_to": None, "destination": acs["location"],
                "sp_entity_id": sp_entity_id, "binding": BINDING_HTTP_POST}
        return self._answer(idp, args, "")

    def _answer(self, idp: Server, args: dict, relay_state: str) -> Response:
        behaviour = self.behaviour
        args = dict(args)
        args.pop("binding", None)
        if behaviour.audience:
            args["sp_entity_id"] = behaviour.audience
        response = idp.create_authn_response(
            behaviour.identity, userid=behaviour.uid,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=behaviour.uid),
            authn=AUTHN, sign_response=behaviour.sign_response,
            sign_assertion=behaviour.sign_assertion, sign_alg=behaviour.sign_alg,
            digest_alg=behaviour.digest_alg, **args)
        http_args = idp.apply_binding(BINDING_HTTP_POST, str(response), args["destination"],
                                      relay_state=relay_state, response=True)
        page = http_args["data"]
        self.responses.append(form_fields(page)[1]["SAMLResponse"])
        return Response(page, content_type="text/html")


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the auto-submitting form."""
    action = html.unescape(FORM_ACTION_RE.search(page).group(1))
    return action, {html.unescape(k): html.unescape(v) for k, v in INPUT_RE.findall(page)}
