// The article's Amplify snippets, unchanged but for userPoolEndpoint, against a live
// Frontdesk server. Usage: node amplify_flow.mjs <step> <json arguments>; prints one JSON
// object. Steps: signup | confirm-and-sign-in | totp-sign-in.
import { Amplify } from 'aws-amplify';
import {
  confirmSignIn, confirmSignUp, fetchAuthSession, getCurrentUser, signIn, signOut, signUp,
} from 'aws-amplify/auth';

const [step, raw] = process.argv.slice(2);
const args = JSON.parse(raw);

Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: args.userPoolId,
      userPoolClientId: args.userPoolClientId,
      userPoolEndpoint: args.userPoolEndpoint,
    },
  },
});

async function signUpStep({ email, password, fullName }) {
  const { isSignUpComplete, userId, nextStep } = await signUp({
    username: email,
    password,
    options: { userAttributes: { email, name: fullName } },
  });
  return { isSignUpComplete, userId, nextStep: nextStep.signUpStep };
}

async function confirmAndSignIn({ email, password, code }) {
  await confirmSignUp({ username: email, confirmationCode: code });
  const { isSignedIn, nextStep } = await signIn({ username: email, password });
  const user = await getCurrentUser();
  const session = await fetchAuthSession();
  const refreshed = await fetchAuthSession({ forceRefresh: true });
  await signOut();
  let afterSignOut;
  try {
    await getCurrentUser();
    afterSignOut = 'still signed in';
  } catch (error) {
    afterSignOut = error.name;
  }
  return {
    isSignedIn,
    nextStep: nextStep.signInStep,
    username: user.username,
    userId: user.userId,
    loginId: user.signInDetails?.loginId,
    authFlowType: user.signInDetails?.authFlowType,
    idToken: session.tokens?.idToken?.toString(),
    accessToken: session.tokens?.accessToken?.toString(),
    refreshedIdToken: refreshed.tokens?.idToken?.toString(),
    afterSignOut,
  };
}

async function totpSignIn({ email, password, code, wrongCode }) {
  const result = await signIn({ username: email, password });
  const answer = { firstStep: result.nextStep.signInStep };
  if (result.nextStep.signInStep === 'CONFIRM_SIGN_IN_WITH_TOTP_CODE') {
    try {
      await confirmSignIn({ challengeResponse: wrongCode });
      answer.wrongCode = 'accepted';
    } catch (error) {
      answer.wrongCode = error.name;
    }
    const confirmed = await confirmSignIn({ challengeResponse: code });
    answer.isSignedIn = confirmed.isSignedIn;
    answer.username = (await getCurrentUser()).username;
    await signOut();
  }
  return answer;
}

const steps = { signup: signUpStep, 'confirm-and-sign-in': confirmAndSignIn,
  'totp-sign-in': totpSignIn };
try {
  console.log(JSON.stringify(await steps[step](args)));
} catch (error) {
  console.log(JSON.stringify({ error: error.name, message: error.message }));
  process.exitCode = 1;
}
