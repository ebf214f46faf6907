import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy, ManualClock } from '../../src/testing/index.js';
import { SluiceError } from '../../src/index.js';

/** An echo server: what a client sends comes back. */
let echo: Server;
let echoPort = 0;
beforeAll(async () => {
  echo = createServer((s) => {
    s.on('error', () => {}); // clients reset on purpose
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** The next `n` bytes the socket receives, or its error. */
function read(s: Socket, n: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (b: Buffer) => {
      got += b.toString();
      if (got.length >= n) {
        s.off('data', onData);
        resolve(got);
      }
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

function errorOf(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.once('close', () => resolve('closed'));
  });
}

describe('FaultProxy', () => {
  it('passes traffic through both ways', async () => {
    const proxy = await FaultProxy.start({ target: { port: echoPort } });
    const s = await connect(proxy.port);
    s.write('hello');
    expect(await read(s, 5)).toBe('hello');
    expect(proxy.stats.connections).toBe(1);
    expect(proxy.stats.bytes).toBe(10);
    s.destroy();
    await proxy.close();
  });

  it('delays every chunk by the latency, on its clock, keeping order', async () => {
    const clock = new ManualClock(0);
    const proxy = await FaultProxy.start({ target: { port: echoPort }, clock });
    const s = await connect(proxy.port);
    proxy.set({ latency: '1s' });
    let got = '';
    s.on('data', (b: Buffer) => (got += b.toString()));
    s.write('a');
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toBe('');
    clock.advance(1_000); // the way there
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toBe('');
    clock.advance(1_000); // and back
    await expect.poll(() => got).toBe('a');
    s.destroy();
    await proxy.close();
  });

  it('holds traffic while blackholed and lets it go, in order, once healed', async () => {
    const proxy = await FaultProxy.start({ target: { port: echoPort } });
    const s = await connect(proxy.port);
    proxy.set({ blackhole: true });
    let got = '';
    s.on('data', (b: Buffer) => (got += b.toString()));
    s.write('one,');
    s.write('two');
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toBe('');
    expect(proxy.stats.held).toBeGreaterThan(0);
    proxy.set('heal');
    await expect.poll(() => got).toBe('one,two');
    s.destroy();
    await proxy.close();
  });

  it('resets open connections', async () => {
    const proxy = await FaultProxy.start({ target: { port: echoPort } });
    const s = await connect(proxy.port);
    const err = errorOf(s);
    await expect.poll(() => proxy.openConnections).toBe(1);
    proxy.set('reset');
    expect(await err).toBe('ECONNRESET');
    expect(proxy.stats.cut).toBe(1);
    await proxy.close();
  });

  it('refuses new connections until healed, leaving open ones alone', async () => {
    const proxy = await FaultProxy.start({ target: { port: echoPort } });
    const open = await connect(proxy.port);
    proxy.set('refuse');
    await expect(connect(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    open.write('still');
    expect(await read(open, 5)).toBe('still');
    proxy.set('heal');
    const again = await connect(proxy.port);
    again.write('back');
    expect(await read(again, 4)).toBe('back');
    open.destroy();
    again.destroy();
    await proxy.close();
  });

  it('applies a schedule on its clock', async () => {
    const clock = new ManualClock(0);
    const proxy = await FaultProxy.start({ target: { port: echoPort }, clock });
    proxy.schedule([
      { after: '1s', fault: 'refuse' },
      { after: '2s', fault: 'heal' },
    ]);
    (await connect(proxy.port)).destroy();
    clock.advance(1_000);
    await expect(connect(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    clock.advance(1_000);
    (await connect(proxy.port)).destroy();
    await proxy.close();
  });

  it('refuses a target that is not a port', async () => {
    await expect(FaultProxy.start({ target: { port: 0 } })).rejects.toBeInstanceOf(SluiceError);
  });
});
