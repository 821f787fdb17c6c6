import { spawnSync } from 'node:child_process';

/** Makes the Node that runs the bin look like Node 20, as a system Node under `npm link` may be. */
const AS_NODE_20 = `data:text/javascript,${encodeURIComponent("Object.defineProperty(process.versions, 'node', { value: '20.19.0' });")}`;

/**
 * What runs the bin as a Node older than the project needs, so that it re-runs the command with the
 * Node that comes with the package: the machine's own old Node (the system Node 20 the README names)
 * when it has one, else this Node told that it is 20.
 */
export function oldNode(): { argv: string[]; description: string } {
  const onPath = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout?.split('\n') ?? [];
  for (const candidate of new Set(['/usr/bin/node', ...onPath.filter(Boolean)])) {
    const version = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.trim();
    if (version && isOlderThanNeeded(version)) return { argv: [candidate], description: `${candidate} (v${version})` };
  }
  return { argv: [process.execPath, '--import', AS_NODE_20], description: 'this Node, told that it is v20.19.0 (no older Node here)' };
}

function isOlderThanNeeded(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major < 22 || (major === 22 && minor < 15);
}
