import { errorName } from '../../src/win32/winsock-error';

describe('Winsock error names', () => {
  it.each([
    [10022, 'WSAEINVAL'],
    [10038, 'WSAENOTSOCK'],
    [10044, 'WSAESOCKTNOSUPPORT'],
    [10035, 'WSAEWOULDBLOCK'],
    [6, 'ERROR_INVALID_HANDLE'],
  ])('names %i %s, as the SDK does', (errno, name) => {
    expect(errorName(errno)).toBe(name);
  });

  it('falls back to WIN32_ERROR_<n> for numbers it does not know', () => {
    expect(errorName(424242)).toBe('WIN32_ERROR_424242');
  });
});
