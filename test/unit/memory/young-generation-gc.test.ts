import { constants, PerformanceObserver } from 'node:perf_hooks';
import { collectYoungGeneration } from '../../../src/memory/young-generation-gc';

describe('collectYoungGeneration', () => {
  it('runs a young-generation collection without leaving a global gc behind', async () => {
    const kinds: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) kinds.push((entry as unknown as { detail: { kind: number } }).detail.kind);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      expect(collectYoungGeneration()).toBe(true);
      expect(collectYoungGeneration()).toBe(true);
      // gc entries are delivered asynchronously
      for (let i = 0; i < 50 && kinds.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    } finally {
      observer.disconnect();
    }
    expect(kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MINOR).length).toBeGreaterThanOrEqual(2);
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
  });
});
