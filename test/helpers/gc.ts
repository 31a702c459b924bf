import { constants, PerformanceObserver } from 'node:perf_hooks';

type GcEntry = { detail: { kind: number } };

/** Minor (young-generation) collections in this process while `work` runs. */
export async function minorCollectionsDuring(work: () => Promise<void> | void): Promise<number> {
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if ((entry as unknown as GcEntry).detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    await work();
    await new Promise((resolve) => setTimeout(resolve, 50)); // gc entries arrive asynchronously
  } finally {
    observer.disconnect();
  }
  return minor;
}
