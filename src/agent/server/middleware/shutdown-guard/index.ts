export { shutdownGuard, type ShutdownGuardOptions } from './shutdown-guard.ts';
