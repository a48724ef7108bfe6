// A single-page app signing in with Gatehouse through oidc-client-ts: the authorization code flow
// with PKCE (S256, oidc-client-ts's default) and no secret. The same page serves /callback.
const { issuer, clientId } = window.gatehouseConfig;
const userManager = new oidc.UserManager({
  authority: issuer, // discovery: <issuer>/.well-known/openid-configuration
  client_id: clientId,
  redirect_uri: `${location.origin}/callback`,
  post_logout_redirect_uri: `${location.origin}/`,
  scope: 'openid profile email offline_access',
  loadUserInfo: true, // GET /userinfo with the access token, besides the ID token's claims
  // Tokens in sessionStorage: gone with the tab. Never put them in a cookie the server reads.
  userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage }),
});

const status = document.getElementById('status');
const signIn = document.getElementById('sign-in');
const signOut = document.getElementById('sign-out');
signIn.onclick = () => userManager.signinRedirect(); // front channel: to Gatehouse's login page
signOut.onclick = () => userManager.signoutRedirect(); // RP-Initiated Logout, back to post_logout_redirect_uri

async function main() {
  if (location.pathname === '/callback') {
    // Checks state, exchanges the code with the PKCE verifier (back channel), validates the ID token.
    await userManager.signinRedirectCallback();
    history.replaceState(null, '', '/');
  }
  const user = await userManager.getUser();
  status.textContent = user ? `Signed in as ${user.profile.name} (${user.profile.email})` : 'Signed out';
  signIn.hidden = Boolean(user);
  signOut.hidden = !user;
  // Calls to your API: fetch(url, { headers: { Authorization: `Bearer ${user.access_token}` } }).
}

main().catch((error) => {
  status.textContent = `Sign-in failed: ${error.message}`;
});
