/**
 * Fault scenarios known to fail on the current code, each with the defect that makes it fail. The runner
 * expects exactly these to fail (`it.failing`), so a fix turns its row red until its id is removed
 * here; a case found failing is listed here, with its reason, only while its fix is under way.
 */
export const PENDING_FAULTS: ReadonlyMap<string, string> = new Map<string, string>([]);
