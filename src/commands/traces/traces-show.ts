import type { ChalkInstance } from 'chalk';
import type { CommandContext } from '../../cli/context.ts';
import { createPainter, writeJson, writeLine } from '../../cli/output.ts';
import { cutToWidth, formatDuration, formatLabel, formatLocalTime, formatTokens, terminalWidth } from '../../cli/trace-format.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { plural } from '../../util/plural.ts';
import { deliveryJson, describeDelivery } from '../../cli/delivery-state.ts';
import { openConfiguredStore } from '../../pipeline/store/configured-store.ts';
import { buildSpanTree, type SpanTreeNode } from '../../pipeline/store/span-tree.ts';
import { summarizeTrace, summaryJson } from '../../pipeline/store/summarize-trace.ts';
import type { StoredScore } from '../../destination/evaluation-items.ts';
import type { StoredTrace } from '../../pipeline/store/stored-trace.ts';
import { EvaluationStore } from '../../pipeline/store/evaluation-store.ts';
import { decodeJsonAttribute } from '../../tracing/encode-attributes.ts';
import { MlflowAttr } from '../../tracing/mlflow-attributes.ts';
import { commandLine } from '../../invocation.ts';
import type { TracesShowOptions } from './traces-options.ts';

/** Below this, a cut value says too little to be worth a line; the line wraps instead. */
const MIN_VALUE_WIDTH = 24;
const LABEL_WIDTH = 8;

export async function run(ctx: CommandContext, options: TracesShowOptions, args: string[]): Promise<number> {
  const id = args[0] ?? '';
  const { store } = await openConfiguredStore({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });
  let trace: StoredTrace | undefined;
  let scores: StoredScore[] = [];
  try {
    trace = store.reads.get(id);
    if (trace) scores = readScores(store.dir, trace.traceId);
  } finally {
    store.close();
  }
  if (!trace) {
    throw new ExpectedError(`no stored trace matches '${id}' in ${store.dir}`, {
      exitCode: ExitCode.usage,
      hint: `run \`${commandLine('traces list')}\` to see the stored trace ids`,
    });
  }
  const summary = summarizeTrace(trace);
  const tree = buildSpanTree(trace);
  if (ctx.globals.json) {
    const { delivery, ...stored } = trace;
    writeJson(ctx.stdout, {
      ...stored,
      summary: summaryJson(summary),
      delivery: deliveryJson(delivery),
      tree: tree.map(nodeJson),
      scores: scores.map(scoreJson),
    });
    return ExitCode.ok;
  }

  const paint = createPainter(ctx);
  writeLine(ctx.stdout, `${paint.bold(trace.traceId)}  ${summary.rootName}`);
  writeLine(
    ctx.stdout,
    [
      statusText(paint, summary.status),
      formatLocalTime(summary.startTime),
      formatDuration(summary.durationMs),
      plural(summary.spanCount, 'span'),
      ...(summary.tokens ? [formatTokens(summary.tokens)] : []),
    ].join(' · '),
  );
  writeLine(ctx.stdout, describeDelivery(paint, trace.delivery));
  writeLine(ctx.stdout);
  const render = { paint, width: terminalWidth(ctx), full: options.full };
  for (const root of tree) for (const line of renderNode(root, render, '', 'top')) writeLine(ctx.stdout, line);
  if (scores.length > 0) {
    writeLine(ctx.stdout);
    for (const line of scoreLines(paint, scores, render.width)) writeLine(ctx.stdout, line);
  }
  return ExitCode.ok;
}

/** A trace's scores from `suite` (none for a trace no suite judged). */
function readScores(storeDir: string, traceId: string): StoredScore[] {
  const evaluations = EvaluationStore.open(storeDir);
  try {
    return evaluations.scoresOf(traceId);
  } finally {
    evaluations.close();
  }
}

/** Each score as MLflow would show the assessment: name, value, verdict, rationale, who gave it, and whether MLflow has it. */
function scoreLines(paint: ChalkInstance, scores: readonly StoredScore[], width: number): string[] {
  const lines = [paint.bold('scores')];
  for (const score of scores) {
    const verdict = score.passed ? paint.green('pass') : paint.red('fail');
    const where =
      score.state === 'delivered'
        ? paint.green('in MLflow')
        : score.state === 'refused'
          ? paint.red(`refused by MLflow: ${score.lastAnswer ?? ''}`)
          : paint.dim(score.destination ? `waits for MLflow${score.lastAnswer ? `: ${score.lastAnswer}` : ''}` : 'local only');
    lines.push(
      `  ${verdict}  ${paint.bold(score.name)} = ${JSON.stringify(score.value)}  ${paint.dim(`${score.source.type} ${score.source.id}`)}  ${where}`,
    );
    lines.push(`        ${cutToWidth(score.rationale, Math.max(MIN_VALUE_WIDTH, width - 8))}`);
  }
  return lines;
}

function scoreJson(score: StoredScore) {
  return {
    name: score.name,
    value: score.value,
    passed: score.passed,
    rationale: score.rationale,
    source: score.source,
    state: score.state,
    assessmentId: score.assessmentId,
    lastAnswer: score.lastAnswer,
  };
}

interface RenderOptions {
  paint: ChalkInstance;
  width: number;
  full: boolean;
}

function renderNode(node: SpanTreeNode, options: RenderOptions, prefix: string, place: 'top' | 'middle' | 'last'): string[] {
  const { paint } = options;
  const branch = { top: '', middle: '├─ ', last: '└─ ' }[place];
  const head = [
    paint.bold(node.span.name),
    ...(node.spanType ? [paint.cyan(node.spanType)] : []),
    statusText(paint, node.status),
    paint.dim(formatDuration(node.durationMs)),
    ...(node.tokens ? [formatTokens(node.tokens)] : []),
  ].join('  ');
  const lines = [`${paint.dim(prefix + branch)}${head}`];

  const childPrefix = place === 'top' ? prefix : prefix + (place === 'last' ? '   ' : '│  ');
  const bodyPrefix = childPrefix + (node.children.length > 0 ? '│  ' : '   ');
  for (const [label, value] of details(node)) {
    const lead = `${bodyPrefix}${formatLabel(label, LABEL_WIDTH)}`;
    if (options.full) {
      const [first = '', ...rest] = value.pretty.split('\n');
      lines.push(`${paint.dim(lead)}${first}`, ...rest.map((line) => `${paint.dim(bodyPrefix + ' '.repeat(LABEL_WIDTH))}${line}`));
    } else {
      lines.push(`${paint.dim(lead)}${cutToWidth(value.compact, Math.max(MIN_VALUE_WIDTH, options.width - lead.length))}`);
    }
  }
  node.children.forEach((child, index) => {
    lines.push(...renderNode(child, options, childPrefix, index === node.children.length - 1 ? 'last' : 'middle'));
  });
  return lines;
}

interface ShownValue {
  compact: string;
  pretty: string;
}

/** Inputs, outputs and what went wrong, as MLflow's span panel shows them. */
function details(node: SpanTreeNode): [string, ShownValue][] {
  const attributes = node.span.attributes;
  const out: [string, ShownValue][] = [];
  const input = attributes[MlflowAttr.spanInputs] ?? attributes['gen_ai.input.messages'];
  const output = attributes[MlflowAttr.spanOutputs] ?? attributes['gen_ai.output.messages'];
  if (input !== undefined) out.push(['in', shown(input)]);
  if (output !== undefined) out.push(['out', shown(output)]);
  if (node.span.status.code === 2 && node.span.status.message) out.push(['error', shown(node.span.status.message)]);
  for (const event of node.span.events) {
    if (event.name !== 'exception') continue;
    const type = event.attributes['exception.type'];
    const message = event.attributes['exception.message'];
    out.push([
      'raised',
      shown(
        [type, message]
          .filter((part) => part !== undefined)
          .map(String)
          .join(': '),
      ),
    ]);
  }
  return out;
}

function shown(value: unknown): ShownValue {
  const parsed = typeof value === 'string' ? decodeJsonAttribute(value) : value;
  if (parsed === undefined || typeof parsed === 'string') {
    const text = typeof parsed === 'string' ? parsed : String(value);
    return { compact: text, pretty: text };
  }
  return { compact: JSON.stringify(parsed), pretty: JSON.stringify(parsed, null, 2) };
}

function statusText(paint: ChalkInstance, status: string): string {
  return status === 'ERROR' ? paint.red(status) : status === 'OK' ? paint.green(status) : paint.dim(status);
}

function nodeJson(node: SpanTreeNode): unknown {
  return {
    spanId: node.span.spanId,
    name: node.span.name,
    spanType: node.spanType ?? null,
    status: node.status,
    durationMs: node.durationMs,
    tokens: node.tokens ?? null,
    children: node.children.map(nodeJson),
  };
}
