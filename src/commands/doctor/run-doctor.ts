import { ExitCode } from '../../errors.ts';
import { experimentUrl } from '../../mlflow/ui-links.ts';
import { CheckList, type Asked, type CheckResult, type DoctorInput } from './checks/check.ts';
import { configCheck, type ConfigFound } from './checks/config.ts';
import { credentialsCheck, type CredentialsFound } from './checks/credentials.ts';
import { experimentCheck, type ExperimentFound } from './checks/experiment.ts';
import { exportPathCheck, type ExportPathFound, type ExportRoute } from './checks/export-path.ts';
import { reachableCheck } from './checks/reachable.ts';
import { readBackCheck, type ReadBackFound } from './checks/read-back.ts';
import { sendCheck, type Backlog, type DoctorTrace, type SendFound } from './checks/send.ts';
import { serverCheck, type ServerFound } from './checks/server.ts';

export interface DoctorReport {
  ok: boolean;
  exitCode: ExitCode;
  checks: CheckResult[];
  destination: string;
  serverVersion?: string;
  experiment?: { id: string; name?: string; url?: string };
  /** How the test traces went: `otlp` or `rest` into MLflow, `unity-catalog`, `collector`, or `local`. */
  exportRoute?: ExportRoute;
  /** Local-only mode (nothing configured): where the test traces were kept. */
  localStore?: string;
  /** Of doctor's test traces: delivered (or kept, locally), still pending on disk, refused. */
  export?: { exported: number; pending: number; failed: number };
  /** What else waits in the store and the spool, found when the test traces were sent. */
  backlog?: Backlog;
  traces: DoctorTrace[];
}

/** Everything doctor's checks can find, each part added by one check; a report holds what the checks that ran found. */
type Found = Asked & ConfigFound & ServerFound & CredentialsFound & ExperimentFound & ExportPathFound & SendFound & ReadBackFound;

/**
 * Doctor's checks in order, each reading what the ones before it found. The destination's steps
 * (run, experiment, route) are checks of their own, in the resolver's order.
 */
const CHECKS: CheckList<Asked, Found> = CheckList.startingWith<Asked>()
  .followedBy(configCheck)
  .followedBy(reachableCheck)
  .followedBy(serverCheck)
  .followedBy(credentialsCheck)
  .followedBy(experimentCheck)
  .followedBy(exportPathCheck)
  .followedBy(sendCheck)
  .followedBy(readBackCheck);

/**
 * Runs doctor's checks. Each passes, warns, fails, or is skipped because an earlier one it depends on
 * failed. The library reports through `input.reporter` and returns everything; it never prints.
 */
export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  const { results, found } = await CHECKS.run({ input }, input.reporter);
  return reportOf(results, found);
}

function reportOf(checks: CheckResult[], found: Partial<Found>): DoctorReport {
  const failed = checks.find((c) => c.status === 'fail');
  const { where, sendTo } = found;
  const readBack = new Map((found.readBack ?? []).map((trace) => [trace.traceId, trace]));
  const experiment = (sendTo?.kind === 'mlflow' || sendTo?.kind === 'databricks') && {
    id: sendTo.experiment.experiment.experimentId,
    name: sendTo.experiment.experiment.name,
    url: experimentUrl(sendTo.target, sendTo.experiment.experiment.experimentId),
  };
  return {
    ok: failed === undefined,
    exitCode: failed?.exitCode ?? (failed ? ExitCode.internal : ExitCode.ok),
    checks,
    destination: found.config?.destination.kind ?? 'local',
    ...(found.server && { serverVersion: found.server.version }),
    ...(experiment && { experiment }),
    ...(found.exportRoute && { exportRoute: found.exportRoute }),
    ...(where?.kind === 'local' && { localStore: where.storeDir }),
    ...(found.export && { export: found.export }),
    ...(found.backlog && { backlog: found.backlog }),
    traces: (found.traces ?? []).map((trace) => ({ ...trace, ...readBack.get(trace.traceId) })),
  };
}
