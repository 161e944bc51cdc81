export { DpopTestKey, type DpopProofOptions } from './dpop-test-key.js';
export {
  VoxKeyTestRealm,
  signJws,
  type MintOptions,
  type TestRealmAlgorithm,
  type TestRealmOptions,
} from './test-realm.js';
