import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Who holds a lease: this machine, this process, and this deliverer (a process may run several). */
export function leaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * A lease owner known to be gone: a process of this machine that no longer runs. Another machine's
 * owners are never judged; their leases run out on their own.
 */
export function isOwnerGone(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname() || pid === undefined || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

/** The process id of an owner on this machine, for messages ("another otel-mlflow process (pid 123)"). */
export function ownerPid(owner: string): number | undefined {
  const [host, pid] = owner.split(':');
  return host === hostname() && pid !== undefined && /^\d+$/.test(pid) ? Number(pid) : undefined;
}
