// amazon-cognito-identity-js (unchanged but for the pool's `endpoint`) against a live
// Frontdesk server: SRP sign-in, attributes, a session refresh, a wrong password, and a
// TOTP user's totpRequired -> sendMFACode. Usage: node identity_js_flow.mjs <json>; prints
// one JSON object.
import identity from 'amazon-cognito-identity-js';

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = identity;
const args = JSON.parse(process.argv[2]);
const pool = new CognitoUserPool({
  UserPoolId: args.userPoolId, ClientId: args.clientId, endpoint: args.endpoint,
});

function authenticate(email, password, totpCode) {
  const user = new CognitoUser({ Username: email, Pool: pool });
  const details = new AuthenticationDetails({ Username: email, Password: password });
  return new Promise((resolve) => {
    user.authenticateUser(details, {
      onSuccess: (session) => resolve({ user, session }),
      onFailure: (error) => resolve({ error: error.code || error.name }),
      totpRequired: () => {
        user.sendMFACode(totpCode, {
          onSuccess: (session) => resolve({ user, session, totp: true }),
          onFailure: (error) => resolve({ error: error.code || error.name, totp: true }),
        }, 'SOFTWARE_TOKEN_MFA');
      },
    });
  });
}

const attributesOf = (user) => new Promise((resolve, reject) => {
  user.getUserAttributes((error, list) => (error ? reject(error) : resolve(
    Object.fromEntries(list.map((a) => [a.getName(), a.getValue()])))));
});

const refreshOf = (user, session) => new Promise((resolve, reject) => {
  user.refreshSession(session.getRefreshToken(), (error, renewed) => (
    error ? reject(error) : resolve(renewed)));
});

const wrong = await authenticate(args.email, `${args.password}-wrong`);
const signedIn = await authenticate(args.email, args.password);
const result = { wrongPassword: wrong.error };
if (signedIn.error) {
  result.error = signedIn.error;
} else {
  result.sub = signedIn.session.getIdToken().decodePayload().sub;
  result.attributes = await attributesOf(signedIn.user);
  const renewed = await refreshOf(signedIn.user, signedIn.session);
  result.refreshedSub = renewed.getIdToken().decodePayload().sub;
}
if (args.totpEmail) {
  const totp = await authenticate(args.totpEmail, args.password, args.totpCode);
  result.totp = totp.error ? { error: totp.error } : {
    asked: totp.totp === true, sub: totp.session.getIdToken().decodePayload().sub,
  };
}
console.log(JSON.stringify(result));
