// Types of crash-kit.mjs, for test/faults/crash.test.ts.
export const CLI: string;
export interface CrashProject {
  dir: string;
  reset(): void;
  unlock(): void;
  close(): void;
}
export interface CliRun {
  code: number | null;
  out: string;
}
export function crashProject(): Promise<CrashProject>;
export function run(args: string[], cwd: string): Promise<CliRun>;
export function temps(dir: string): string[];
export function killDuring(args: string[], dir: string, o: { at: number; when?: (dir: string) => boolean }): Promise<boolean>;
export function checkAfterKill(
  dir: string,
  rerun?: string[],
  o?: { lockFirst?: boolean },
): Promise<{ ok: boolean; verify: CliRun; findings: number; again: CliRun; left: string[] }>;
