import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateClientMetadata } from '../../src/core/registration/client-metadata.js';
import { verifyClientSecret } from '../../src/core/secrets.js';
import { clientFixtureOf } from '../../src/config/client-fixture.js';
import { ClientMetadataError } from '../../src/core/errors.js';
import { clientToMetadata, registerClient } from '../../src/core/registration/client-registration.js';

const NOW = 1_700_000_000_000;
const WEB = { redirect_uris: ['https://app.example.com/callback'] };
const NATIVE = { token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/callback'] };

function register(metadata: unknown, generateSecret = true) {
  return registerClient(metadata, { generateSecret, now: NOW });
}

/** Asserts that validating `metadata` fails on `field` with a message matching `message`. */
function assertRefused(metadata: unknown, field: string, message?: RegExp): void {
  assert.throws(
    () => validateClientMetadata(metadata),
    (error: unknown) => {
      assert.ok(error instanceof ClientMetadataError, `expected ClientMetadataError, got ${String(error)}`);
      assert.equal(error.field, field);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

describe('registerClient: defaults (RFC 7591 §2)', () => {
  test('applies the defaults to minimal metadata', async () => {
    const { client, clientSecret } = await register(WEB);
    assert.equal(client.tokenEndpointAuthMethod, 'client_secret_basic');
    assert.deepEqual(client.grantTypes, ['authorization_code', 'refresh_token']);
    assert.deepEqual(client.responseTypes, ['code']);
    assert.equal(client.scope, 'openid profile email offline_access');
    assert.equal(client.requirePkce, true);
    assert.equal(client.clientName, null);
    assert.equal(client.createdAt, NOW);
    assert.deepEqual(client.redirectUris, ['https://app.example.com/callback']);
    assert.ok(clientSecret);
  });

  test('generates a random URL-safe client_id of about 22 characters when absent', async () => {
    const first = (await register(WEB)).client.clientId;
    const second = (await register(WEB)).client.clientId;
    assert.match(first, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(first, second);
  });

  test('keeps a given client_id and client_name', async () => {
    const { client } = await register({ ...WEB, client_id: 'my-app', client_name: 'My App' });
    assert.equal(client.clientId, 'my-app');
    assert.equal(client.clientName, 'My App');
  });

  test('refuses metadata that is not an object', () => {
    assertRefused('nope', '');
    assertRefused(null, '');
    assertRefused([], '');
  });

  test('RFC 7591 §2: ignores unknown metadata names', async () => {
    const { client } = await register({ ...WEB, logo_uri: 'https://app.example.com/logo.png' });
    assert.deepEqual(client.redirectUris, WEB.redirect_uris);
  });

  test('refuses wrong types, naming the field', () => {
    assertRefused({ ...WEB, client_name: 42 }, 'client_name', /string/);
    assertRefused({ redirect_uris: 'https://app.example.com/cb' }, 'redirect_uris', /array/);
    assertRefused({ redirect_uris: ['https://app.example.com/cb', 7] }, 'redirect_uris[1]', /string/);
    assertRefused({ ...WEB, require_pkce: 'yes' }, 'require_pkce', /boolean/);
    assertRefused({ ...WEB, client_id: '' }, 'client_id');
    assertRefused({ ...WEB, client_id: 'caf\u00e9' }, 'client_id', /RFC 6749 Appendix A\.1/);
  });
});

describe('registerClient: client authentication and secrets', () => {
  test('RFC 6749 §2.3.1: a confidential client gets a generated 256-bit secret, stored as a hash', async () => {
    const { client, clientSecret } = await register(WEB);
    assert.ok(clientSecret);
    assert.equal(Buffer.from(clientSecret, 'base64url').length, 32);
    assert.ok(client.clientSecretHash);
    assert.ok(!client.clientSecretHash.includes(clientSecret));
    assert.ok(await verifyClientSecret(client.clientSecretHash, clientSecret));
    assert.ok(!(await verifyClientSecret(client.clientSecretHash, `${clientSecret}x`)));
  });

  test('a given client_secret is stored as argon2id and not returned', async () => {
    const { client, clientSecret } = await register({ ...WEB, client_secret: 'correct horse battery staple' });
    assert.equal(clientSecret, null);
    assert.match(client.clientSecretHash ?? '', /^\$argon2id\$/);
    assert.ok(await verifyClientSecret(client.clientSecretHash ?? '', 'correct horse battery staple'));
  });

  test('without generateSecret a confidential client without client_secret has no secret hash', async () => {
    const { client, clientSecret } = await register(WEB, false);
    assert.equal(client.clientSecretHash, null);
    assert.equal(clientSecret, null);
  });

  test('accepts client_secret_post', async () => {
    const { client } = await register({ ...WEB, token_endpoint_auth_method: 'client_secret_post' });
    assert.equal(client.tokenEndpointAuthMethod, 'client_secret_post');
  });

  test('refuses an unsupported token_endpoint_auth_method', () => {
    assertRefused(
      { ...WEB, token_endpoint_auth_method: 'tls_client_auth' },
      'token_endpoint_auth_method',
      /not supported/,
    );
  });

  test('RFC 6749 §2.1: a public client (auth method none) gets no secret', async () => {
    const { client, clientSecret } = await register(NATIVE);
    assert.equal(client.tokenEndpointAuthMethod, 'none');
    assert.equal(client.clientSecretHash, null);
    assert.equal(clientSecret, null);
  });

  test('RFC 6749 §2.1: refuses a client_secret for a public client', () => {
    assertRefused({ ...NATIVE, client_secret: 'shh-this-is-secret' }, 'client_secret', /public client/);
  });
});

describe('registerClient: grant types and response types', () => {
  test('accepts a subset of authorization_code, refresh_token, client_credentials', async () => {
    const { client } = await register({ ...WEB, grant_types: ['authorization_code'] });
    assert.deepEqual(client.grantTypes, ['authorization_code']);
  });

  test('RFC 9700 §2.1.2: refuses the implicit grant', () => {
    assertRefused({ ...WEB, grant_types: ['authorization_code', 'implicit'] }, 'grant_types[1]', /RFC 9700 §2\.1\.2/);
  });

  test('RFC 9700 §2.4: refuses the resource owner password credentials grant', () => {
    assertRefused({ ...WEB, grant_types: ['password'] }, 'grant_types[0]', /RFC 9700 §2\.4/);
  });

  test('refuses an unknown grant type and an empty list', () => {
    assertRefused(
      { ...WEB, grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'] },
      'grant_types[0]',
      /not supported/,
    );
    assertRefused({ ...WEB, grant_types: [] }, 'grant_types');
  });

  test('RFC 6749 §4.4: refuses client_credentials for a public client', () => {
    assertRefused(
      { ...NATIVE, grant_types: ['authorization_code', 'client_credentials'] },
      'grant_types[1]',
      /RFC 6749 §4\.4/,
    );
  });

  test('RFC 6749 §4.4: a client_credentials-only client needs no redirect URI and has no response types', async () => {
    const { client, clientSecret } = await register({ grant_types: ['client_credentials'] });
    assert.deepEqual(client.grantTypes, ['client_credentials']);
    assert.deepEqual(client.responseTypes, []);
    assert.deepEqual(client.redirectUris, []);
    assert.ok(clientSecret);
    await register({ grant_types: ['client_credentials'], response_types: [] });
  });

  test('RFC 8628 §3.4: a device client (public) needs no redirect URI, has no response types, and may refresh', async () => {
    const grantTypes = ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'];
    const { client, clientSecret } = await register({ grant_types: grantTypes, token_endpoint_auth_method: 'none' });
    assert.deepEqual(client.grantTypes, grantTypes);
    assert.deepEqual(client.responseTypes, []);
    assert.deepEqual(client.redirectUris, []);
    assert.equal(clientSecret, null);
  });

  test('RFC 7591 §2.1: refuses response_types for a client_credentials-only client', () => {
    assertRefused(
      { grant_types: ['client_credentials'], response_types: ['code'] },
      'response_types',
      /RFC 7591 §2\.1/,
    );
  });

  test('RFC 6749 §4.4.3: refuses refresh_token without authorization_code', () => {
    assertRefused({ grant_types: ['client_credentials', 'refresh_token'] }, 'grant_types', /RFC 6749 §4\.4\.3/);
  });

  test('RFC 9700 §2.1.2: refuses response type "token"', () => {
    assertRefused({ ...WEB, response_types: ['token'] }, 'response_types[0]', /RFC 9700 §2\.1\.2/);
  });

  test('only the response type "code" is supported', () => {
    assertRefused({ ...WEB, response_types: ['code id_token'] }, 'response_types[0]', /not supported/);
    assertRefused({ ...WEB, response_types: [] }, 'response_types', /\["code"\]/);
  });
});

describe('registerClient: redirect URIs', () => {
  test('RFC 6749 §3.1.2.2: refuses an authorization_code client without redirect URIs', () => {
    assertRefused({}, 'redirect_uris', /at least one/);
    assertRefused({ redirect_uris: [] }, 'redirect_uris', /at least one/);
  });

  test('refuses redirect URIs for a client without authorization_code', () => {
    assertRefused({ grant_types: ['client_credentials'], redirect_uris: ['https://a.example/cb'] }, 'redirect_uris');
  });

  test('RFC 6749 §3.1.2: refuses a relative redirect URI', () => {
    assertRefused({ redirect_uris: ['/callback'] }, 'redirect_uris[0]', /absolute/);
    assertRefused({ redirect_uris: ['//app.example.com/callback'] }, 'redirect_uris[0]', /absolute/);
  });

  test('RFC 6749 §3.1.2: refuses a redirect URI with a fragment', () => {
    assertRefused({ redirect_uris: ['https://app.example.com/cb#x'] }, 'redirect_uris[0]', /fragment/);
    assertRefused({ redirect_uris: ['https://app.example.com/cb#'] }, 'redirect_uris[0]', /fragment/);
  });

  test('RFC 6749 §3.1.2: accepts https on any host, with a query and a port', async () => {
    const uris = ['https://app.example.com/cb', 'https://app.example.com:8443/cb?tenant=a'];
    const { client } = await register({ redirect_uris: uris });
    assert.deepEqual(client.redirectUris, uris);
  });

  test('redirect URIs are stored exactly as registered (RFC 9700 §4.1.3 exact matching)', async () => {
    const { client } = await register({ redirect_uris: ['https://App.Example.com/a/../cb'] });
    assert.deepEqual(client.redirectUris, ['https://App.Example.com/a/../cb']);
  });

  test('refuses whitespace, user information and a missing host', () => {
    assertRefused({ redirect_uris: [' https://app.example.com/cb'] }, 'redirect_uris[0]');
    assertRefused(
      { redirect_uris: ['https://trusted.example@evil.example/cb'] },
      'redirect_uris[0]',
      /user information/,
    );
    assertRefused({ redirect_uris: ['https:app.example.com/cb'] }, 'redirect_uris[0]');
  });

  test('RFC 8252 §7.3: accepts http on loopback hosts localhost, 127.0.0.1 and [::1]', async () => {
    const uris = ['http://localhost:3000/cb', 'http://127.0.0.1/cb', 'http://[::1]:8080/cb'];
    const { client } = await register({ ...NATIVE, redirect_uris: uris });
    assert.deepEqual(client.redirectUris, uris);
    // Also for confidential clients in development.
    await register({ redirect_uris: ['http://localhost:3000/cb'] });
  });

  test('RFC 9700 §2.1: refuses http on a non-loopback host', () => {
    assertRefused({ redirect_uris: ['http://app.example.com/cb'] }, 'redirect_uris[0]', /RFC 9700 §2\.1/);
    assertRefused({ redirect_uris: ['http://localhost.evil.example/cb'] }, 'redirect_uris[0]', /loopback/);
    assertRefused({ redirect_uris: ['http://10.0.0.1/cb'] }, 'redirect_uris[0]', /loopback/);
  });

  test('RFC 8252 §7.1: accepts a private-use scheme redirect URI for a public client', async () => {
    const { client } = await register({ ...NATIVE, redirect_uris: ['com.example.app:/oauth2redirect'] });
    assert.deepEqual(client.redirectUris, ['com.example.app:/oauth2redirect']);
  });

  test('RFC 8252 §7.1: refuses a private-use scheme redirect URI for a confidential client', () => {
    assertRefused({ redirect_uris: ['com.example.app:/oauth2redirect'] }, 'redirect_uris[0]', /RFC 8252 §7\.1/);
  });

  test('refuses other schemes, even for public clients', () => {
    for (const uri of [
      'javascript:alert(1)',
      'data:text/html,hi',
      'file:///etc/passwd',
      'myapp:/cb',
      'ftp://example.com/cb',
    ]) {
      assertRefused({ ...NATIVE, redirect_uris: [uri] }, 'redirect_uris[0]');
    }
  });

  test('removes duplicate redirect URIs', async () => {
    const { client } = await register({ redirect_uris: ['https://a.example/cb', 'https://a.example/cb'] });
    assert.deepEqual(client.redirectUris, ['https://a.example/cb']);
  });
});

describe('registerClient: scope (RFC 6749 §3.3)', () => {
  test('accepts space-separated scope tokens', async () => {
    const { client } = await register({ ...WEB, scope: 'openid api:read urn:example:write' });
    assert.equal(client.scope, 'openid api:read urn:example:write');
  });

  test('RFC 6749 §3.3: refuses scope tokens with characters outside %x21 / %x23-5B / %x5D-7E', () => {
    assertRefused({ ...WEB, scope: 'openid "quoted"' }, 'scope', /RFC 6749 §3\.3/);
    assertRefused({ ...WEB, scope: 'openid back\\slash' }, 'scope', /RFC 6749 §3\.3/);
    assertRefused({ ...WEB, scope: 'openid\tprofile' }, 'scope', /RFC 6749 §3\.3/);
    assertRefused({ ...WEB, scope: 'openid caf\u00e9' }, 'scope', /RFC 6749 §3\.3/);
  });

  test('refuses an empty scope and a non-string scope', () => {
    assertRefused({ ...WEB, scope: '   ' }, 'scope');
    assertRefused({ ...WEB, scope: ['openid'] }, 'scope', /string/);
  });
});

describe('registerClient: PKCE (RFC 9700 §2.1.1)', () => {
  test('RFC 9700 §2.1.1: PKCE is required by default', async () => {
    assert.equal((await register(WEB)).client.requirePkce, true);
    assert.equal((await register(NATIVE)).client.requirePkce, true);
  });

  test('RFC 9700 §2.1.1: a confidential client may opt out of PKCE', async () => {
    const { client } = await register({ ...WEB, require_pkce: false });
    assert.equal(client.requirePkce, false);
  });

  test('RFC 9700 §2.1.1: refuses require_pkce false for a public client', () => {
    assertRefused({ ...NATIVE, require_pkce: false }, 'require_pkce', /RFC 9700 §2\.1\.1/);
  });
});

describe('clientToMetadata', () => {
  test('shows RFC 7591 names and never the secret or its hash', async () => {
    const { client, clientSecret } = await register({ ...WEB, client_id: 'web', client_name: 'Web' });
    const view = clientToMetadata(client);
    assert.deepEqual(view, {
      client_id: 'web',
      client_name: 'Web',
      client_type: 'confidential',
      redirect_uris: WEB.redirect_uris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email offline_access',
      require_pkce: true,
      subject_type: 'public',
      client_id_issued_at: NOW / 1000,
    });
    const text = JSON.stringify(view);
    assert.ok(!text.includes(clientSecret ?? '?'));
    assert.ok(!text.includes(client.clientSecretHash ?? '?'));
  });
});

describe('logout metadata (OpenID Connect RP-Initiated Logout 1.0 §3.1, Back-Channel Logout 1.0 §2.2)', () => {
  test('defaults: no post-logout redirect URIs, no back-channel logout; clientToMetadata leaves them out', async () => {
    const { client } = await register(WEB);
    assert.deepEqual(client.postLogoutRedirectUris, []);
    assert.equal(client.backchannelLogoutUri, null);
    assert.equal(client.backchannelLogoutSessionRequired, false);
    const view = clientToMetadata(client);
    assert.ok(!('post_logout_redirect_uris' in view) && !('backchannel_logout_uri' in view));
  });

  test('registers post_logout_redirect_uris, backchannel_logout_uri and backchannel_logout_session_required', async () => {
    const { client } = await register({
      ...WEB,
      post_logout_redirect_uris: [
        'https://app.example.com/signed-out',
        'https://app.example.com/signed-out',
        'http://localhost:3000/bye',
      ],
      backchannel_logout_uri: 'https://app.example.com/backchannel-logout?tenant=1',
      backchannel_logout_session_required: true,
    });
    assert.deepEqual(client.postLogoutRedirectUris, [
      'https://app.example.com/signed-out',
      'http://localhost:3000/bye',
    ]);
    assert.equal(client.backchannelLogoutUri, 'https://app.example.com/backchannel-logout?tenant=1');
    assert.equal(client.backchannelLogoutSessionRequired, true);
    const view = clientToMetadata(client);
    assert.deepEqual(view.post_logout_redirect_uris, client.postLogoutRedirectUris);
    assert.equal(view.backchannel_logout_uri, client.backchannelLogoutUri);
    assert.equal(view.backchannel_logout_session_required, true);
  });

  test('post_logout_redirect_uris follow the redirect URI rules', async () => {
    assertRefused(
      { ...WEB, post_logout_redirect_uris: ['http://app.example.com/bye'] },
      'post_logout_redirect_uris[0]',
      /loopback/,
    );
    assertRefused(
      { ...WEB, post_logout_redirect_uris: ['https://app.example.com/bye#x'] },
      'post_logout_redirect_uris[0]',
      /fragment/,
    );
    assertRefused(
      { ...WEB, post_logout_redirect_uris: ['https://ok.example/', 'com.example.app:/bye'] },
      'post_logout_redirect_uris[1]',
      /private-use/,
    );
    assertRefused(
      { ...WEB, post_logout_redirect_uris: 'https://app.example.com/bye' },
      'post_logout_redirect_uris',
      /array/,
    );
    const { client } = await register({ ...NATIVE, post_logout_redirect_uris: ['com.example.app:/signed-out'] });
    assert.deepEqual(client.postLogoutRedirectUris, ['com.example.app:/signed-out']);
  });

  test('backchannel_logout_uri: https, or http only on a loopback host; no fragment, no user information', async () => {
    for (const uri of [
      'http://app.example.com/logout',
      'ftp://app.example.com/logout',
      'com.example.app:/logout',
      'not a url',
    ]) {
      assertRefused({ ...WEB, backchannel_logout_uri: uri }, 'backchannel_logout_uri');
    }
    assertRefused(
      { ...WEB, backchannel_logout_uri: 'https://app.example.com/logout#x' },
      'backchannel_logout_uri',
      /fragment/,
    );
    assertRefused(
      { ...WEB, backchannel_logout_uri: 'https://user:pw@app.example.com/logout' },
      'backchannel_logout_uri',
      /user information/,
    );
    for (const uri of ['http://127.0.0.1:8080/logout', 'http://localhost/logout', 'http://[::1]:9/logout']) {
      // Loopback IP literals need outbound_allow_private_addresses (see the OWASP SSRF test below).
      const outbound = { allowPrivateAddresses: true };
      assert.equal(
        (await registerClient({ ...WEB, backchannel_logout_uri: uri }, { generateSecret: true, now: NOW, outbound }))
          .client.backchannelLogoutUri,
        uri,
      );
    }
  });

  test('OWASP SSRF Prevention: a backchannel_logout_uri naming a private, loopback or link-local IP literal is refused unless outbound_allow_private_addresses', async () => {
    const internal = [
      'https://169.254.169.254/',
      'https://10.0.0.1:6379/',
      'http://127.1/',
      'http://127.0.0.1:8080/logout',
      'http://[::1]:9/logout',
      'https://0x7f.1/logout',
      'https://2130706433/logout',
      'https://192.168.0.10/logout',
      'https://[::ffff:10.0.0.1]/logout',
      'https://[fd00::1]/logout',
      'https://[fe80::1]/logout',
    ];
    for (const uri of internal) {
      assertRefused(
        { ...WEB, backchannel_logout_uri: uri },
        'backchannel_logout_uri',
        /is refused: address .* outbound_allow_private_addresses/,
      );
      const allowed = validateClientMetadata({ ...WEB, backchannel_logout_uri: uri }, { allowPrivateAddresses: true });
      assert.equal(allowed.backchannel_logout_uri, uri);
    }
    // A public address, and a name (checked when the request is made), are accepted.
    for (const uri of ['https://93.184.215.14/logout', 'https://app.example.com/logout', 'http://localhost/logout']) {
      assert.equal((await register({ ...WEB, backchannel_logout_uri: uri })).client.backchannelLogoutUri, uri);
    }
  });

  test('backchannel_logout_session_required is a boolean and needs a backchannel_logout_uri', () => {
    assertRefused(
      { ...WEB, backchannel_logout_uri: 'https://app.example.com/logout', backchannel_logout_session_required: 'yes' },
      'backchannel_logout_session_required',
      /boolean/,
    );
    assertRefused(
      { ...WEB, backchannel_logout_session_required: true },
      'backchannel_logout_session_required',
      /backchannel_logout_uri/,
    );
  });

  test('only clients that sign users in (authorization_code) may register them', () => {
    const machine = { grant_types: ['client_credentials'] };
    assertRefused(
      { ...machine, post_logout_redirect_uris: ['https://app.example.com/bye'] },
      'post_logout_redirect_uris',
    );
    assertRefused({ ...machine, backchannel_logout_uri: 'https://app.example.com/logout' }, 'backchannel_logout_uri');
  });
});

describe('config file clients: the fixture derived from validated metadata (src/config/client-fixture.ts)', () => {
  const outbound = { allowPrivateAddresses: false };
  test('a minimal client: the fields validation always yields, nothing else', () => {
    const validated = validateClientMetadata(
      { client_id: 'a', client_secret: 's', redirect_uris: ['https://a.example/cb'] },
      outbound,
    );
    assert.deepEqual(clientFixtureOf({ ...validated, client_id: 'a' }), {
      client_id: 'a',
      client_secret: 's',
      redirect_uris: ['https://a.example/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: validated.scope,
      require_pkce: true,
    });
  });

  test('optional fields appear when set; defaults (public subject, no logout URIs, session_required without a URI) stay out', () => {
    const validated = validateClientMetadata(
      {
        client_id: 'b',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['https://b.example/cb'],
        client_name: 'B',
        id_token_signed_response_alg: 'ES256',
        id_token_claims: false,
        subject_type: 'pairwise',
        post_logout_redirect_uris: ['https://b.example/bye'],
        backchannel_logout_uri: 'https://b.example/logout',
        backchannel_logout_session_required: true,
      },
      outbound,
    );
    const fixture = clientFixtureOf({ ...validated, client_id: 'b' });
    assert.equal(fixture.client_name, 'B');
    assert.equal(fixture.id_token_signed_response_alg, 'ES256');
    assert.equal(fixture.id_token_claims, false);
    assert.equal(fixture.subject_type, 'pairwise');
    assert.deepEqual(fixture.post_logout_redirect_uris, ['https://b.example/bye']);
    assert.equal(fixture.backchannel_logout_uri, 'https://b.example/logout');
    assert.equal(fixture.backchannel_logout_session_required, true);
    assert.equal('client_secret' in fixture, false);
    const plain = clientFixtureOf({
      ...validateClientMetadata(
        {
          client_id: 'c',
          token_endpoint_auth_method: 'none',
          redirect_uris: ['https://c.example/cb'],
          subject_type: 'public',
        },
        outbound,
      ),
      client_id: 'c',
    });
    for (const field of [
      'subject_type',
      'post_logout_redirect_uris',
      'backchannel_logout_uri',
      'backchannel_logout_session_required',
      'client_name',
      'id_token_claims',
    ]) {
      assert.equal(field in plain, false, field);
    }
  });
});

describe('registerClient: require_pushed_authorization_requests (RFC 9126 §6)', () => {
  test('RFC 9126 §6: defaults to false, is stored when true, and shown (and kept in fixtures) only when true', async () => {
    const plain = await register(WEB);
    assert.equal(plain.client.requirePushedAuthorizationRequests, false);
    assert.equal(clientToMetadata(plain.client).require_pushed_authorization_requests, undefined);
    assert.equal(
      clientFixtureOf({ ...validateClientMetadata({ ...WEB, client_id: 'a' }), client_id: 'a' })
        .require_pushed_authorization_requests,
      undefined,
    );
    const required = await register({ ...WEB, require_pushed_authorization_requests: true });
    assert.equal(required.client.requirePushedAuthorizationRequests, true);
    assert.equal(clientToMetadata(required.client).require_pushed_authorization_requests, true);
    const fixture = clientFixtureOf({
      ...validateClientMetadata({ ...WEB, client_id: 'b', require_pushed_authorization_requests: true }),
      client_id: 'b',
    });
    assert.equal(fixture.require_pushed_authorization_requests, true);
  });

  test('RFC 9126 §6: must be a boolean, and only for clients using the authorization code grant', () => {
    assertRefused(
      { ...WEB, require_pushed_authorization_requests: 'yes' },
      'require_pushed_authorization_requests',
      /boolean/,
    );
    assertRefused(
      { grant_types: ['client_credentials'], require_pushed_authorization_requests: true },
      'require_pushed_authorization_requests',
      /authorization_code/,
    );
  });
});
