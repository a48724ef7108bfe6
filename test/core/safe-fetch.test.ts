/**
 * src/core/outbound/safe-fetch.ts: the one way Gatehouse makes requests to URLs that clients
 * chose (OWASP SSRF Prevention Cheat Sheet). Refusals happen before connecting, so the private
 * addresses below are never contacted; the only servers these tests talk to are on 127.0.0.1,
 * reached with outbound_allow_private_addresses (allowPrivateAddresses) set.
 *
 * Run: node --import tsx --test test/core/safe-fetch.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { refusedRange, safeFetch, staticRefusal, type Resolver } from '../../src/core/outbound/safe-fetch.js';
import { OutboundRequestFailed } from '../../src/core/errors.js';

const isFailure = (kind: OutboundRequestFailed['kind'], reason?: RegExp) => (error: unknown) =>
  error instanceof OutboundRequestFailed && error.kind === kind && (reason === undefined || reason.test(error.reason));

/** A resolver that must not be asked (the URL is an IP literal, or refusal came first). */
const noDns: Resolver = async (hostname) => assert.fail(`unexpected DNS lookup of ${hostname}`);

/** Each address is refused, as the range its pattern names. */
function assertRefusedAs(refused: Array<[RegExp, string[]]>): void {
  for (const [range, addresses] of refused) {
    for (const address of addresses) assert.match(refusedRange(address) ?? 'allowed', range, address);
  }
}

describe('OWASP SSRF Prevention: the address classifier', () => {
  it('refuses private, loopback, link-local (metadata), shared, reserved and multicast IPv4 addresses', () => {
    // The range each address is refused as, and the addresses (169.254.169.254, cloud metadata, and 10.0.0.1 are from the issue).
    const refused: Array<[RegExp, string[]]> = [
      [/link-local/, ['169.254.169.254']],
      [/private/, ['10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1']],
      [/loopback/, ['127.0.0.1', '127.255.255.254']],
      [/this network/, ['0.0.0.0', '0.1.2.3']],
      [/shared/, ['100.64.0.1', '100.127.255.255']],
      [/IETF/, ['192.0.0.8']],
      [/benchmarking/, ['198.18.0.1', '198.19.255.255']],
      [/multicast/, ['224.0.0.1', '239.255.255.250']],
      [/reserved/, ['240.0.0.1', '255.255.255.255']],
    ];
    assertRefusedAs(refused);
  });

  it('refuses the IPv6 equivalents, including IPv4-mapped and NAT64 forms of refused IPv4 addresses', () => {
    // ::ffff:a9fe:a9fe is ::ffff:169.254.169.254 in hex.
    const refused: Array<[RegExp, string[]]> = [
      [/unspecified/, ['::']],
      [/loopback/, ['::1', '0:0:0:0:0:0:0:1']],
      [/unique local/, ['fc00::1', 'fd12:3456::1']],
      [/link-local/, ['fe80::1', 'fe80::1%eth0', 'febf::1']],
      [/multicast/, ['ff02::1']],
      [/IPv4-mapped loopback/, ['::ffff:127.0.0.1']],
      [/IPv4-mapped link-local/, ['::ffff:a9fe:a9fe']],
      [/IPv4-mapped private/, ['::ffff:10.0.0.1']],
      [/NAT64 of private/, ['64:ff9b::10.0.0.1']],
      [/NAT64 of link-local/, ['64:ff9b::a9fe:a9fe']],
      [/IPv4-compatible/, ['::127.0.0.1']],
      [/6to4 of private/, ['2002:a00:1::1']],
      [/documentation/, ['2001:db8::1']],
    ];
    assertRefusedAs(refused);
  });

  it('allows ordinary public addresses', () => {
    for (const address of [
      '93.184.215.14',
      '8.8.8.8',
      '1.1.1.1',
      '172.32.0.1',
      '100.128.0.1',
      '169.255.0.1',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      '2002:808:808::1',
    ]) {
      assert.equal(refusedRange(address), null, address);
    }
  });

  it('odd IPv4 literals are read as the URL parser reads them (WHATWG URL): 127.1, 0x7f.1, 2130706433, 0177.0.0.1 are all 127.0.0.1', () => {
    for (const uri of [
      'http://127.1/',
      'http://0x7f.1/',
      'http://2130706433/',
      'http://0177.0.0.1/',
      'http://0x7f000001/',
      'https://0xa9.0xfe.0xa9.0xfe/',
      'https://[::ffff:7f00:1]/',
    ]) {
      const refusal = staticRefusal(new URL(uri));
      assert.match(refusal ?? 'allowed', /is (loopback|link-local|IPv4-mapped loopback)/, uri);
      assert.equal(staticRefusal(new URL(uri), { allowPrivateAddresses: true }), null, `${uri} when allowed`);
    }
  });

  it('the three URIs of the issue are refused before any lookup or connection', async () => {
    for (const uri of ['https://169.254.169.254/', 'https://10.0.0.1:6379/', 'http://127.1/']) {
      await assert.rejects(safeFetch(uri, { resolve: noDns }), isFailure('refused', /^address /), uri);
    }
  });

  it('only http and https, without user information', async () => {
    await assert.rejects(safeFetch('file:///etc/passwd'), isFailure('refused', /scheme file:/));
    await assert.rejects(safeFetch('https://user:pw@example.com/'), isFailure('refused', /user information/));
    await assert.rejects(safeFetch('not a url'), isFailure('refused', /absolute URL/));
  });
});

describe('OWASP SSRF Prevention: host names are checked by their resolved addresses', () => {
  it('a name resolving to 10.0.0.1 is refused before connecting (the injected resolver stands in for DNS)', async () => {
    const resolve: Resolver = async () => [{ address: '10.0.0.1', family: 4 }];
    await assert.rejects(
      safeFetch('https://rp.example/logout', { resolve }),
      isFailure('refused', /rp\.example resolves to 10\.0\.0\.1, private/),
    );
  });

  it('a name with one public and one metadata address is refused (whichever address a connection would pick)', async () => {
    const resolve: Resolver = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ];
    await assert.rejects(
      safeFetch('https://rp.example/logout', { resolve }),
      isFailure('refused', /169\.254\.169\.254, link-local/),
    );
  });

  it('a name resolving to an IPv4-mapped loopback address is refused', async () => {
    const resolve: Resolver = async () => [{ address: '::ffff:127.0.0.1', family: 6 }];
    await assert.rejects(
      safeFetch('https://rp.example/logout', { resolve }),
      isFailure('refused', /IPv4-mapped loopback/),
    );
  });

  it('a resolver failure is a network failure', async () => {
    const resolve: Resolver = async () => {
      throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    };
    await assert.rejects(safeFetch('https://rp.example/logout', { resolve }), isFailure('network', /ENOTFOUND/));
  });
});

describe('safeFetch against a local server (allowed loopback)', () => {
  let server: Server;
  let base: string;
  const hits: string[] = [];
  before(async () => {
    server = createServer((request, response) => {
      hits.push(request.url ?? '');
      if (request.url === '/ok') response.writeHead(200, { 'content-type': 'text/plain' }).end('fine');
      else if (request.url === '/redirect') response.writeHead(302, { location: '/ok' }).end();
      else if (request.url === '/big')
        response.writeHead(200, { 'content-length': '2048' }).end(Buffer.alloc(2048, 'x'));
      else if (request.url === '/big-chunked') {
        response.writeHead(200);
        for (let i = 0; i < 4; i++) response.write(Buffer.alloc(512, 'x'));
        response.end();
      } else if (request.url === '/slow') setTimeout(() => response.writeHead(200).end('late'), 2000).unref();
      else response.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  it('by default even a loopback server is not contacted', async () => {
    const before = hits.length;
    await assert.rejects(safeFetch(`${base}/ok`), isFailure('refused', /loopback/));
    assert.equal(hits.length, before);
  });

  it('when allowed, answers the status and body; a name is connected at the checked address', async () => {
    const response = await safeFetch(`${base}/ok`, { allowPrivateAddresses: true });
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), 'fine');
    assert.equal(response.address, '127.0.0.1');
    // The name resolves (by the injected resolver) to 127.0.0.1: that address is the one connected.
    const port = new URL(base).port;
    const named = await safeFetch(`http://rp.test:${port}/ok`, {
      allowPrivateAddresses: true,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    assert.equal(named.status, 200);
    assert.equal(named.address, '127.0.0.1');
  });

  it('a redirect is a failure and is not followed', async () => {
    const before = hits.length;
    await assert.rejects(
      safeFetch(`${base}/redirect`, { allowPrivateAddresses: true }),
      isFailure('redirect', /HTTP 302: redirects are not followed/),
    );
    assert.deepEqual(hits.slice(before), ['/redirect']);
  });

  it('a body over the limit fails, declared or streamed', async () => {
    await assert.rejects(
      safeFetch(`${base}/big`, { allowPrivateAddresses: true, maxResponseBytes: 1024 }),
      isFailure('too-large', /2048 bytes is over the limit of 1024/),
    );
    await assert.rejects(
      safeFetch(`${base}/big-chunked`, { allowPrivateAddresses: true, maxResponseBytes: 1024 }),
      isFailure('too-large', /over the limit of 1024 bytes/),
    );
    assert.equal(
      (await safeFetch(`${base}/big`, { allowPrivateAddresses: true, maxResponseBytes: 2048 })).body.length,
      2048,
    );
  });

  it('a slow server times out', async () => {
    const started = Date.now();
    await assert.rejects(
      safeFetch(`${base}/slow`, { allowPrivateAddresses: true, timeoutMs: 200 }),
      isFailure('timeout', /within 200 ms/),
    );
    assert.ok(Date.now() - started < 1500, `gave up after ${Date.now() - started} ms`);
  });

  it('an aborted signal ends the request as aborted', async () => {
    const controller = new AbortController();
    const pending = safeFetch(`${base}/slow`, { allowPrivateAddresses: true, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, isFailure('aborted'));
  });
});
