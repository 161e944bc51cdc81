export {
  VoxKeyTestRealm,
  signJws,
  type MintOptions,
  type TestRealmAlgorithm,
  type TestRealmOptions,
} from './test-realm.js';
