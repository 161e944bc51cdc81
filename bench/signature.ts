// Run by run.ts between rounds, in a process of its own: what one signature check costs on this
// machine now. One synchronous one-shot RS256 `crypto.verify` of the token in BENCH_SIG_TOKEN
// (already split) with the public JWK in BENCH_SIG_JWK imported once as a KeyObject; CPU time
// per check over bounded loops. Prints one JSON line: `{ "cpuUs": [per-loop µs per check] }`.
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { signatureCheck, timeSync } from './jws';

const LOOPS = 5;
const LOOP_MS = 100;

const key = createPublicKey({
  key: JSON.parse(process.env.BENCH_SIG_JWK ?? '') as JsonWebKey,
  format: 'jwk',
});
const check = signatureCheck(process.env.BENCH_SIG_TOKEN ?? '', 'RS256', key);
timeSync(check, LOOP_MS); // warm-up: compiled code, caches
const cpuUs = Array.from({ length: LOOPS }, () => timeSync(check, LOOP_MS).cpuUs);
console.log(JSON.stringify({ cpuUs }));
