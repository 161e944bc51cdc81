import type { ExecutionContext } from '@nestjs/common';

interface HeaderWritable {
  header?: (name: string, value: string) => unknown;
  setHeader?: (name: string, value: string) => unknown;
}

/** Sets a response header on Express (`res.header`), Fastify (`reply.header`) or plain Node. */
export function setResponseHeader(context: ExecutionContext, name: string, value: string): void {
  const response = context.switchToHttp().getResponse<HeaderWritable | undefined>();
  if (typeof response?.header === 'function') response.header(name, value);
  else if (typeof response?.setHeader === 'function') response.setHeader(name, value);
}
