import { parseTemplate, resolveEnvPlaceholders, unknownPlaceholders } from '../../../src/config/placeholders';

describe('transform placeholders', () => {
  it.each([
    ['plain text', 'tracseq', []],
    ['every known placeholder', '${request.id} ${client.ip} ${route.name} ${service.name} ${user.sub} ${env.SITE}', []],
    ['an unknown name', 'x-${request.user}', ['request.user']],
    ['an expression', '${1+1}', ['1+1']],
    ['an env name that is not a variable name', '${env.1BAD}', ['env.1BAD']],
  ])('%s', (_what, value, unknown) => {
    expect(unknownPlaceholders(value)).toEqual(unknown);
  });

  it('splits literal text from request placeholders once, so a request only concatenates', () => {
    expect(parseTemplate('id=${request.id};route=${route.name}')).toEqual([{ text: 'id=' }, { placeholder: 'request.id' }, { text: ';route=' }, { placeholder: 'route.name' }]);
    expect(parseTemplate('constant')).toEqual([{ text: 'constant' }]);
  });

  it('fills ${env.NAME} at load time, empty when unset, leaving request placeholders alone', () => {
    expect(resolveEnvPlaceholders('${env.SITE}-${env.NOPE}-${request.id}', { SITE: 'uppsala' })).toBe('uppsala--${request.id}');
  });
});
