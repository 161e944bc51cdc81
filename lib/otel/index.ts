// `@voxkey/nestjs/otel`: OpenTelemetry metrics from the library's events, kept out of the main
// entry so that applications without @opentelemetry/api still load the library.
export {
  startVoxKeyMetrics,
  type VoxKeyMetrics,
  type VoxKeyMetricsOptions,
} from './voxkey-metrics.js';
