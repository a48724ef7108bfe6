/**
 * DPoP authorization code binding, RFC 9449 §10, on SQLite and PostgreSQL: `dpop_jkt` at the
 * authorization endpoint and in a pushed request, and a DPoP proof sent with the push (§10.1),
 * bind the code to a key; the code is then redeemed only with a proof of that key
 * (invalid_grant otherwise, the code staying redeemable). A full flow with oauth4webapi's DPoP
 * support passes dpop_jkt and a proof via PAR.
 *
 * Run: node scripts/run-tests.mjs test/dpop/dpop-code-binding
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from 'jose';
import * as oauth from 'oauth4webapi';
import { s256Challenge } from '../../src/core/pkce.js';
import type { RunningGatehouse } from '../../src/server.js';
import { ALICE, CONFIDENTIAL_CLIENT, STORE_TARGETS } from '../helpers/server.js';
import {
  assertTokenError,
  authorizeParams,
  authorizeUrl,
  newVerifier,
  postToken,
  type TokenResponse,
} from '../helpers/code-flow.js';
import { assertRedirectError } from '../helpers/authorization-pages.js';
import { decodeAccessToken, suiteServerOn } from '../helpers/interop-client.js';
import { pushAuthorizationRequest } from '../helpers/par.js';
import { dpopProof, proofKey, type ProofKey } from '../helpers/dpop-proofs.js';
import { UserAgent } from '../helpers/user-agent.js';
import { INSECURE, discoverOidc } from '../helpers/oauth4webapi-discovery.js';

const BASIC = { basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! } };
const REDIRECT_URI = CONFIDENTIAL_CLIENT.redirect_uris[0]!;

interface Obtained {
  code: string;
  verifier: string;
}

for (const target of STORE_TARGETS) {
  describe(`RFC 9449 §10: authorization codes bound to a DPoP key on ${target.name}`, () => {
    let gatehouse: RunningGatehouse;
    const { skipped } = suiteServerOn(target, { clients: [CONFIDENTIAL_CLIENT] }, async (started) => {
      gatehouse = started;
    });

    /** Signs ALICE in for the authorization request `params` (client_id given) and returns the code. */
    async function signIn(params: Record<string, string | undefined>): Promise<string> {
      const final = await new UserAgent(gatehouse.url).authorize(authorizeUrl(gatehouse, params), ALICE);
      assert.equal(final.status, 303, final.body.slice(0, 300));
      const code = new URL(final.location!).searchParams.get('code');
      assert.ok(code, final.location!);
      return code;
    }

    /** A code for the confidential client's request, PKCE S256, varied by `overrides`. */
    async function obtain(overrides: Record<string, string | undefined> = {}): Promise<Obtained> {
      const verifier = newVerifier();
      const code = await signIn(
        authorizeParams(CONFIDENTIAL_CLIENT, { code_challenge: s256Challenge(verifier), ...overrides }),
      );
      return { code, verifier };
    }

    /** Pushes the confidential client's request (PKCE S256, `overrides`) with `dpop` as DPoP header; then signs in. */
    async function obtainPushed(
      dpop: string | undefined,
      overrides: Record<string, string | undefined> = {},
    ): Promise<Obtained> {
      const verifier = newVerifier();
      const pushed = await push(dpop, { code_challenge: s256Challenge(verifier), ...overrides });
      assert.equal(pushed.status, 201, pushed.text);
      const code = await signIn({
        client_id: CONFIDENTIAL_CLIENT.client_id,
        request_uri: pushed.body['request_uri'] as string,
      });
      return { code, verifier };
    }

    function push(dpop: string | undefined, overrides: Record<string, string | undefined> = {}) {
      return pushAuthorizationRequest(gatehouse, authorizeParams(CONFIDENTIAL_CLIENT, overrides), {
        ...BASIC,
        ...(dpop !== undefined ? { headers: { dpop } } : {}),
      });
    }

    /** The token request for `obtained`, with a proof of `key` when given. */
    async function redeem(obtained: Obtained, key?: ProofKey): Promise<TokenResponse> {
      const headers: Record<string, string> =
        key === undefined ? {} : { dpop: await dpopProof(`${gatehouse.url}/token`, key) };
      return postToken(
        gatehouse,
        {
          grant_type: 'authorization_code',
          code: obtained.code,
          redirect_uri: REDIRECT_URI,
          code_verifier: obtained.verifier,
        },
        { ...BASIC, headers },
      );
    }

    /** invalid_grant for a bound code, and the code still redeemable by its key afterwards (then bound tokens). */
    async function assertBoundTo(obtained: Obtained, key: ProofKey): Promise<void> {
      const withoutProof = await redeem(obtained);
      assertTokenError(withoutProof, 400, 'invalid_grant');
      assert.match(String(withoutProof.body['error_description']), /bound to a DPoP key/);
      const otherKey = await redeem(obtained, await proofKey());
      assertTokenError(otherKey, 400, 'invalid_grant');
      assert.match(String(otherKey.body['error_description']), /differs from the dpop_jkt/);
      const bound = await redeem(obtained, key);
      assert.equal(bound.status, 200, bound.text);
      assert.equal(bound.body['token_type'], 'DPoP');
      assert.deepEqual(decodeAccessToken(bound.body['access_token'] as string)['cnf'], { jkt: key.jkt });
    }

    it('RFC 9449 §10: a code requested with dpop_jkt at /authorize is redeemed only with a proof of that key (invalid_grant without a proof or with another key)', async (t) => {
      if (skipped(t)) return;
      const key = await proofKey();
      await assertBoundTo(await obtain({ dpop_jkt: key.jkt }), key);
    });

    it('RFC 9449 §10: a code requested without dpop_jkt is redeemed with or without a proof (not bound)', async (t) => {
      if (skipped(t)) return;
      const bearer = await redeem(await obtain());
      assert.equal(bearer.status, 200, bearer.text);
      assert.equal(bearer.body['token_type'], 'Bearer');
      const dpop = await redeem(await obtain(), await proofKey());
      assert.equal(dpop.body['token_type'], 'DPoP');
    });

    it('RFC 9449 §10: a malformed dpop_jkt is invalid_request (redirected at /authorize, 400 at /par)', async (t) => {
      if (skipped(t)) return;
      const page = await fetch(authorizeUrl(gatehouse, authorizeParams(CONFIDENTIAL_CLIENT, { dpop_jkt: 'short' })), {
        redirect: 'manual',
      });
      assertRedirectError(
        {
          status: page.status,
          url: '',
          location: page.headers.get('location'),
          headers: page.headers,
          body: await page.text(),
        },
        gatehouse.url,
        REDIRECT_URI,
        'invalid_request',
        'xyz',
      );
      assertTokenError(await push(undefined, { dpop_jkt: 'not a thumbprint' }), 400, 'invalid_request');
    });

    it('RFC 9449 §10: dpop_jkt in a pushed request binds the code', async (t) => {
      if (skipped(t)) return;
      const key = await proofKey();
      await assertBoundTo(await obtainPushed(undefined, { dpop_jkt: key.jkt }), key);
    });

    it('RFC 9449 §10.1: a DPoP proof sent with the pushed request binds the code to its key', async (t) => {
      if (skipped(t)) return;
      const key = await proofKey();
      await assertBoundTo(await obtainPushed(await dpopProof(`${gatehouse.url}/par`, key)), key);
    });

    it('RFC 9449 §10.1: a DPoP proof and dpop_jkt of the same key at /par are accepted; of different keys, 400 invalid_dpop_proof', async (t) => {
      if (skipped(t)) return;
      const key = await proofKey();
      const other = await proofKey();
      const mismatch = await push(await dpopProof(`${gatehouse.url}/par`, key), { dpop_jkt: other.jkt });
      assertTokenError(mismatch, 400, 'invalid_dpop_proof');
      assert.match(String(mismatch.body['error_description']), /dpop_jkt differs/);
      await assertBoundTo(await obtainPushed(await dpopProof(`${gatehouse.url}/par`, key), { dpop_jkt: key.jkt }), key);
    });

    it('RFC 9449 §4.3, §10.1: an invalid DPoP proof at /par (htu of the token endpoint, or replayed) is 400 invalid_dpop_proof', async (t) => {
      if (skipped(t)) return;
      const key = await proofKey();
      assertTokenError(await push(await dpopProof(`${gatehouse.url}/token`, key)), 400, 'invalid_dpop_proof');
      const once = await dpopProof(`${gatehouse.url}/par`, key);
      assert.equal((await push(once)).status, 201);
      assertTokenError(await push(once), 400, 'invalid_dpop_proof');
    });

    it('RFC 9449 §10.1: oauth4webapi pushes with its DPoP handle and dpop_jkt, and redeems the code with the same handle; another key is invalid_grant', async (t) => {
      if (skipped(t)) return;
      const insecure = INSECURE;
      const as = await discoverOidc(gatehouse);
      const oauthClient: oauth.Client = { client_id: CONFIDENTIAL_CLIENT.client_id };
      const auth = oauth.ClientSecretBasic(CONFIDENTIAL_CLIENT.client_secret!);
      const DPoP = oauth.DPoP(oauthClient, await generateKeyPair('ES256'));
      const intruder = oauth.DPoP(oauthClient, await generateKeyPair('ES256'));
      const verifier = oauth.generateRandomCodeVerifier();
      const pushed = await oauth.processPushedAuthorizationResponse(
        as,
        oauthClient,
        await oauth.pushedAuthorizationRequest(
          as,
          oauthClient,
          auth,
          {
            response_type: 'code',
            redirect_uri: REDIRECT_URI,
            scope: 'openid',
            code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
            code_challenge_method: 'S256',
            dpop_jkt: await DPoP.calculateThumbprint(),
          },
          { DPoP, ...insecure },
        ),
      );
      const code = await signIn({ client_id: oauthClient.client_id, request_uri: pushed.request_uri });
      const callback = new URL(REDIRECT_URI);
      callback.searchParams.set('code', code);
      callback.searchParams.set('iss', gatehouse.url);
      const params = oauth.validateAuthResponse(as, oauthClient, callback, oauth.skipStateCheck);
      const redeemWith = async (handle: oauth.DPoPHandle) =>
        oauth.processAuthorizationCodeResponse(
          as,
          oauthClient,
          await oauth.authorizationCodeGrantRequest(as, oauthClient, auth, params, REDIRECT_URI, verifier, {
            DPoP: handle,
            ...insecure,
          }),
        );
      await assert.rejects(redeemWith(intruder), (error: unknown) => {
        assert.ok(error instanceof oauth.ResponseBodyError, String(error));
        assert.equal(error.error, 'invalid_grant');
        return true;
      });
      const tokens = await redeemWith(DPoP);
      assert.equal(tokens.token_type, 'dpop');
      assert.deepEqual(decodeAccessToken(tokens.access_token)['cnf'], { jkt: await DPoP.calculateThumbprint() });
    });
  });
}
