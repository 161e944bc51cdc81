import { setResponseHeader } from '../../../lib/utils/http-response.util';
import { contextFor } from '../../support/execution-context';

class Handlers {
  open() {}
}
const withResponse = (response: object) =>
  contextFor('http', Handlers, Handlers.prototype.open, {}, response).context;

describe('setResponseHeader', () => {
  it('uses header() where the response has it (Express response, Fastify reply)', () => {
    const header = jest.fn();
    const setHeader = jest.fn();
    setResponseHeader(withResponse({ header, setHeader }), 'Retry-After', '1');
    expect(header).toHaveBeenCalledWith('Retry-After', '1');
    expect(setHeader).not.toHaveBeenCalled();
  });

  it('falls back to setHeader() on a plain Node response', () => {
    const setHeader = jest.fn();
    setResponseHeader(withResponse({ setHeader }), 'WWW-Authenticate', 'Bearer');
    expect(setHeader).toHaveBeenCalledWith('WWW-Authenticate', 'Bearer');
  });

  it('does nothing, and does not throw, when the response cannot take headers', () => {
    expect(() => setResponseHeader(withResponse({}), 'Retry-After', '1')).not.toThrow();
    expect(() =>
      setResponseHeader(withResponse({ header: 'not a function' }), 'Retry-After', '1'),
    ).not.toThrow();
  });
});
