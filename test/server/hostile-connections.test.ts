import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

/** A raw client: what was answered, and whether the server closed the connection. */
function rawClient(port: number, localAddress = '127.0.0.1') {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  let received = '';
  socket.on('data', (d: Buffer) => { received += d.toString('latin1'); });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, closed, connected, received: () => received };
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

// Reliability report F3 and F13, through a real socket.
describe('connections a hostile client holds open', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await testApp({ limits: { headersTimeoutMs: 400, requestTimeoutMs: 5000, bodyIdleTimeoutMs: 300, maxConnectionsPerAddress: 4 } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as net.AddressInfo).port;
  });
  afterAll(async () => t.close());

  it('answers a POST without a token 401 on its headers, and closes it without waiting for the body', async () => {
    const c = rawClient(port);
    await c.connected;
    c.socket.write('POST /api/v1/orgs/acme/flows HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{');
    await c.closed; // the server closes it: the body never comes
    expect(statusOf(c.received())).toBe(401);
    expect(bodyOf(c.received()).error.code).toBe('UNAUTHENTICATED');
  }, 20_000);

  it('cuts an authenticated body that stops flowing', async () => {
    const c = rawClient(port);
    await c.connected;
    c.socket.write(`POST /api/v1/orgs/acme/flows HTTP/1.1\r\nHost: x\r\n${`authorization: Bearer ${t.adminToken}`}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"name":`);
    await c.closed;
    expect(statusOf(c.received()) || 0).not.toBe(201);
    const flows = await t.app.inject({ url: '/api/v1/orgs/acme/flows', headers: bearer(t.adminToken) });
    expect(flows.json().items).toEqual([]);
  }, 20_000);

  it('answers headers that never finish 408, in the API error shape', async () => {
    const c = rawClient(port);
    await c.connected;
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nx-slow: ');
    await c.closed;
    expect(statusOf(c.received())).toBe(408);
    expect(bodyOf(c.received()).error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/not received in time/) });
  }, 20_000);

  it('answers oversized headers 431 in the API error shape', async () => {
    const c = rawClient(port);
    await c.connected;
    c.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    await c.closed;
    expect(statusOf(c.received())).toBe(431);
    expect(bodyOf(c.received()).error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.any(String) });
  }, 20_000);

  it('caps open connections per address, and serves other addresses meanwhile', async () => {
    const held = Array.from({ length: 4 }, () => rawClient(port, '127.0.0.2'));
    await Promise.all(held.map((h) => h.connected));
    const extra = rawClient(port, '127.0.0.2');
    await extra.closed;
    expect(statusOf(extra.received())).toBe(503);
    expect(bodyOf(extra.received()).error.code).toBe('UNAVAILABLE');
    const other = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(other.status).toBe(200);
    for (const h of held) h.socket.destroy();
  }, 20_000);
});

// Reliability report F10, F11, F12.
describe('JSON bodies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
    expect((await post('/flows', { name: 'f' })).statusCode).toBe(201);
    expect((await post('/flows/f/trails', { name: 't' })).statusCode).toBe(201);
  });
  afterAll(async () => t.close());
  const post = (url: string, payload: object | string) =>
    t.app.inject({ method: 'POST', url: `/api/v1/orgs/acme${url}`, headers: { ...bearer(t.adminToken), 'content-type': 'application/json' }, payload });
  const size = async () => t.log.size(await t.auth.org('acme'));

  it('refuses nesting deeper than the limit with 400, not 500, and logs nothing', async () => {
    const before = await size();
    for (const deep of ['['.repeat(5000) + ']'.repeat(5000), '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)]) {
      const res = await post('/flows/f/trails/t/attestations/generic', `{"name":"deep","compliant":true,"user_data":{"x":${deep}}}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toMatch(/nested deeper than 256/);
    }
    expect(await size()).toBe(before);
  });

  it('refuses wrong-typed fields instead of coercing them', async () => {
    const before = await size();
    for (const body of [{ name: 12345, compliant: true }, { name: 'a', compliant: 'false' }, { name: 'a', compliant: null }, { name: 'a', compliant: 1 }, { name: ['ta'], compliant: true }]) {
      const res = await post('/flows/f/trails/t/attestations/generic', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.details[0].path).toMatch(/^body\/(name|compliant)$/);
    }
    expect(await size()).toBe(before);
  });

  it('refuses integers JSON numbers cannot carry exactly, and keeps the safe ones', async () => {
    const before = await size();
    const res = await post('/flows/f/trails/t/attestations/generic', '{"name":"big","compliant":true,"user_data":{"n":9007199254740993}}');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/9007199254740993/);
    expect((await post('/flows/f/trails/t/attestations/generic', '{"name":"big","compliant":true,"user_data":{"n":-9.007199254740993e20}}')).statusCode).toBe(400);
    expect(await size()).toBe(before);
    const ok = await post('/flows/f/trails/t/attestations/generic', '{"name":"ok","compliant":true,"user_data":{"n":9007199254740991,"f":0.1,"s":"9007199254740993"}}');
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().user_data).toEqual({ n: 9007199254740991, f: 0.1, s: '9007199254740993' });
  });

  it('still coerces query strings, which are text on the wire', async () => {
    const res = await t.app.inject({ url: '/api/v1/orgs/acme/flows?limit=1', headers: bearer(t.adminToken) });
    expect(res.statusCode).toBe(200);
  });
});
