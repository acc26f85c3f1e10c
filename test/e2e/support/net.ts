// Loopback port checks for the bridge the extension runs inside VS Code.
import * as net from 'node:net';
import { waitUntil } from './util';

/** A port nothing listens on right now (the OS picks it), for the bridge's port setting. */
export { freePort } from '../../support/net';

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(2_000, () => done(false));
  });
}

/** Waits until the port is open (`state: 'open'`) or closed. */
export async function waitForPort(port: number, state: 'open' | 'closed', timeoutMs = 15_000): Promise<void> {
  await waitUntil(
    async () => (await isPortOpen(port)) === (state === 'open'),
    timeoutMs,
    () => `127.0.0.1:${port} did not become ${state}`,
    200,
  );
}
