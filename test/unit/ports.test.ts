// startOnFreePort: a port taken between its choice and the bind is chosen again; other failures are not retried.
// A sandbox whose port is taken fails its start.
import { createServer, type Server } from 'node:net';
import { startOnFreePort } from '../../infra/local/ports';
import { startSandboxServer } from '../../infra/sandbox/http';

function listen(port: number): Promise<Server> {
  return new Promise((resolveServer, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolveServer(server));
  });
}

describe('startOnFreePort', () => {
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((server) => new Promise((done) => server.close(done)))));

  it('chooses another port when the first one was taken before the bind', async () => {
    const tried: number[] = [];
    const server = await startOnFreePort(async (port) => {
      tried.push(port);
      // Another process takes the port first, as the Temporal dev server's own ports can.
      if (tried.length === 1) servers.push(await listen(port));
      return listen(port);
    });
    servers.push(server);
    expect(tried).toHaveLength(2);
    expect(server.address()).toMatchObject({ port: tried[1] });
  });

  it('does not retry a failure that is not a taken port', async () => {
    let calls = 0;
    await expect(
      startOnFreePort(async () => {
        calls += 1;
        throw new Error('initdb failed');
      }),
    ).rejects.toThrow('initdb failed');
    expect(calls).toBe(1);
  });

  it('gives up after the attempts it was given', async () => {
    let calls = 0;
    await expect(
      startOnFreePort(async () => {
        calls += 1;
        throw new Error('listen EADDRINUSE: address already in use');
      }, 2),
    ).rejects.toThrow('EADDRINUSE');
    expect(calls).toBe(2);
  });
});

describe('startSandboxServer', () => {
  it('fails, rather than waiting for ever, when its port is taken', async () => {
    const taken = await listen(0);
    const { port } = taken.address() as { port: number };
    try {
      await expect(startSandboxServer(() => undefined, port)).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise((done) => taken.close(done));
    }
  });
});
