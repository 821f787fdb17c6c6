/**
 * A fake MLflow in its own process, so that its work (decoding what serve delivers) is not done on the
 * load generator's event loop. Prints its URL, then serves until killed.
 */
import { startFakeMlflow } from '../test/fakes/fake-mlflow.ts';

const fake = await startFakeMlflow({ version: '3.14.1.dev0' });
process.stdout.write(`fake mlflow at ${fake.url}\n`);
process.once('SIGTERM', () => void fake.close().then(() => process.exit(0)));
