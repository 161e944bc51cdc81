import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every line, at every level, so tests can inspect them. */
export class CaptureLogger implements LoggerService {
  readonly lines: string[] = [];
  private push(level: string, message: unknown, rest: unknown[]): void {
    this.lines.push(
      `${level} ${[message, ...rest].map((part) => (part instanceof Error ? `${part.message} ${part.stack}` : String(part))).join(' ')}`,
    );
  }
  log(message: unknown, ...rest: unknown[]): void {
    this.push('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.push('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.push('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.push('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.push('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.push('fatal', message, rest);
  }
}
