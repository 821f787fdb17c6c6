import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSource } from '../../src/config/mask.ts';
import { createTempProject, type TempProject } from './temp-project.ts';

const URI = 'http://127.0.0.1:5000';

const FLAVOURS: [file: string, text: string][] = [
  ['package.json', JSON.stringify({ name: 'app', 'otel-mlflow': { trackingUri: URI } })],
  ['.otel-mlflowrc', `trackingUri: ${URI}\n`],
  ['.otel-mlflowrc.json', JSON.stringify({ trackingUri: URI })],
  ['.otel-mlflowrc.yaml', `trackingUri: "${URI}"\n`],
  ['.otel-mlflowrc.yml', `trackingUri: ${URI}\n`],
  ['otel-mlflow.config.js', `export default { trackingUri: '${URI}' };\n`],
  ['otel-mlflow.config.mjs', `export default { trackingUri: '${URI}' };\n`],
  // Type annotations prove the file goes through Node's type stripping, not a plain JS import.
  [
    'otel-mlflow.config.ts',
    `interface Settings { trackingUri: string }\nconst settings: Settings = { trackingUri: '${URI}' };\nexport default settings satisfies Settings;\n`,
  ],
];

async function withProject(run: (project: TempProject) => Promise<void>) {
  const project = createTempProject();
  try {
    await run(project);
  } finally {
    await project.remove();
  }
}

describe('config file', () => {
  for (const [file, text] of FLAVOURS) {
    it(`is found as ${file}`, () =>
      withProject(async (project) => {
        const path = await project.write(file, text);
        const config = await project.load();
        assert.equal(config.destination.kind, 'mlflow');
        assert.equal(config.destination.trackingUri.value, URI);
        const key = file === 'package.json' ? 'otel-mlflow.trackingUri' : 'trackingUri';
        assert.equal(describeSource(config.destination.trackingUri.source), `config file ${path} key ${key}`);
        assert.equal(config.files.configFile, path);
      }));
  }

  it('ignores a package.json without an otel-mlflow key', () =>
    withProject(async (project) => {
      await project.write('package.json', JSON.stringify({ name: 'app' }));
      const config = await project.load();
      assert.equal(config.files.configFile, undefined);
    }));

  it('loads exactly the file given by --config, relative to the working directory', () =>
    withProject(async (project) => {
      await project.write('.otel-mlflowrc.json', JSON.stringify({ trackingUri: 'http://found.example.com' }));
      const path = await project.write('conf/custom.yaml', `trackingUri: ${URI}\nexportPath: rest\n`);
      const config = await project.load({ flags: { config: 'conf/custom.yaml' } });
      assert.equal(config.files.configFile, path);
      assert.equal(config.exportPath.value, 'rest');
    }));

  it('refuses a --config file that does not exist', () =>
    withProject(async (project) => {
      const error = await project.loadError({ flags: { config: 'nope.json' } });
      assert.deepEqual(error.problems, [{ message: `config file ${project.cwd}/nope.json does not exist`, source: 'flag --config' }]);
    }));

  it('refuses unknown keys and names the known ones', () =>
    withProject(async (project) => {
      const path = await project.write('.otel-mlflowrc.json', JSON.stringify({ trackingURI: URI }));
      const error = await project.loadError();
      assert.equal(error.problems.length, 1);
      assert.equal(error.problems[0]!.source, `config file ${path}`);
      assert.match(error.problems[0]!.message, /^unknown key trackingURI; known keys: trackingUri, ucTable, otlpEndpoint, /);
    }));

  it('refuses secrets, which belong in the environment or .env', () =>
    withProject(async (project) => {
      await project.write('.otel-mlflowrc.json', JSON.stringify({ databricksToken: 'dapi-in-a-committed-file' }));
      const error = await project.loadError();
      assert.match(
        error.message,
        /databricksToken cannot be set in a config file \(config files get committed\); set DATABRICKS_TOKEN in the environment or \.env/,
      );
      assert.doesNotMatch(error.message, /dapi-in-a-committed-file/);
    }));

  // V8 gives a position for some JSON errors and a snippet of the text for others; only the position is kept.
  it('says a JSON file is broken without quoting it', () =>
    withProject(async (project) => {
      const path = await project.write('.otel-mlflowrc.json', '{\n  "trackingUri": "http://x",\n  "secret": sk-live-abcdef\n}');
      const error = await project.loadError();
      assert.equal(error.problems.length, 1);
      assert.match(error.problems[0]!.message, new RegExp(`^config file ${path} is not valid JSON( \\(line \\d+ column \\d+\\))?$`));
      assert.doesNotMatch(error.message, /sk-live/);
    }));

  it('says where a JSON file is broken when the parser knows', () =>
    withProject(async (project) => {
      await project.write('.otel-mlflowrc.json', '{\n  "trackingUri": "http://x",\n}');
      const error = await project.loadError();
      assert.match(error.message, /is not valid JSON \(line 3 column 1\)/);
    }));

  it('says where a YAML file is broken without quoting it', () =>
    withProject(async (project) => {
      await project.write('.otel-mlflowrc.yaml', 'trackingUri: http://x\n  bad: [sk-live-abcdef\n');
      const error = await project.loadError();
      assert.match(error.message, /is not valid YAML \(line \d+ column \d+\)/);
      assert.doesNotMatch(error.message, /sk-live/);
    }));

  it('refuses a file whose settings are not an object', () =>
    withProject(async (project) => {
      await project.write('.otel-mlflowrc.json', '["http://x"]');
      const error = await project.loadError();
      assert.match(error.message, /must hold an object of settings, but it holds an array/);
    }));

  it('takes numbers and maps where they make sense', () =>
    withProject(async (project) => {
      await project.write('.otel-mlflowrc.yaml', 'experimentId: 12345\nresourceAttributes:\n  team: ml\n  tier: 2\n');
      const config = await project.load();
      assert.equal(config.experiment.kind, 'id');
      assert.equal(config.experiment.id.value, '12345');
      assert.deepEqual(config.resourceAttributes.value, { team: 'ml', tier: '2' });
    }));
});
