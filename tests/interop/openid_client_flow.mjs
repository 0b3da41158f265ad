// A certified OIDC client (openid-client 6) against a live Frontdesk server:
// discovery -> authorization code + PKCE (signing in through the hosted /login form)
// -> ID token validation -> userinfo -> refresh -> revoke.
//
// Environment: ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, EMAIL, PASSWORD.
// Prints one JSON object describing what happened; exits non-zero on any failure.
import * as client from 'openid-client';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`missing ${name}`);
  return value;
};
const issuer = env('ISSUER');
const redirectUri = env('REDIRECT_URI');

// --- a tiny browser: cookies + manual redirects ------------------------------------------
const jar = new Map();
function remember(response) {
  for (const line of response.headers.getSetCookie()) {
    const [pair, ...attributes] = line.split(';');
    const index = pair.indexOf('=');
    const name = pair.slice(0, index).trim();
    const value = pair.slice(index + 1).trim();
    const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
    if (expired) jar.delete(name); else jar.set(name, value);
  }
}
function cookieHeader() {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}
async function browse(url, init = {}) {
  const response = await fetch(url, {
    ...init, redirect: 'manual', headers: { ...(init.headers || {}), cookie: cookieHeader() },
  });
  remember(response);
  return response;
}
// Follow redirects until the browser is sent to the client's redirect URI (or a page).
async function follow(response) {
  let current = response;
  while (current.status >= 300 && current.status < 400) {
    const location = new URL(current.headers.get('location'), current.url || issuer).href;
    if (location.startsWith(redirectUri)) return { callback: location };
    current = await browse(location);
    Object.defineProperty(current, 'url', { value: location });
  }
  return { page: current, html: await current.text() };
}
function hidden(html, name) {
  const tag = html.match(new RegExp(`<input[^>]*name="${name}"[^>]*>`));
  if (!tag) throw new Error(`no ${name} field on the page`);
  const value = tag[0].match(/value="([^"]*)"/);
  return value ? value[1].replace(/&#34;/g, '"').replace(/&amp;/g, '&') : '';
}

// --- the flow ----------------------------------------------------------------------------
const config = await client.discovery(
  new URL(issuer), env('CLIENT_ID'), undefined, client.ClientSecretBasic(env('CLIENT_SECRET')),
  { execute: [client.allowInsecureRequests] },
);
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri, scope: 'openid profile email offline_access',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256', state, nonce,
});

let step = await follow(await browse(authorizationUrl.href));
if (!step.page || !new URL(step.page.url).pathname.startsWith('/login')) {
  throw new Error(`expected the hosted login page, got ${step.page && step.page.url}`);
}
const form = new URLSearchParams({
  email: env('EMAIL'), password: env('PASSWORD'),
  csrf_token: hidden(step.html, 'csrf_token'), interaction: hidden(step.html, 'interaction'),
});
step = await follow(await browse(step.page.url, {
  method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' },
}));
if (!step.callback) throw new Error(`login did not come back to the client: ${step.html?.slice(0, 300)}`);

const tokens = await client.authorizationCodeGrant(config, new URL(step.callback), {
  pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const refreshedClaims = refreshed.claims();
await client.tokenRevocation(config, refreshed.refresh_token);
let revokedRefreshFails = false;
try {
  await client.refreshTokenGrant(config, refreshed.refresh_token);
} catch (error) {
  revokedRefreshFails = error.error === 'invalid_grant';
}

console.log(JSON.stringify({
  sub: claims.sub, nonce_ok: claims.nonce === nonce, iss: claims.iss,
  email: userinfo.email, userinfo_sub: userinfo.sub,
  refreshed: refreshed.access_token !== tokens.access_token,
  rotated: refreshed.refresh_token !== tokens.refresh_token,
  refreshed_sub: refreshedClaims ? refreshedClaims.sub : null,
  revoked_refresh_fails: revokedRefreshFails,
}));
