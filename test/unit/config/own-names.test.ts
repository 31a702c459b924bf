import { checkConfigText } from '../../../src/config';

describe('names that are also properties of every object', () => {
  it('a service named "constructor" is a service like any other: defaults filled, routes resolve to it', () => {
    const text = `version: 1
services:
  constructor:
    instances: ["http://127.0.0.1:8081"]
routes:
  - { name: r, path: /r, service: constructor }
`;
    const { problems, config } = checkConfigText('own.yaml', text, {});
    expect(problems).toEqual([]);
    expect(config?.services['constructor' as string].healthCheck).toMatchObject({ enabled: true, interval: '30s' });
  });

  it('a route header named "__proto__" is merged over the defaults as a header, not as a prototype', () => {
    const text = `version: 1
defaults:
  transform: { request: { headers: { set: { X-Lab: "b" } } } }
services:
  samples: { instances: ["http://127.0.0.1:8081"] }
routes:
  - { name: r, path: /r, service: samples, transform: { request: { headers: { set: { __proto__: "c" } } } } }
`;
    const { problems, config } = checkConfigText('own.yaml', text, {});
    expect(problems).toEqual([]);
    const set = config?.routes[0].transform.request?.headers?.set ?? {};
    expect(Object.keys(set)).toEqual(['X-Lab', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(set, '__proto__')?.value).toBe('c');
  });
});
