// node oidc-provider 9.x configured like Frontdesk, for the side-by-side benchmark.
//
// Equivalent configuration: authorization code + PKCE (S256, required), RS256 ID tokens,
// refresh tokens rotated on every use (with a new ID token), client_credentials,
// introspection, userinfo, discovery and JWKS. devInteractions is off: the login and consent
// pages below are a minimal form like Frontdesk's (email, password, csrf_token, hidden
// interaction), and passwords are compared in plain text (the reference hashes nothing, so
// the bench reports Frontdesk's flow cost with and without its argon2id hash).
//
// Usage: node server.js <config.json>
//   config: {"issuer": "http://127.0.0.1:PORT", "port": PORT, "clients": [...],
//            "accounts": [{"sub", "email", "password", "name"}]}
import { randomBytes, generateKeyPairSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: randomBytes(9).toString('base64url'), alg: 'RS256', use: 'sig' },
    { ...ec, kid: randomBytes(9).toString('base64url'), alg: 'ES256', use: 'sig' },
  ];
}

const accountsByEmail = new Map(config.accounts.map((a) => [a.email.toLowerCase(), a]));
const accountsBySub = new Map(config.accounts.map((a) => [a.sub, a]));
const firstParty = new Set(config.clients.filter((c) => c.first_party).map((c) => c.client_id));

async function findAccount(_ctx, sub) {
  const account = accountsBySub.get(sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { sub, email: account.email, email_verified: true, name: account.name };
    },
  };
}

// First-party clients skip consent, like Frontdesk's is_first_party (the documented pattern).
async function loadExistingGrant(ctx) {
  const { client, session } = ctx.oidc;
  const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
  if (grantId) return ctx.oidc.provider.Grant.find(grantId);
  if (!firstParty.has(client.clientId)) return undefined;
  const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
  await grant.save();
  session.grantIdFor(client.clientId, grant.jti);
  return grant;
}

const provider = new Provider(config.issuer, {
  clients: config.clients.map(({ first_party: _fp, ...metadata }) => metadata),
  jwks: { keys: signingKeys() },
  findAccount,
  loadExistingGrant,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
  // Refresh tokens for any client allowed the grant (Frontdesk does not demand offline_access
  // + prompt=consent), rotated on every use like Frontdesk's.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  expiresWithSession: async () => false,
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    ClientCredentials: 3600,
    IdToken: 3600,
    RefreshToken: 30 * 86400,
    Interaction: 1800,
    Session: 7 * 86400,
    Grant: 30 * 86400,
  },
});

const csrfTokens = new Map(); // interaction uid -> csrf token (one per rendered form)

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; if (body.length > 65536) req.destroy(); });
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(body))));
    req.on('error', reject);
  });
}

function sendHtml(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}

function loginPage(uid, clientName, error) {
  const csrf = randomBytes(24).toString('base64url');
  csrfTokens.set(uid, csrf);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><main><h1>Sign in to ${escapeHtml(clientName)}</h1>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<input type="hidden" name="csrf_token" value="${csrf}">
<input type="hidden" name="interaction" value="${uid}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></main></body></html>`;
}

function csrfMatches(uid, presented) {
  const expected = csrfTokens.get(uid);
  csrfTokens.delete(uid);
  if (!expected || typeof presented !== 'string' || presented.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(presented));
}

async function showInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const client = await provider.Client.find(details.params.client_id);
  sendHtml(res, 200, loginPage(details.uid, client?.clientName || details.params.client_id));
}

async function submitLogin(req, res) {
  const details = await provider.interactionDetails(req, res);
  const form = await readForm(req);
  if (form.interaction !== details.uid || !csrfMatches(details.uid, form.csrf_token)) {
    sendHtml(res, 400, '<!doctype html><p>The form expired. Go back and try again.</p>');
    return;
  }
  const account = accountsByEmail.get(String(form.email || '').trim().toLowerCase());
  if (!account || account.password !== form.password) {
    sendHtml(res, 200, loginPage(details.uid, details.params.client_id, 'Wrong email or password.'));
    return;
  }
  const result = { login: { accountId: account.sub, amr: ['pwd'] } };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const handleProvider = provider.callback();

async function route(req, res) {
  const path = req.url.split('?')[0];
  const parts = path.split('/').filter(Boolean); // interaction, uid, [login]
  if (parts[0] !== 'interaction' || parts.length < 2) return handleProvider(req, res);
  try {
    if (req.method === 'GET' && parts.length === 2) return await showInteraction(req, res);
    if (req.method === 'POST' && parts[2] === 'login') return await submitLogin(req, res);
    sendHtml(res, 404, '<!doctype html><p>Not found</p>');
  } catch (err) {
    sendHtml(res, 400, `<!doctype html><p>${escapeHtml(err.message)}</p>`);
  }
  return undefined;
}

const server = createServer((req, res) => { route(req, res); });
server.keepAliveTimeout = 65000;
server.listen(config.port, '127.0.0.1', () => {
  process.stderr.write(`oidc-provider reference on ${config.issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
