/* Passkey buttons of the hosted pages (the only script they load; no framework).
 *
 * A box marked data-fd-passkey stays hidden unless this browser has WebAuthn. Its form asks
 * data-fd-options-url for the ceremony's options (a POST with the page's CSRF token), runs
 * navigator.credentials.create() or .get() (data-fd-passkey-mode), puts the answer as JSON
 * into the form's "credential" field and posts the form as any other: the server answers
 * with the usual redirect. */
(function () {
  "use strict";
  var PKC = window.PublicKeyCredential;
  if (!PKC || !navigator.credentials || !window.fetch) {
    return;
  }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); }).buffer;
  }

  function toText(buffer) {
    var raw = String.fromCharCode.apply(null, new Uint8Array(buffer));
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  function creationOptions(json) {
    if (PKC.parseCreationOptionsFromJSON) {
      return PKC.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, { id: toBytes(json.user.id) }),
      excludeCredentials: withBytes(json.excludeCredentials)
    });
  }

  function requestOptions(json) {
    if (PKC.parseRequestOptionsFromJSON) {
      return PKC.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      allowCredentials: withBytes(json.allowCredentials)
    });
  }

  function answer(credential) {
    if (credential.toJSON) {
      return credential.toJSON();
    }
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = r.userHandle ? toText(r.userHandle) : null;
    }
    return { id: credential.id, rawId: toText(credential.rawId), type: credential.type,
             response: response, clientExtensionResults: {} };
  }

  function ceremony(form, mode) {
    var token = form.querySelector("input[name=csrf_token]").value;
    return fetch(form.getAttribute("data-fd-options-url"), {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Accept": "application/json" }
    }).then(function (reply) {
      if (!reply.ok) {
        throw new Error("options refused");
      }
      return reply.json();
    }).then(function (json) {
      return mode === "create"
        ? navigator.credentials.create({ publicKey: creationOptions(json) })
        : navigator.credentials.get({ publicKey: requestOptions(json) });
    });
  }

  function wire(box) {
    var form = box.querySelector("form[data-fd-passkey-mode]");
    var error = box.querySelector("[data-fd-passkey-error]");
    var missing = box.parentNode.querySelector("[data-fd-passkey-missing]");
    box.hidden = false;
    if (missing) {
      missing.hidden = true;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.hidden = true;
      ceremony(form, form.getAttribute("data-fd-passkey-mode")).then(function (credential) {
        form.querySelector("input[name=credential]").value = JSON.stringify(answer(credential));
        form.submit();
      }).catch(function () {
        error.hidden = false;
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-fd-passkey]"), wire);
}());
