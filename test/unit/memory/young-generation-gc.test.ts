import { collectYoungGeneration } from '../../../src/memory/young-generation-gc';
import { minorCollectionsDuring } from '../../helpers/gc';

describe('collectYoungGeneration', () => {
  it('runs a young-generation collection without leaving a global gc behind', async () => {
    const minor = await minorCollectionsDuring(() => {
      expect(collectYoungGeneration()).toBe(true);
      expect(collectYoungGeneration()).toBe(true);
    });
    expect(minor).toBeGreaterThanOrEqual(2);
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
  });
});
