import type { Response } from 'supertest';

/**
 * Asserts a refusal as the library answers it: the status, the fixed JSON body (`statusCode`,
 * `error`, `message`) and, when given, the exact `WWW-Authenticate` challenge.
 */
export function expectRefusal(
  res: Response,
  status: number,
  error: string,
  message: string,
  challenge?: string,
): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ statusCode: status, error, message });
  if (challenge !== undefined) expect(res.headers['www-authenticate']).toBe(challenge);
}
