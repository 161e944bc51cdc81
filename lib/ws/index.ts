// `@voxkey/nestjs/ws`: the helpers that import @nestjs/platform-ws, kept out of the main entry
// so that applications without it still load the library.
export { VoxKeyWsAdapter, type VoxKeyWsAdapterOptions } from './voxkey-ws.adapter.js';
