import { connect } from 'node:net';

/** Sends raw request bytes (e.g. duplicate headers) and resolves with the status code. */
export function rawRequest(
  port: number,
  head: string[],
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      text += chunk;
      if (/\r\n\r\n/.test(text)) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(text.split(' ')[1]), text }));
    socket.write([...head, 'Connection: close', '', ''].join('\r\n'));
  });
}

/** GET `path` with the same Bearer token in two `Authorization` fields, which clients cannot send. */
export function withTwoAuthorizationFields(
  port: number,
  token: string,
  path = '/open',
): Promise<{ status: number; text: string }> {
  return rawRequest(port, [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Authorization: Bearer ${token}`,
    `Authorization: Bearer ${token}`,
  ]);
}
