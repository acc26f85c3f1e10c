// Vitest global setup of the e2e suite: before and after the run (in the main process, which
// outlives crashed workers), kill code-servers and delete folders that dead test processes left.
import { reapOrphans } from './owned-temp';

export default function setup(): () => void {
  report(reapOrphans());
  return () => report(reapOrphans());
}

function report(reaped: string[]): void {
  if (reaped.length > 0) console.warn(`e2e: cleaned up after dead test processes: ${reaped.join(', ')}`);
}
