import type { Meter } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';

/** An in-memory reader: `collect()` returns what the SDK aggregated so far. */
class MemoryReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One data point: the metric's name, its attributes, and its value (a sum, or a histogram's count). */
export interface Point {
  name: string;
  attributes: Record<string, unknown>;
  value: number;
}

/** A meter of the real OpenTelemetry SDK, read in memory. */
export interface MemoryMeter {
  meter: Meter;
  points(): Promise<Point[]>;
  shutdown(): Promise<void>;
}

/** A meter provider of the real OpenTelemetry SDK, read in memory. */
export function memoryMeter(): MemoryMeter {
  const reader = new MemoryReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    meter: provider.getMeter('test'),
    async points(): Promise<Point[]> {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.flatMap((metric) =>
          metric.dataPoints.map((point) => ({
            name: metric.descriptor.name,
            attributes: { ...point.attributes },
            value:
              typeof point.value === 'number'
                ? point.value
                : (point.value as { count: number }).count,
          })),
        ),
      );
    },
    shutdown: () => provider.shutdown(),
  };
}
